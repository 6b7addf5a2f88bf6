//! `tripline.toml`, the pack manifest, and a site's `site.toml`: read with
//! serde from TOML whose values keep their spans, so that every problem (a
//! TOML syntax error, an unknown key, a value of the wrong type or form) is
//! a diagnostic at the manifest's line and column, with a did-you-mean for
//! keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned as TomlSpanned;

use crate::check::{AlertDefaults, LevelDefaults};
use crate::diag::{Diagnostic, codes, nearest};
use crate::ir::Level;
use crate::source::{FileId, SourceMap};
use crate::syntax::{Span, Spanned};

/// The manifest's file name, looked for in each folder up from a path.
pub const MANIFEST: &str = "tripline.toml";
/// The settings file of a site folder.
pub const SITE_SETTINGS: &str = "site.toml";

type Value<T> = TomlSpanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    pack: RawPack,
    #[serde(default)]
    targets: RawTargets,
    #[serde(default)]
    alert: RawAlert,
    #[serde(default)]
    eval: RawEval,
}

/// `[eval.routes]`: dataset name → source.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEval {
    #[serde(default)]
    routes: BTreeMap<Value<String>, Value<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    name: Value<String>,
    version: Option<Value<String>>,
    rules: Option<Vec<Value<String>>>,
    every: Option<Value<String>>,
    delay: Option<Value<String>>,
    enabled: Option<Vec<Value<String>>>,
    taxonomy: Option<Vec<Value<String>>>,
    site: Option<Value<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    splunk: Option<RawSplunk>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSplunk {
    app: Option<Value<String>>,
    version: Option<Value<String>>,
}

/// `[alert.defaults.LEVEL]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    #[serde(default)]
    defaults: RawLevels,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevels {
    informational: Option<RawLevel>,
    low: Option<RawLevel>,
    medium: Option<RawLevel>,
    high: Option<RawLevel>,
    critical: Option<RawLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    risk_score: Option<Value<i64>>,
    notable: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    enabled: Option<Vec<Value<String>>>,
    #[serde(default)]
    targets: RawSiteTargets,
    #[serde(default)]
    alert: RawAlert,
}

/// A site's `[targets.splunk]`: the manifest's keys and the rules' filter
/// macros, which only a site sets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSiteTargets {
    splunk: Option<RawSiteSplunk>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSiteSplunk {
    app: Option<Value<String>>,
    version: Option<Value<String>>,
    #[serde(default)]
    filters: BTreeMap<Value<String>, Value<String>>,
}

/// A read manifest, paths resolved against its folder.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// The manifest in the run's source map.
    pub file: FileId,
    /// The folder holding `tripline.toml`.
    pub root: PathBuf,
    pub name: String,
    pub version: Option<String>,
    /// The folders (or files) of rules; the manifest's folder by default.
    pub rules: Vec<PathBuf>,
    /// Defaults for rules that do not say, in seconds.
    pub every: Option<u64>,
    pub delay: Option<u64>,
    pub enabled: Option<Vec<String>>,
    /// Taxonomy extension files, with the span that named each.
    pub taxonomy: Vec<Spanned<PathBuf>>,
    pub site: Option<PathBuf>,
    pub splunk: SplunkSettings,
    /// `[alert.defaults.LEVEL]`.
    pub alert: AlertDefaults,
    /// `[eval.routes]`: dataset names and the source `eval` routes each
    /// to (checked against the taxonomy by `eval`).
    pub routes: Vec<(Spanned<String>, Spanned<String>)>,
}

/// `[targets.splunk]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplunkSettings {
    /// The app's id (its folder name).
    pub app: Option<String>,
    /// The app's version (`X.Y.Z`).
    pub version: Option<String>,
}

/// A site's `site.toml`: what it replaces of the manifest's settings, and
/// the definitions of rules' Splunk filter macros.
#[derive(Debug, Clone, Default)]
pub struct SiteSettings {
    /// The site's `site.toml` in the run's source map, when it has one.
    pub file: Option<FileId>,
    pub enabled: Option<Vec<String>>,
    pub splunk: SplunkSettings,
    pub alert: AlertDefaults,
    /// `[targets.splunk.filters]`: rule name (and where it is written) →
    /// the definition of the rule's `<rule>_filter` macro.
    pub splunk_filters: Vec<(Spanned<String>, String)>,
}

/// The folder of `start` (a file's or a folder's) or the nearest folder
/// above it that holds a manifest.
pub fn find_manifest(start: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(start).ok()?;
    let mut folder = if absolute.is_dir() {
        Some(absolute.as_path())
    } else {
        absolute.parent()
    };
    while let Some(here) = folder {
        let candidate = here.join(MANIFEST);
        if candidate.is_file() {
            return Some(candidate);
        }
        folder = here.parent();
    }
    None
}

