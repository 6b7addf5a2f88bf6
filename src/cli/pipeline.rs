//! The front half every command shares: find the files, read them, parse
//! them, check them as one pack. Commands decide what to do with the result.

use std::path::PathBuf;

use crate::check::{self, Checked, Taxonomy};
use crate::diag::{Diagnostic, json};
use crate::source::{self, FileId, LoadError, SourceMap};
use crate::syntax::{self, ast};

/// A checked pack with everything needed to report on it.
pub struct Loaded {
    pub map: SourceMap,
    /// The parsed files, in the order given (folders sorted by path).
    pub files: Vec<(FileId, ast::File)>,
    pub checked: Checked,
    /// The taxonomy the pack was checked against.
    pub taxonomy: Taxonomy,
}

impl Loaded {
    /// Every diagnostic (reading, parsing, checking), sorted by file and position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.checked.diagnostics
    }

    pub fn has_errors(&self) -> bool {
        self.checked.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads, parses and checks the pack at `paths` (default `rules/`). An
/// unreadable path is a usage or I/O error; everything else is a diagnostic.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    load_with_taxonomy(paths, &[])
}

/// `load`, with the bundled taxonomy extended by the files `taxonomy`
/// (`--taxonomy`, the manifest's `taxonomy = [...]`). Their errors are
/// diagnostics like the rules'; the rules are checked against what the
/// files define correctly.
pub fn load_with_taxonomy(paths: &[PathBuf], taxonomy: &[PathBuf]) -> Result<Loaded, LoadError> {
    let mut map = SourceMap::default();
    let mut diagnostics = Vec::new();
    let (taxonomy, found) = Taxonomy::bundled().extended_with_errors(&mut map, taxonomy)?;
    diagnostics.extend(found);
    let mut files = Vec::new();
    for path in super::find_files(paths)? {
        let (id, bad_utf8) = source::load(&mut map, &path)?;
        match bad_utf8 {
            Some(diagnostic) => diagnostics.push(diagnostic),
            None => {
                diagnostics.extend(source::lone_cr_warning(&map, id));
                let (file, syntax_errors) = syntax::parse(id, &map.get(id).text);
                diagnostics.extend(syntax_errors);
                files.push((id, file));
            }
        }
    }
    let borrowed: Vec<(FileId, &ast::File)> = files.iter().map(|(id, file)| (*id, file)).collect();
    let mut checked = check::check_with(&map, &borrowed, &taxonomy);
    checked.diagnostics.extend(diagnostics);
    json::sort(&map, &mut checked.diagnostics);
    Ok(Loaded {
        map,
        files,
        checked,
        taxonomy,
    })
}

/// `load` for the commands that run a pack (`test`, `eval`, `coverage`):
/// its diagnostics go to stderr, and a pack that cannot run gives the exit
/// code instead: 2 for a usage or I/O error, 1 for rule errors.
pub fn load_runnable(paths: &[PathBuf], taxonomy: &[PathBuf]) -> Result<Loaded, u8> {
    let loaded = load_with_taxonomy(paths, taxonomy).map_err(|err| {
        eprintln!("error: {err}");
        2u8
    })?;
    if !loaded.diagnostics().is_empty() {
        super::report(&loaded.map, &mut loaded.diagnostics().to_vec());
    }
    if loaded.has_errors() {
        Err(1)
    } else {
        Ok(loaded)
    }
}
