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
    let files = match source::discover(&super::paths_or_default(&args.paths)) {
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
                    println!("{}", path.display());
                    status = status.max(1);
                }
            }
            Ok(Outcome::Unparsable) => status = status.max(1),
            Err(err) => {
                eprintln!("error: {}: {err}", path.display());
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

fn format_file(path: &Path, check_only: bool, color: bool) -> std::io::Result<Outcome> {
    let bytes = std::fs::read(path)?;
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
                    super::write_atomically(path, formatted.as_bytes())?;
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
