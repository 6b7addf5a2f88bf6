//! A target folder (`targets/<name>/`): its templates and its mappings of
//! the taxonomy onto the SIEM's schema. The built-in folders are embedded in
//! the binary; `--targets-dir DIR` replaces a target with `DIR/<name>/` when
//! that folder exists (`DIR` itself must exist). Settings that reach the
//! outputs are checked when a folder is loaded (`validate`).

mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Deserialize;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/targets");

/// Where a target folder came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Dir(PathBuf),
}

/// The files of one target folder, by path relative to it (`/`-separated).
#[derive(Debug, Clone)]
pub struct TargetFolder {
    pub name: String,
    pub origin: Origin,
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not UTF-8 text")]
    NotText { path: PathBuf },
    #[error(transparent)]
    Read(#[from] crate::source::LoadError),
    #[error("--targets-dir {path}: not a folder")]
    NoTargetsDir { path: PathBuf },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("target `{target}` has no file `{file}`")]
    Missing { target: String, file: String },
    #[error("{path}:{line}:{column}: {message}")]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl TargetFolder {
    /// The folder for `name`: `targets_dir/<name>/` when given and present,
    /// else the built-in one.
    pub fn load(name: &str, targets_dir: Option<&Path>) -> Result<TargetFolder, FolderError> {
        if let Some(dir) = targets_dir.filter(|d| !d.is_dir()) {
            return Err(FolderError::NoTargetsDir {
                path: dir.to_path_buf(),
            });
        }
        let folder = match targets_dir.map(|d| d.join(name)).filter(|d| d.is_dir()) {
            Some(dir) => {
                let mut files = BTreeMap::new();
                read_dir_into(&dir, &dir, &mut files, &mut Vec::new())?;
                TargetFolder {
                    name: name.to_string(),
                    origin: Origin::Dir(dir),
                    files,
                }
            }
            None => {
                let mut files = BTreeMap::new();
                if let Some(dir) = BUILTIN.get_dir(name) {
                    collect_builtin(dir, name, &mut files);
                }
                TargetFolder {
                    name: name.to_string(),
                    origin: Origin::Builtin,
                    files,
                }
            }
        };
        folder.validate()?;
        Ok(folder)
    }

    /// The first setting that may not reach an output (see `validate`).
    fn validate(&self) -> Result<(), FolderError> {
        for (file, text) in &self.files {
            if validate::is_settings_file(file)
                && let Some(message) = validate::check_settings(file, text)
            {
                return Err(FolderError::Invalid {
                    path: self.display_path(file),
                    message,
                });
            }
        }
        Ok(())
    }

    /// The display path of a file of this folder (`targets/sigma/rule.yml.j2`).
    pub fn display_path(&self, file: &str) -> String {
        match &self.origin {
            Origin::Builtin => format!("targets/{}/{file}", self.name),
            Origin::Dir(dir) => dir.join(file).display().to_string(),
        }
    }

    pub fn file(&self, file: &str) -> Result<&str, FolderError> {
        self.files
            .get(file)
            .map(String::as_str)
            .ok_or_else(|| FolderError::Missing {
                target: self.name.clone(),
                file: file.to_string(),
            })
    }

    /// Reads `mappings/<name>.yaml`.
    pub fn mapping(&self, name: &str) -> Result<Mapping, FolderError> {
        let file = format!("mappings/{name}.yaml");
        let text = self.file(&file)?;
        crate::yaml::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
            FolderError::Yaml {
                path: self.display_path(&file),
                line,
                column,
                message: err.to_string(),
            }
        })
    }

    /// The names of the mappings this folder offers.
    pub fn mapping_names(&self) -> Vec<&str> {
        self.files
            .keys()
            .filter_map(|f| f.strip_prefix("mappings/")?.strip_suffix(".yaml"))
            .collect()
    }
}

fn collect_builtin(dir: &Dir<'static>, prefix: &str, files: &mut BTreeMap<String, String>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        let relative = path
            .strip_prefix(prefix)
            .unwrap_or(&path)
            .trim_start_matches('/')
            .to_string();
        if let Some(text) = file.contents_utf8() {
            files.insert(relative, text.to_string());
        }
    }
    for sub in dir.dirs() {
        collect_builtin(sub, prefix, files);
    }
}

/// Reads a folder's files; `open` holds the canonical paths of the folders
/// being read, so a symlink back to one of them is not followed again.
fn read_dir_into(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, String>,
    open: &mut Vec<PathBuf>,
) -> Result<(), FolderError> {
    let io = |source| FolderError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let canonical = dir.canonicalize().map_err(io)?;
    if open.contains(&canonical) {
        return Ok(());
    }
    open.push(canonical);
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            read_dir_into(root, &path, files, open)?;
            continue;
        }
        let bytes = crate::source::read(&path)?;
        let text =
            String::from_utf8(bytes).map_err(|_| FolderError::NotText { path: path.clone() })?;
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        files.insert(relative, text);
    }
    open.pop();
    Ok(())
}

/// A mapping of the taxonomy onto one SIEM schema: per source, the name of
/// each field (absent or null: the SIEM has no such field, and a rule that
/// uses it is refused) and target-specific settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub description: String,
    pub sources: BTreeMap<String, SourceMapping>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SourceMapping {
    #[serde(default)]
    pub fields: BTreeMap<String, Option<String>>,
    /// Whatever else the target reads (`logsource`, `macro`, `table`, ...).
    #[serde(flatten)]
    pub settings: BTreeMap<String, serde_yaml::Value>,
}

impl Mapping {
    /// This mapping with a taxonomy extension's names for `target`: first
    /// those for every mapping of the target, then those for `mapping_name`
    /// alone. A source the mapping lacks takes the overlay's settings.
    pub fn overlaid(
        mut self,
        taxonomy: &crate::check::Taxonomy,
        target: &str,
        mapping_name: &str,
    ) -> Mapping {
        let overlays = taxonomy.overlays().iter().filter(|o| o.target == target);
        let (general, specific): (Vec<_>, Vec<_>) = overlays.partition(|o| o.mapping.is_none());
        let specific = specific
            .into_iter()
            .filter(|o| o.mapping.as_deref() == Some(mapping_name));
        for overlay in general.into_iter().chain(specific) {
            let source = self
                .sources
                .entry(overlay.source.clone())
                .or_insert_with(|| SourceMapping {
                    fields: BTreeMap::new(),
                    settings: BTreeMap::new(),
                });
            source.settings.extend(overlay.settings.clone());
            source.fields.extend(overlay.fields.clone());
        }
        self
    }

    /// The SIEM's name for `field` of `source`, if mapped.
    pub fn field(&self, source: &str, field: &str) -> Option<&str> {
        self.sources.get(source)?.fields.get(field)?.as_deref()
    }
}
