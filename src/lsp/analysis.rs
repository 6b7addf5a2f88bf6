//! One look at the pack around an open file, as `tripline check` would see
//! it: the pack found through its manifest, every file read (the editor's
//! unsaved buffers in place of the files on disk), parsed and checked. A
//! file outside any readable pack (a new, unsaved one) is checked alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::check::{self, Taxonomy};
use crate::cli::pipeline;
use crate::diag::Diagnostic;
use crate::source::{self, FileId, SourceMap};
use crate::syntax::{self, ast};

pub struct Analysis {
    pub map: SourceMap,
    /// Every parsed file of the pack (the open one among them).
    pub files: Vec<(FileId, ast::File)>,
    /// The open file.
    pub file: FileId,
    /// The open file's diagnostics, as `check` reports them.
    pub diagnostics: Vec<Diagnostic>,
    pub taxonomy: Taxonomy,
}

impl Analysis {
    pub fn text(&self) -> &str {
        &self.map.get(self.file).text
    }
}

/// Checks the pack of `path` with `open` (canonical path → text) read in
/// place of the files on disk.
pub fn analyse(path: &Path, open: &HashMap<PathBuf, String>) -> Analysis {
    let wanted = canonical(path);
    let loaded = source::with_overlay(open.clone(), || {
        pipeline::load_with(&[path.to_path_buf()], None, &[])
    });
    if let Ok(loaded) = loaded {
        let found = loaded
            .files
            .iter()
            .map(|(id, _)| *id)
            .find(|id| canonical(&loaded.map.get(*id).path) == wanted);
        if let Some(file) = found {
            let diagnostics = loaded
                .checked
                .diagnostics
                .iter()
                .filter(|d| d.primary.file == file)
                .cloned()
                .collect();
            return Analysis {
                map: loaded.map,
                files: loaded.files,
                file,
                diagnostics,
                taxonomy: loaded.taxonomy,
            };
        }
    }
    let text = open.get(&wanted).cloned().unwrap_or_default();
    alone(path, &text)
}

/// The file checked by itself (no pack: its own lists and the bundled
/// taxonomy).
fn alone(path: &Path, text: &str) -> Analysis {
    let mut map = SourceMap::default();
    let (file, bad_utf8) = source::add_bytes(&mut map, path, text.as_bytes());
    let mut diagnostics: Vec<Diagnostic> = bad_utf8.into_iter().collect();
    diagnostics.extend(source::lone_cr_warning(&map, file));
    let (parsed, syntax_errors) = syntax::parse(file, &map.get(file).text);
    diagnostics.extend(syntax_errors);
    let taxonomy = Taxonomy::bundled().clone();
    let checked = check::check_with(&map, &[(file, &parsed)], &taxonomy);
    diagnostics.extend(checked.diagnostics);
    crate::diag::json::sort(&map, &mut diagnostics);
    Analysis {
        map,
        files: vec![(file, parsed)],
        file,
        diagnostics,
        taxonomy,
    }
}

/// The canonical form of a path, or the path itself when it is not on disk.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
