//! `tripline check`: every diagnostic of the pack, for people (stderr) or
//! machines (JSON or SARIF on stdout). The format never changes the exit code.

use std::io::{IsTerminal, Write};

use super::{CheckArgs, Format, pipeline};
use crate::diag::{json, render};

pub fn run(args: &CheckArgs) -> u8 {
    let loaded = match pipeline::load(&args.paths) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let diagnostics = loaded.diagnostics();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let written = match args.format {
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut err = std::io::stderr().lock();
            let mut text = String::new();
            for diagnostic in diagnostics {
                text.push_str(&render::render(&loaded.map, diagnostic, color));
                text.push_str("\n\n");
            }
            text.push_str(&render::summary(errors, warnings, loaded.files.len()));
            writeln!(err, "{text}")
        }
        Format::Json => super::print_json(&json::to_json(&loaded.map, diagnostics)),
        Format::Sarif => super::print_json(&json::to_sarif(&loaded.map, diagnostics)),
    };
    if written.is_err() {
        return 2;
    }
    u8::from(errors > 0 || (args.deny_warnings && warnings > 0))
}