/// Reads a manifest added to `map` as `file`; problems go to `out`.
/// `None` when it cannot be used at all (syntax errors, a missing `[pack]`).
pub fn manifest(
    map: &SourceMap,
    file: FileId,
    root: &Path,
    out: &mut Vec<Diagnostic>,
) -> Option<Manifest> {
    let raw: RawManifest = deserialize(map, file, out)?;
    let mut v = Values { file, out };
    let pack = raw.pack;
    let rules = match pack.rules {
        Some(folders) => v.paths(root, folders),
        None => vec![root.to_path_buf()],
    };
    Some(Manifest {
        file,
        root: root.to_path_buf(),
        name: pack.name.into_inner(),
        version: pack.version.and_then(|v_| v.version(v_)),
        rules,
        every: pack.every.and_then(|d| v.duration(d)),
        delay: pack.delay.and_then(|d| v.duration(d)),
        enabled: pack.enabled.map(|globs| v.globs(globs)),
        taxonomy: pack
            .taxonomy
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let span = span_of(&p);
                Spanned::new(root.join(p.into_inner()), span)
            })
            .collect(),
        site: pack.site.map(|p| root.join(p.into_inner())),
        splunk: v.splunk(raw.targets.splunk.unwrap_or_default()),
        alert: v.alert(raw.alert),
        routes: (raw.eval.routes.into_iter())
            .map(|(name, source)| {
                let (name_span, source_span) = (span_of(&name), span_of(&source));
                (
                    Spanned::new(name.into_inner(), name_span),
                    Spanned::new(source.into_inner(), source_span),
                )
            })
            .collect(),
    })
}

/// Reads a site's `site.toml` added to `map` as `file`.
pub fn site(map: &SourceMap, file: FileId, out: &mut Vec<Diagnostic>) -> Option<SiteSettings> {
    let raw: RawSite = deserialize(map, file, out)?;
    let mut v = Values { file, out };
    let splunk = raw.targets.splunk.unwrap_or_default();
    let splunk_filters = splunk
        .filters
        .into_iter()
        .filter_map(|(rule, definition)| {
            let definition = v.filter_definition(definition)?;
            let span = span_of(&rule);
            Some((Spanned::new(rule.into_inner(), span), definition))
        })
        .collect();
    Some(SiteSettings {
        file: Some(file),
        enabled: raw.enabled.map(|globs| v.globs(globs)),
        splunk: v.splunk(RawSplunk {
            app: splunk.app,
            version: splunk.version,
        }),
        alert: v.alert(raw.alert),
        splunk_filters,
    })
}

fn span_of<T>(value: &Value<T>) -> Span {
    let range = value.span();
    Span::new(range.start, range.end)
}

/// TOML into `T`; a syntax error, an unknown key or a wrong type becomes
/// one diagnostic at its span.
fn deserialize<T: DeserializeOwned>(
    map: &SourceMap,
    file: FileId,
    out: &mut Vec<Diagnostic>,
) -> Option<T> {
    let text = &map.get(file).text;
    match toml::from_str::<T>(text) {
        Ok(value) => Some(value),
        Err(err) => {
            let span = err
                .span()
                .map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
            let written = text.get(span.range()).unwrap_or_default();
            out.push(toml_error(file, span, err.message(), written));
            None
        }
    }
}

/// serde's words for an unknown key ("unknown field `evry`, expected one
/// of `every`, ...") become ours, with the nearest known key; a TOML
/// syntax error keeps the parser's message.
fn toml_error(file: FileId, span: Span, message: &str, written: &str) -> Diagnostic {
    let message = message.trim();
    if message == "duplicate key" {
        return Diagnostic::error(
            codes::INVALID_MANIFEST,
            file,
            span,
            format!("key `{written}` is given twice in this table"),
        )
        .with_label("given again here")
        .with_help("keep one of the two");
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let mut parts = rest.split('`');
        let key = parts.next().unwrap_or_default();
        let known: Vec<&str> = parts.skip(1).step_by(2).collect();
        let help = match nearest(key, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None if known.is_empty() => "this table takes no keys".to_string(),
            None => format!("the keys here are {}", quoted(&known)),
        };
        return Diagnostic::error(
            codes::UNKNOWN_MANIFEST_KEY,
            file,
            span,
            format!("unknown key `{key}`"),
        )
        .with_label("not a manifest key")
        .with_help(help);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return Diagnostic::error(
            codes::MANIFEST_VALUE,
            file,
            span,
            format!("missing key `{key}`"),
        )
        .with_help(format!("add `{key} = ...` to this table (docs/packs.md)"));
    }
    let code = if message.starts_with("invalid type") {
        codes::MANIFEST_VALUE
    } else {
        codes::INVALID_MANIFEST
    };
    Diagnostic::error(code, file, span, message.to_string())
}

fn quoted(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    quoted.join(", ")
}

/// Checks the form of values whose type TOML already checked.
struct Values<'a> {
    file: FileId,
    out: &'a mut Vec<Diagnostic>,
}

