//! A pack as a project: the manifest (`tripline.toml`) found by walking up
//! from any path given, as cargo finds `Cargo.toml`; the rule files of the
//! whole pack, so that one file checks and tests with the pack's lists and
//! names; the files the user named (the focus of the command); and the
//! site overlay, a folder of lists and `site.toml` that replace the pack's
//! by name without touching the pack.

pub mod lock;
pub mod manifest;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::check::{CheckSettings, TaxonomyExtension};
use crate::diag::Diagnostic;
use crate::ir::PackSettings;
use crate::source::{self, LoadError, Loop, SourceMap};

pub use manifest::{MANIFEST, Manifest, SITE_SETTINGS, SiteSettings};

/// The files one run reads, and what the manifest and the site say.
#[derive(Debug, Default)]
pub struct Layout {
    pub manifest: Option<Manifest>,
    pub site: Option<SiteSettings>,
    /// Every rule file of the pack (the given paths without a manifest).
    pub rule_files: Vec<PathBuf>,
    /// Canonical paths of the files the user named, when they are not the
    /// whole pack: commands report and run only their rules.
    pub focus: Option<HashSet<PathBuf>>,
    /// The site's list files.
    pub site_files: Vec<PathBuf>,
    /// The site folder, when a site is in use.
    pub site_folder: Option<PathBuf>,
    /// Symlink loops skipped while walking folders.
    pub loops: Vec<Loop>,
    /// Problems in the manifest and `site.toml`.
    pub diagnostics: Vec<Diagnostic>,
}

/// Finds the pack of `given` (paths of files or folders) and its site
/// (`site`, from `--site`, wins over the manifest's). Manifests and
/// `site.toml` are added to `map`.
pub fn discover(
    map: &mut SourceMap,
    given: &[PathBuf],
    site: Option<&Path>,
) -> Result<Layout, LoadError> {
    let mut layout = Layout::default();
    let named = source::find(given)?;
    layout.loops.extend(named.loops);
    let Some(manifest_path) = one_manifest(given)? else {
        layout.rule_files = named.files;
        load_site(map, &mut layout, site)?;
        return Ok(layout);
    };
    let (file, _) = source::load(map, &manifest_path)?;
    let root = match manifest_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let manifest =
        manifest::manifest(map, file, &root, &mut layout.diagnostics).unwrap_or(Manifest {
            file,
            rules: vec![root.clone()],
            root,
            ..Manifest::default()
        });
    let existing: Vec<PathBuf> = manifest
        .rules
        .iter()
        .filter(|p| p.exists())
        .cloned()
        .collect();
    let whole = source::find(&existing)?;
    layout.loops.extend(whole.loops);
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut files = Vec::new();
    for path in whole.files.into_iter().chain(named.files.iter().cloned()) {
        if seen.insert(canonical(&path)) {
            files.push(path);
        }
    }
    let focus: HashSet<PathBuf> = named.files.iter().map(|p| canonical(p)).collect();
    if focus.len() < files.len() {
        layout.focus = Some(focus);
    }
    layout.rule_files = files;
    let site = site
        .map(Path::to_path_buf)
        .or_else(|| manifest.site.clone());
    layout.manifest = Some(manifest);
    load_site(map, &mut layout, site.as_deref())?;
    Ok(layout)
}

/// The site folder's list files and `site.toml`.
fn load_site(
    map: &mut SourceMap,
    layout: &mut Layout,
    site: Option<&Path>,
) -> Result<(), LoadError> {
    let Some(folder) = site else {
        return Ok(());
    };
    let found = source::find(&[folder.to_path_buf()])?;
    layout.loops.extend(found.loops);
    layout.site_files = found.files;
    layout.site_folder = Some(folder.to_path_buf());
    let settings = folder.join(SITE_SETTINGS);
    if settings.is_file() {
        let (file, _) = source::load(map, &settings)?;
        layout.site = manifest::site(map, file, &mut layout.diagnostics);
    } else {
        layout.site = Some(SiteSettings::default());
    }
    Ok(())
}

/// A site's filters that name no rule of the pack (`names`: every rule
/// declared in the pack's files, checked or not), each with the nearest
/// rule name.
pub fn unknown_filter_rules<'n>(
    site: &SiteSettings,
    names: impl Iterator<Item = &'n str> + Clone,
) -> Vec<Diagnostic> {
    let Some(file) = site.file else {
        return Vec::new();
    };
    site.splunk_filters
        .iter()
        .filter(|(rule, _)| !names.clone().any(|n| n == rule.node))
        .map(|(rule, _)| {
            let help = match crate::diag::nearest(&rule.node, names.clone()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "each key under [targets.splunk.filters] is the name of a rule of the pack"
                    .to_string(),
            };
            Diagnostic::error(
                crate::diag::codes::SITE_FILTER_UNKNOWN_RULE,
                file,
                rule.span,
                format!("no rule `{}` in the pack", rule.node),
            )
            .with_label("not a rule of the pack")
            .with_help(help)
        })
        .collect()
}

