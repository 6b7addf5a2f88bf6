//! `tripline build`: checks the pack, then writes what each target makes of
//! it. Nothing is written unless every requested target succeeded; then
//! all target folders are replaced together (`stage`).

use std::collections::HashMap;
use std::path::Path;

use super::stage::{self, TargetFiles};
use super::{BuildArgs, pipeline, report};
use crate::diag::{Diagnostic, codes};
use crate::emit::{self, Document, TargetName};
use crate::ir;

pub fn run(args: &BuildArgs) -> u8 {
    let targets = match emit::parse_targets(&args.target) {
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let loaded = match pipeline::load_with_taxonomy(&args.paths, &args.taxonomy) {
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
        report(&loaded.map, &mut diagnostics);
        return 1;
    }
    let built = match emit::emit_all(
        &targets,
        &loaded.checked.pack,
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
    report(&loaded.map, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return 1;
    }
    let Some(out) = &args.out else {
        return match super::write::print_with(|out| print_documents(out, &outputs)) {
            Ok(()) => 0,
            Err(code) => code,
        };
    };
    match write_out(out, &outputs, args.package) {
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
