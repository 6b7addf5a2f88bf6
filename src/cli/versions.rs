//! How `build` fixes the content versions of a pack with a manifest: it
//! generates the Splunk app and the Sentinel rules once with every version
//! at `0.0.0` (so the hash never depends on the version itself), hashes
//! each rule's Sentinel document and the whole app, and sets the versions
//! `tripline.lock` and the manifest give (`pack::lock`). A build of part of
//! a pack versions its rules only, never the app.

use super::pipeline::Loaded;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, codes};
use crate::emit::{self, TargetName};
use crate::ir::Pack;
use crate::pack::Manifest;
use crate::pack::lock::{self, Entry, Lock, LockFile};

/// The lock before and after this build (`old` and `new`: this build's
/// table of it).
pub struct Versions {
    pub path: PathBuf,
    pub file: LockFile,
    pub key: String,
    pub old: Lock,
    pub new: Lock,
}

impl Versions {
    pub fn changed(&self) -> bool {
        self.old != self.new
    }

    /// The lock file with this build's table updated.
    pub fn render(&self) -> String {
        let mut file = self.file.clone();
        file.builds.insert(self.key.clone(), self.new.clone());
        file.render()
    }

    /// E0905 for each entry whose version moved or is new (`--locked`).
    pub fn stale(&self, pack: &Pack, manifest: &Manifest) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        for rule in &pack.rules {
            let (old, new) = (
                self.old.rules.get(&rule.name),
                self.new.rules.get(&rule.name),
            );
            if old != new
                && let Some(new) = new
            {
                found.push(stale(
                    rule.file,
                    rule.span,
                    &format!("rule `{}`", rule.name),
                    old,
                    new,
                ));
            }
        }
        if self.old.splunk != self.new.splunk
            && let Some(new) = &self.new.splunk
        {
            let at = crate::syntax::Span::new(0, 0);
            found.push(stale(
                manifest.file,
                at,
                "the Splunk app",
                self.old.splunk.as_ref(),
                new,
            ));
        }
        found
    }
}

fn stale(
    file: crate::source::FileId,
    span: crate::syntax::Span,
    what: &str,
    old: Option<&Entry>,
    new: &Entry,
) -> Diagnostic {
    let message = match old {
        Some(old) => format!(
            "{what} changed since {} recorded version {}",
            lock::LOCK,
            old.version
        ),
        None => format!("{what} is not in {}", lock::LOCK),
    };
    Diagnostic::error(codes::STALE_LOCK, file, span, message).with_help(format!(
        "run `tripline build` without `--locked` to ship it as {} and update {}",
        new.version,
        lock::LOCK
    ))
}

/// Sets `pack.settings` versions from the lock beside `manifest`, for the
/// targets built; `None` when neither Splunk nor Sentinel is built. A
/// build with a site keeps its versions in the site's own lock (which
/// starts from the pack's), so that a site's lists and settings never
/// move the versions the pack ships.
pub fn fix(
    pack: &mut Pack,
    loaded: &Loaded,
    targets: &[TargetName],
    targets_dir: Option<&Path>,
    mapping: &str,
) -> Result<Option<Versions>, Box<dyn std::error::Error>> {
    let Some(manifest) = &loaded.manifest else {
        return Ok(None);
    };
    let versioned: Vec<TargetName> = targets
        .iter()
        .copied()
        .filter(|t| matches!(t, TargetName::Splunk | TargetName::Kql))
        .collect();
    if versioned.is_empty() {
        return Ok(None);
    }
    let pack_lock = manifest.root.join(lock::LOCK);
    let (path, file) = match loaded.site_folder.as_deref() {
        Some(site) if site.join(lock::LOCK).is_file() => {
            let path = site.join(lock::LOCK);
            let file = LockFile::read(&path)?;
            (path, file)
        }
        Some(site) => (site.join(lock::LOCK), LockFile::read(&pack_lock)?),
        None => (pack_lock.clone(), LockFile::read(&pack_lock)?),
    };
    let key = lock::build_key(mapping, targets_dir.is_some());
    let old = file.builds.get(&key).cloned().unwrap_or_default();
    let mut probe = pack.clone();
    probe.settings.rule_versions = pack
        .rules
        .iter()
        .map(|r| (r.name.clone(), "0.0.0".to_string()))
        .collect();
    probe.settings.splunk_version = Some("0.0.0".to_string());
    let built = emit::emit_all(&versioned, &probe, targets_dir, mapping, &loaded.taxonomy)?;
    let mut new = old.clone();
    for (target, emitted) in &built {
        match target {
            TargetName::Kql => {
                for rule in &pack.rules {
                    let name = format!("{}.yaml", rule.name);
                    let Some(document) = emitted.documents.iter().find(|d| d.path == name) else {
                        continue;
                    };
                    let hash = lock::content_hash([document.text.as_bytes()]);
                    let base = rule.meta.version.as_deref().unwrap_or(lock::FIRST_VERSION);
                    let version = lock::next_version(base, old.rules.get(&rule.name), &hash);
                    new.rules.insert(rule.name.clone(), Entry { version, hash });
                }
            }
            TargetName::Splunk if !loaded.partial => {
                let hash = lock::content_hash(
                    emitted
                        .documents
                        .iter()
                        .flat_map(|d| [d.path.as_bytes(), d.text.as_bytes()]),
                );
                let base = pack
                    .settings
                    .splunk_version
                    .clone()
                    .or_else(|| manifest.version.clone())
                    .unwrap_or_else(|| lock::FIRST_VERSION.to_string());
                let version = lock::next_version(&base, old.splunk.as_ref(), &hash);
                new.splunk = Some(Entry { version, hash });
            }
            _ => {}
        }
    }
    for (name, entry) in &new.rules {
        pack.settings
            .rule_versions
            .insert(name.clone(), entry.version.clone());
    }
    if let Some(splunk) = &new.splunk {
        pack.settings.splunk_version = Some(splunk.version.clone());
    }
    Ok(Some(Versions {
        path,
        file,
        key,
        old,
        new,
    }))
}