/// The manifest of the given paths: none, or the same one for all.
fn one_manifest(given: &[PathBuf]) -> Result<Option<PathBuf>, LoadError> {
    let mut manifests = given.iter().map(|path| manifest_above(path));
    let Some(first) = manifests.next().flatten() else {
        return match manifests.flatten().next() {
            Some(second) => Err(two_packs(None, second)),
            None => Ok(None),
        };
    };
    for here in manifests {
        match here {
            Some(here) if canonical(&here) == canonical(&first) => {}
            other => return Err(two_packs(Some(first), other.unwrap_or_default())),
        }
    }
    Ok(Some(first))
}

fn two_packs(first: Option<PathBuf>, second: PathBuf) -> LoadError {
    let named = |path: Option<PathBuf>| match path {
        Some(path) if !path.as_os_str().is_empty() => path,
        _ => PathBuf::from("(files outside any pack)"),
    };
    LoadError::TwoPacks {
        first: named(first),
        second: named(Some(second)),
    }
}

/// The nearest `tripline.toml` in `path`'s folder or above, as a path in
/// the user's terms (relative when `path` is): `rules/t1590/x.trip` finds
/// `rules/tripline.toml`.
pub fn manifest_above(path: &Path) -> Option<PathBuf> {
    let mut folder = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    if folder.as_os_str().is_empty() {
        folder = PathBuf::from(".");
    }
    loop {
        let candidate = folder.join(MANIFEST);
        if candidate.is_file() {
            return Some(candidate);
        }
        std::fs::canonicalize(&folder).ok()?.parent()?;
        folder = match folder.parent() {
            _ if folder == Path::new(".") => PathBuf::from(".."),
            _ if folder.ends_with("..") => folder.join(".."),
            Some(parent) if parent.as_os_str().is_empty() => PathBuf::from("."),
            Some(parent) => parent.to_path_buf(),
            None => return None,
        };
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Layout {
    /// Whether the command reports on (and runs) this file.
    pub fn in_focus(&self, path: &Path) -> bool {
        self.focus
            .as_ref()
            .is_none_or(|focus| focus.contains(&canonical(path)))
    }

    /// What the checker needs from the manifest.
    pub fn check_settings(&self) -> CheckSettings {
        let mut settings = CheckSettings::default();
        if let Some(manifest) = &self.manifest {
            settings.every = manifest.every.unwrap_or(settings.every);
            settings.delay = manifest.delay.unwrap_or(settings.delay);
            settings.taxonomy = manifest
                .taxonomy
                .iter()
                .map(|path| TaxonomyExtension {
                    path: path.node.clone(),
                    named_in: manifest.file,
                    span: path.span,
                })
                .collect();
            settings.alert = manifest.alert.clone();
        }
        if let Some(site) = &self.site {
            settings.alert = settings.alert.overlaid(&site.alert);
        }
        settings
    }

    /// The pack-wide settings the targets read: the site's over the
    /// manifest's, key by key.
    pub fn pack_settings(&self) -> PackSettings {
        let manifest = self.manifest.as_ref();
        let site = self.site.as_ref();
        let enabled = site
            .and_then(|s| s.enabled.clone())
            .or_else(|| manifest.and_then(|m| m.enabled.clone()))
            .unwrap_or_default();
        let splunk = |pick: fn(&manifest::SplunkSettings) -> Option<String>| {
            site.and_then(|s| pick(&s.splunk))
                .or_else(|| manifest.and_then(|m| pick(&m.splunk)))
        };
        PackSettings {
            enabled,
            name: manifest.map(|m| m.name.clone()).filter(|n| !n.is_empty()),
            splunk_app: splunk(|s| s.app.clone()),
            splunk_version: splunk(|s| s.version.clone()),
            splunk_filters: site
                .map(|s| {
                    s.splunk_filters
                        .iter()
                        .map(|(rule, definition)| (rule.node.clone(), definition.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            rule_versions: Default::default(),
        }
    }
}

/// Whether a rule name matches a pattern of `test --filter` or `enabled`:
/// a glob when it holds `*` (any run of characters) or `?` (one), which
/// must then match the whole name; otherwise a part of the name.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return name.contains(pattern);
    }
    glob(pattern.as_bytes(), name.as_bytes())
}

/// Iterative glob match with one backtrack point (the last `*`).
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn filters_are_globs_with_wildcards_and_parts_without() {
        let cases = [
            ("dns", "dns_zone_transfer_from_outside", true),
            ("zone", "dns_zone_transfer_from_outside", true),
            ("dns_*", "dns_zone_transfer_from_outside", true),
            ("*_outside", "dns_zone_transfer_from_outside", true),
            ("dns_*", "icmp_sweep_from_outside", false),
            ("*zone*", "dns_zone_transfer_from_outside", true),
            ("icmp_sweep_from_outsid?", "icmp_sweep_from_outside", true),
            ("icmp", "dns_zone_transfer_from_outside", false),
            ("*", "anything", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(name_matches(pattern, name), expected, "{pattern} ~ {name}");
        }
    }
}
