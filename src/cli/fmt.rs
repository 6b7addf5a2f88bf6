//! `tripline fmt`: rewrites files in the canonical layout, or with `--check`
//! lists the files it would change. A file that does not parse is left
//! alone and its errors reported (exit 1).

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
    for path in files {
        match format_file(&path, args.check, color) {
            Ok(Outcome::Unchanged) => {}
            Ok(Outcome::Changed) => {
                if args.check {
                    if let Err(code) = super::write::print(&format!("{}\n", path.display())) {
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
    Changed,
    Unparsable,
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
                return Ok(Outcome::Changed);
            }
            errors
        }
    };
    for diagnostic in errors.iter().filter(|d| d.is_error()) {
        eprintln!("{}\n", render::render(&map, diagnostic, color));
    }
    Ok(Outcome::Unparsable)
}
