//! `tripline fmt`: rewrites files in the canonical layout, or with `--check`
//! lists the files it would change, or with `--diff` prints a unified diff
//! of the changes. A file that does not parse is left alone and its errors
//! reported (exit 1).

use std::io::IsTerminal;
use std::path::Path;

use super::FmtArgs;
use crate::diag::render;
use crate::source::{self, SourceMap};
use crate::syntax;

pub fn run(args: &FmtArgs) -> u8 {
    let files = match super::find_files(&args.paths) {
        Ok(files) => files,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut status = 0;
    let dry_run = args.check || args.diff;
    for path in files {
        match format_file(&path, dry_run, color) {
            Ok(Outcome::Unchanged) => {}
            Ok(Outcome::Changed { before, after }) => {
                if dry_run {
                    let report = if args.diff {
                        unified_diff(&path, &before, &after)
                    } else {
                        format!("{}\n", path.display())
                    };
                    if let Err(code) = super::write::print(&report) {
                        return code;
                    }
                    status = status.max(1);
                }
            }
            Ok(Outcome::Unparsable) => status = status.max(1),
            Err(err) => {
                eprintln!("error: {err}");
                status = 2;
            }
        }
    }
    status
}

enum Outcome {
    Unchanged,
    /// The file's text and its formatted text.
    Changed {
        before: String,
        after: String,
    },
    Unparsable,
}

/// The change as a unified diff (three lines of context), `path` in both
/// headers, as `git apply` and `patch -p0` read it.
fn unified_diff(path: &Path, before: &str, after: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}

/// Why a file could not be formatted: it could not be read or written.
#[derive(Debug, thiserror::Error)]
enum FmtError {
    #[error(transparent)]
    Read(#[from] source::LoadError),
    #[error(transparent)]
    Write(#[from] super::write::WriteError),
}

fn format_file(path: &Path, check_only: bool, color: bool) -> Result<Outcome, FmtError> {
    let bytes = source::read(path)?;
    let mut map = SourceMap::default();
    let (id, bad_utf8) = source::add_bytes(&mut map, path, &bytes);
    let text = &map.get(id).text;
    let errors = match bad_utf8 {
        Some(diagnostic) => vec![diagnostic],
        None => {
            let (file, errors) = syntax::parse(id, text);
            if errors.iter().all(|d| !d.is_error()) {
                let formatted = crate::fmt::format(text, &file);
                if formatted.as_bytes() == bytes.as_slice() {
                    return Ok(Outcome::Unchanged);
                }
                if !check_only {
                    super::write::write_file(path, formatted.as_bytes())?;
                }
                return Ok(Outcome::Changed {
                    before: text.clone(),
                    after: formatted,
                });
            }
            errors
        }
    };
    for diagnostic in errors.iter().filter(|d| d.is_error()) {
        eprintln!("{}\n", render::render(&map, diagnostic, color));
    }
    Ok(Outcome::Unparsable)
}
