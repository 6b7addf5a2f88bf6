//! `tripline build`: checks the pack, runs its tests (unless `--no-test`),
//! then writes what each target makes of it. Nothing is written unless
//! every test passed and every requested target succeeded; then all target
//! folders are replaced together (`stage`).

use std::collections::HashMap;
use std::path::Path;

use super::stage::{self, TargetFiles};
use super::versions::{self, Versions};
use super::{BuildArgs, pipeline, report};
use crate::diag::{Diagnostic, codes};
use crate::emit::{self, Document, TargetName};
use crate::ir;
use crate::pack::lock;

pub fn run(args: &BuildArgs) -> u8 {
    let targets = match emit::parse_targets(&args.target) {
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let loaded = match pipeline::load_with(&args.paths, args.site.as_deref(), &args.taxonomy) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let mut diagnostics = loaded.diagnostics().to_vec();
    if !loaded.has_errors() {
        diagnostics.extend(case_collisions(&loaded.checked.pack));
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        report(&loaded.map, &mut diagnostics, loaded.file_count());
        return 1;
    }
    if args.no_test {
        eprintln!("note: the rules' tests were not run (--no-test)");
    } else if let Err(code) = test_gate(&loaded) {
        report(&loaded.map, &mut diagnostics, loaded.file_count());
        return code;
    }
    let mut pack = loaded.checked.pack.clone();
    let versions = match versioned(&mut pack, &loaded, &targets, args) {
        Ok(versions) => versions,
        Err(code) => return code,
    };
    if args.locked
        && let (Some(versions), Some(manifest)) = (&versions, &loaded.manifest)
        && versions.changed()
    {
        diagnostics.extend(versions.stale(&pack, manifest));
        report(&loaded.map, &mut diagnostics, loaded.file_count());
        return 1;
    }
    let built = match emit::emit_all(
        &targets,
        &pack,
        args.targets_dir.as_deref(),
        &args.mapping,
        &loaded.taxonomy,
    ) {
        Ok(built) => built,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let mut outputs = Vec::new();
    for (target, emitted) in built {
        let severity = |refusal: Diagnostic| {
            if args.skip_refused {
                refusal.into_warning()
            } else {
                refusal
            }
        };
        diagnostics.extend(emitted.diagnostics.into_iter().map(severity));
        outputs.push((target, emitted.documents));
    }
    report(&loaded.map, &mut diagnostics, loaded.file_count());
    if diagnostics.iter().any(Diagnostic::is_error) {
        return 1;
    }
    let Some(out) = &args.out else {
        return match super::write::print_with(|out| print_documents(out, &outputs)) {
            Ok(()) => 0,
            Err(code) => code,
        };
    };
    if let Err(err) = write_out(out, &outputs, args.package) {
        eprintln!("error: {err}");
        return 2;
    }
    match versions {
        Some(versions) if versions.changed() => write_lock(&versions),
        _ => 0,
    }
}

/// The pack with its content versions set (a pack with a manifest), or
/// the exit code when the lock cannot be read or the targets loaded.
fn versioned(
    pack: &mut ir::Pack,
    loaded: &pipeline::Loaded,
    targets: &[TargetName],
    args: &BuildArgs,
) -> Result<Option<Versions>, u8> {
    versions::fix(
        pack,
        loaded,
        targets,
        args.targets_dir.as_deref(),
        &args.mapping,
    )
    .map_err(|err| {
        eprintln!("error: {err}");
        2
    })
}

/// Writes `tripline.lock` and says which versions moved.
fn write_lock(versions: &Versions) -> u8 {
    let moved = |old: Option<&lock::Entry>, new: &lock::Entry| match old {
        Some(old) if old.version == new.version => None,
        Some(old) => Some(format!("{} → {}", old.version, new.version)),
        None => Some(new.version.clone()),
    };
    for (name, new) in &versions.new.rules {
        if let Some(change) = moved(versions.old.rules.get(name), new) {
            eprintln!("version: rule {name} {change}");
        }
    }
    if let Some(new) = &versions.new.splunk
        && let Some(change) = moved(versions.old.splunk.as_ref(), new)
    {
        eprintln!("version: Splunk app {change}");
    }
    match super::write::write_file(&versions.path, versions.render().as_bytes()) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("error: {err}");
            2
        }
    }
}