impl Values<'_> {
    fn bad(&mut self, span: Span, message: String, help: &str) {
        self.out.push(
            Diagnostic::error(codes::MANIFEST_VALUE, self.file, span, message)
                .with_help(help.to_string()),
        );
    }

    fn duration(&mut self, value: Value<String>) -> Option<u64> {
        let span = span_of(&value);
        match crate::syntax::duration_seconds(value.get_ref()) {
            Ok(seconds) => Some(seconds),
            Err(help) => {
                let message = format!("expected a duration like `5m`, found `{}`", value.get_ref());
                self.bad(span, message, help);
                None
            }
        }
    }

    /// `rules` entries that exist, resolved against the manifest's folder.
    fn paths(&mut self, root: &Path, paths: Vec<Value<String>>) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for path in paths {
            let resolved = root.join(path.get_ref());
            if resolved.exists() {
                found.push(resolved);
            } else {
                let message = format!("`{}` is not there", resolved.display());
                self.bad(
                    span_of(&path),
                    message,
                    "`rules` lists folders (or files) of rules, relative to the manifest's folder",
                );
            }
        }
        found
    }

    fn version(&mut self, value: Value<String>) -> Option<String> {
        if is_version(value.get_ref()) {
            return Some(value.into_inner());
        }
        let message = format!(
            "expected a version like `1.2.0`, found `{}`",
            value.get_ref()
        );
        self.bad(
            span_of(&value),
            message,
            "a version is three numbers: major.minor.patch",
        );
        None
    }

    fn globs(&mut self, globs: Vec<Value<String>>) -> Vec<String> {
        let mut good = Vec::new();
        for glob in globs {
            let text = glob.get_ref();
            let valid = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?'));
            if valid {
                good.push(glob.into_inner());
            } else {
                let message = format!("`{text}` is not a glob of rule names");
                self.bad(
                    span_of(&glob),
                    message,
                    "rule names are letters, digits and `_`; `*` stands for any run of them, `?` for one",
                );
            }
        }
        good
    }

    /// `[alert.defaults.LEVEL]`, scores within 1..100.
    fn alert(&mut self, raw: RawAlert) -> AlertDefaults {
        let levels = raw.defaults;
        let mut defaults = AlertDefaults::default();
        for (level, given) in [
            (Level::Informational, levels.informational),
            (Level::Low, levels.low),
            (Level::Medium, levels.medium),
            (Level::High, levels.high),
            (Level::Critical, levels.critical),
        ] {
            let Some(given) = given else { continue };
            let risk_score = given.risk_score.and_then(|score| {
                let valid = u8::try_from(*score.get_ref())
                    .ok()
                    .filter(|s| (1..=100).contains(s));
                if valid.is_none() {
                    let message = format!("risk score {} is outside 1..100", score.get_ref());
                    self.bad(
                        span_of(&score),
                        message,
                        "Enterprise Security scores risk from 1 to 100",
                    );
                }
                valid
            });
            defaults.levels.insert(
                level,
                LevelDefaults {
                    risk_score,
                    notable: given.notable,
                },
            );
        }
        defaults
    }

    /// A filter macro's definition, refused when it would not stay one
    /// line of `macros.conf` or would not follow the search's last pipe.
    fn filter_definition(&mut self, definition: Value<String>) -> Option<String> {
        let span = span_of(&definition);
        let text = definition.get_ref();
        let problem = filter_problem(text);
        match problem {
            None => Some(definition.into_inner()),
            Some((message, help)) => {
                self.out.push(
                    Diagnostic::error(codes::SITE_FILTER_DEFINITION, self.file, span, message)
                        .with_label("not a one-line macro definition")
                        .with_help(help.to_string()),
                );
                None
            }
        }
    }

    fn splunk(&mut self, raw: RawSplunk) -> SplunkSettings {
        let app = raw.app.and_then(|app| {
            let text = app.get_ref();
            let valid = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if valid {
                return Some(app.into_inner());
            }
            let message = format!("`{text}` is not a Splunk app id");
            self.bad(
                span_of(&app),
                message,
                "an app id is letters, digits, `_`, `.` and `-` (it names the app's folder)",
            );
            None
        });
        SplunkSettings {
            app,
            version: raw.version.and_then(|v| self.version(v)),
        }
    }
}

/// Why `text` cannot define a filter macro: `macros.conf` holds a value on
/// one line (a line break or other control character would end it, a
/// trailing `\` would continue it onto the next setting), and the macro
/// stands after a `|`, so it is one search command without its own pipe.
fn filter_problem(text: &str) -> Option<(String, &'static str)> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some((
            "an empty filter definition".to_string(),
            "write `search *` to keep every result, or a search command that narrows them",
        ));
    }
    let breaks = |c: &char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if let Some(c) = text.chars().find(breaks) {
        return Some((
            format!(
                "the filter definition holds a control character or line separator (U+{:04X})",
                u32::from(c)
            ),
            "a macros.conf value is one line: write the definition without line breaks or tabs",
        ));
    }
    if trimmed.ends_with('\\') {
        return Some((
            "the filter definition ends with `\\`".to_string(),
            "a trailing backslash continues a macros.conf value onto the next line; end with something else",
        ));
    }
    if trimmed.starts_with('|') {
        return Some((
            "the filter definition starts with `|`".to_string(),
            "the search already pipes into the macro: start with the command (`search NOT src IN (...)`, `where ...`)",
        ));
    }
    None
}

/// `X.Y.Z`, three numbers.
pub fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
}
