//! `tripline check`: every diagnostic of the pack, for people (stderr) or
//! machines (JSON or SARIF on stdout). The format never changes the exit
//! code. With `--target`, the refusals of those targets are reported too.
//! With a site in use, notes say which lists it replaced (`--verbose`:
//! where every list comes from).

use super::{CheckArgs, Format, pipeline};
use crate::diag::json;
use crate::emit;

pub fn run(args: &CheckArgs) -> u8 {
    let loaded = match pipeline::load_with(&args.paths, args.site.as_deref(), &args.taxonomy) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    if args.verbose || !loaded.site_files.is_empty() {
        list_origins(&loaded, args.verbose);
    }
    let mut diagnostics = loaded.diagnostics().to_vec();
    if let Some(words) = &args.target
        && !loaded.has_errors()
    {
        let targets = match emit::parse_targets(words) {
            Ok(targets) => targets,
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        };
        match emit::emit_all(
            &targets,
            &loaded.checked.pack,
            args.targets_dir.as_deref(),
            &args.mapping,
            &loaded.taxonomy,
        ) {
            Ok(built) => diagnostics.extend(
                built
                    .into_iter()
                    .flat_map(|(_, emitted)| emitted.diagnostics),
            ),
            Err(err) => {
                eprintln!("error: {err}");
                return 2;
            }
        }
    }
    json::sort(&loaded.map, &mut diagnostics);
    let written = match args.format {
        Format::Human => {
            super::report(&loaded.map, &mut diagnostics, loaded.file_count());
            Ok(())
        }
        Format::Json => super::print_json(&json::to_json(&loaded.map, &diagnostics)),
        Format::Sarif => super::print_json(&json::to_sarif(&loaded.map, &diagnostics)),
    };
    if let Err(code) = written {
        return code;
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    u8::from(errors > 0 || (args.deny_warnings && warnings > 0))
}

/// Notes on stderr: each list a site replaced (and with `verbose` every
/// list), and the file it comes from.
fn list_origins(loaded: &pipeline::Loaded, verbose: bool) {
    let path = |file| loaded.map.get(file).path.display().to_string();
    for (name, file) in &loaded.checked.lists {
        let replaced = loaded
            .checked
            .replaced_lists
            .iter()
            .find(|r| &r.name == name);
        match replaced {
            Some(r) => eprintln!(
                "note: list `{name}` comes from the site, {} (replaces {})",
                path(r.site),
                path(r.pack)
            ),
            None if verbose => eprintln!("note: list `{name}` comes from {}", path(*file)),
            None => {}
        }
    }
}
