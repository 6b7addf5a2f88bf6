//! `tripline check`: every diagnostic of the pack, for people (stderr) or
//! machines (JSON or SARIF on stdout). The format never changes the exit
//! code. With `--target`, the refusals of those targets are reported too.
//! With a site in use, notes say which lists it replaced (`--verbose`:
//! where every list comes from). With `--fix`, the safe fixes are applied
//! first (each file replaced whole, never half-written) and the pack is
//! checked again: what is reported is what remains.

use std::collections::BTreeMap;

use super::{CheckArgs, Format, pipeline};
use crate::diag::{fix, json};
use crate::emit;
use crate::source::FileId;

pub fn run(args: &CheckArgs) -> u8 {
    let load = || pipeline::load_with(&args.paths, args.site.as_deref(), &args.taxonomy);
    let mut loaded = match load() {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    if args.fix {
        // A fix can uncover more (a statement that parses again is then
        // checked): apply, check again, a few rounds at most.
        let mut fixed = 0;
        for _ in 0..FIX_ROUNDS {
            let applied = match apply_safe_fixes(&loaded) {
                Ok(applied) => applied,
                Err(message) => {
                    eprintln!("error: {message}");
                    return 2;
                }
            };
            if applied == 0 {
                break;
            }
            fixed += applied;
            loaded = match load() {
                Ok(loaded) => loaded,
                Err(err) => {
                    eprintln!("error: {err}");
                    return 2;
                }
            };
        }
        let remaining = loaded.diagnostics().len();
        eprintln!(
            "fixed {fixed} problem{}, {remaining} remaining",
            if fixed == 1 { "" } else { "s" }
        );
    }
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
            let fixable = diagnostics
                .iter()
                .filter(|d| d.fixes.iter().any(fix::Fix::is_safe))
                .count();
            if fixable > 0 {
                eprintln!("{fixable} fixable with `tripline check --fix`");
            }
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

/// Applies the safe fixes of `loaded`'s diagnostics, file by file, and
/// returns how many were applied. A file that changed on disk since it was
/// read is left alone (its fixes would land in the wrong place); a byte
/// order mark is kept.
fn apply_safe_fixes(loaded: &pipeline::Loaded) -> Result<usize, String> {
    let mut by_file: BTreeMap<FileId, Vec<&fix::Fix>> = BTreeMap::new();
    for d in loaded.diagnostics() {
        let safe = d.fixes.iter().filter(|f| f.is_safe());
        by_file.entry(d.primary.file).or_default().extend(safe);
    }
    let mut applied = 0;
    let mut writes = Vec::new();
    for (file, fixes) in by_file {
        if fixes.is_empty() {
            continue;
        }
        let source = loaded.map.get(file);
        let on_disk = std::fs::read(&source.path)
            .map_err(|err| format!("cannot read {}: {err}", source.path.display()))?;
        let bom = on_disk.starts_with(BOM);
        if on_disk.get(if bom { BOM.len() } else { 0 }..) != Some(source.text.as_bytes()) {
            eprintln!(
                "warning: {} changed while it was checked; not fixed",
                source.path.display()
            );
            continue;
        }
        let (text, count) = fix::apply(&source.text, fixes);
        if count == 0 {
            continue;
        }
        let mut bytes = if bom { BOM.to_vec() } else { Vec::new() };
        bytes.extend_from_slice(text.as_bytes());
        writes.push((&source.path, bytes));
        applied += count;
    }
    // Every new text is ready before the first is written.
    for (written, (path, bytes)) in writes.iter().enumerate() {
        super::write::write_file(path, bytes)
            .map_err(|err| format!("{err} ({written} fixed files written before it)"))?;
    }
    Ok(applied)
}

/// How many times `--fix` applies fixes and checks again.
const FIX_ROUNDS: usize = 5;

const BOM: &[u8] = b"\xEF\xBB\xBF";

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