/// Every target's documents (and, with `--package`, the Splunk apps as
/// `.tgz`) into `out`, all targets replaced or none (see `stage`).
fn write_out(
    out: &Path,
    outputs: &[(TargetName, Vec<Document>)],
    package: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let binaries = match outputs.iter().find(|(t, _)| *t == TargetName::Splunk) {
        Some((_, documents)) if package => splunk_packages(documents)?,
        _ => Vec::new(),
    };
    let targets: Vec<TargetFiles> = outputs
        .iter()
        .map(|(target, documents)| {
            let packages: &[(String, Vec<u8>)] = match target {
                TargetName::Splunk => &binaries,
                _ => &[],
            };
            let texts = documents
                .iter()
                .map(|d| (d.path.as_str(), d.text.as_bytes()));
            let packages = packages.iter().map(|(p, b)| (p.as_str(), b.as_slice()));
            TargetFiles {
                name: target.as_str(),
                files: texts.chain(packages).collect(),
            }
        })
        .collect();
    Ok(stage::replace_targets(out, &targets)?)
}

/// Runs every test of the pack; on a failure prints the test report on
/// stderr and gives exit code 1, so that nothing is written.
fn test_gate(loaded: &pipeline::Loaded) -> Result<(), u8> {
    use crate::eval::{report, testrun};
    let outcomes: Vec<testrun::TestOutcome> = loaded
        .checked
        .pack
        .rules
        .iter()
        .flat_map(|rule| testrun::run_rule(rule, &loaded.map))
        .collect();
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    if failed == 0 {
        eprintln!("tests: {} passed", outcomes.len());
        return Ok(());
    }
    eprint!("{}", report::text(&outcomes));
    eprintln!(
        "error: {failed} test{} failed: nothing was written (`--no-test` builds without running them)",
        if failed == 1 { "" } else { "s" }
    );
    Err(1)
}

/// Rule names that differ only in case collide as file names on
/// case-insensitive file systems.
fn case_collisions(pack: &ir::Pack) -> Vec<Diagnostic> {
    let mut first: HashMap<String, &ir::Rule> = HashMap::new();
    let mut found = Vec::new();
    for rule in &pack.rules {
        match first.get(&rule.name.to_lowercase()) {
            Some(earlier) if earlier.name != rule.name => found.push(
                Diagnostic::error(
                    codes::RULE_NAME_CASE_COLLISION,
                    rule.file,
                    rule.span,
                    format!(
                        "rule `{}` differs from rule `{}` only in case",
                        rule.name, earlier.name
                    ),
                )
                .with_secondary(earlier.file, earlier.span, "the other rule")
                .with_help(
                    "their output files would collide on case-insensitive file systems: rename one",
                ),
            ),
            Some(_) => {}
            None => {
                first.insert(rule.name.to_lowercase(), rule);
            }
        }
    }
    found
}

/// `--package`: each Splunk app of the build (a folder holding
/// `default/app.conf`) as `APP_ID.tgz` beside it.
fn splunk_packages(documents: &[Document]) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    documents
        .iter()
        .filter_map(|d| d.path.strip_suffix("/default/app.conf"))
        .map(|app| Ok((format!("{app}.tgz"), emit::splunk::package(documents, app)?)))
        .collect()
}

/// Without `--out`: every document on stdout under a `==> target/path <==` line.
fn print_documents(
    out: &mut dyn std::io::Write,
    outputs: &[(TargetName, Vec<Document>)],
) -> std::io::Result<()> {
    let mut first = true;
    for (target, documents) in outputs {
        for document in documents {
            if !first {
                writeln!(out)?;
            }
            first = false;
            writeln!(out, "==> {}/{} <==", target.as_str(), document.path)?;
            out.write_all(document.text.as_bytes())?;
        }
    }
    Ok(())
}
