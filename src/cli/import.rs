//! `tripline import sigma PATHS... --out DIR`: Sigma rules to `.trip`
//! files. Every rule is converted and checked before anything is written;
//! each file is then written whole (temporary file and rename). Refusals
//! go to stderr with the Sigma file, line, column and construct, then a
//! count per construct. As `build`, a refusal writes nothing (exit 1)
//! unless `--skip-refused`, which writes the rest: exit 0 when at least
//! one rule was imported (or there was nothing to import), 1 when rules
//! were found and none imported. 2 for usage or I/O errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::write;
use crate::check::Taxonomy;
use crate::import::sigma::{self, SigmaNames};
use crate::source::{SourceMap, find_with, read};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImportFormat {
    /// Sigma rules and correlation rules (folders: *.yml, *.yaml).
    #[command(after_help = super::help::IMPORT)]
    Sigma(ImportSigmaArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportSigmaArgs {
    /// Sigma files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The folder the `.trip` files are written to (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write the rules that import and report the refused ones (without
    /// it, any refusal writes nothing and exits 1).
    #[arg(long)]
    pub skip_refused: bool,
    /// A folder of target folders whose `sigma/` mapping is read instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub targets_dir: Option<PathBuf>,
    /// The Sigma field mapping to read names back through.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub mapping: String,
    /// A taxonomy extension file (YAML): more sources and fields, with
    /// their Sigma names. Repeatable.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
}

pub fn run(args: &ImportArgs) -> u8 {
    match &args.format {
        ImportFormat::Sigma(args) => match sigma_import(args) {
            Ok(code) | Err(code) => code,
        },
    }
}

fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    2
}

fn sigma_import(args: &ImportSigmaArgs) -> Result<u8, u8> {
    let mut map = SourceMap::default();
    let taxonomy = match Taxonomy::bundled().extended(&mut map, &args.taxonomy) {
        Ok(taxonomy) => taxonomy,
        Err(crate::check::ExtendError::Load(err)) => return Err(fail(err)),
        Err(crate::check::ExtendError::Invalid(mut diagnostics)) => {
            super::report(&map, &mut diagnostics, args.taxonomy.len());
            return Err(1);
        }
    };
    let names =
        SigmaNames::load(args.targets_dir.as_deref(), &args.mapping, &taxonomy).map_err(fail)?;
    let found = find_with(&args.paths, &["yml", "yaml"]).map_err(fail)?;
    for skipped in &found.loops {
        eprintln!("warning: {skipped}");
    }
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for path in found.files {
        let bytes = read(&path).map_err(fail)?;
        match String::from_utf8(bytes) {
            Ok(text) => files.push((path, text)),
            Err(_) => unreadable.push(path),
        }
    }
    let mut outcome = sigma::import(&files, &names, &taxonomy);
    for path in unreadable {
        outcome.refused.push(sigma::Refused {
            sigma: path,
            refusal: sigma::Refusal::new(
                sigma::yaml::Pos { line: 1, column: 1 },
                "text",
                "not UTF-8",
            ),
        });
    }
    outcome
        .refused
        .sort_by(|a, b| (&a.sigma, a.refusal.pos).cmp(&(&b.sigma, b.refusal.pos)));
    report(&outcome);
    if !args.skip_refused && !outcome.refused.is_empty() {
        eprintln!("nothing written: rules were refused (--skip-refused writes the rest)");
        return Ok(1);
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|err| fail(format!("cannot create {}: {err}", args.out.display())))?;
    for rule in &outcome.imported {
        let path = args.out.join(format!("{}.trip", rule.name));
        write::write_file(&path, rule.text.as_bytes()).map_err(fail)?;
    }
    let nothing = outcome.imported.is_empty() && !outcome.refused.is_empty();
    Ok(u8::from(nothing))
}

/// Each note and refusal, then the counts.
fn report(outcome: &sigma::Outcome) {
    for rule in &outcome.imported {
        for note in &rule.notes {
            eprintln!(
                "note: {}:{}:{}: {}: {}",
                rule.sigma.display(),
                note.pos.line,
                note.pos.column,
                note.construct,
                note.reason
            );
        }
    }
    let mut by_construct: BTreeMap<String, usize> = BTreeMap::new();
    for refused in &outcome.refused {
        let r = &refused.refusal;
        eprintln!(
            "refused: {}:{}:{}: {}: {}",
            refused.sigma.display(),
            r.pos.line,
            r.pos.column,
            r.construct,
            r.reason
        );
        *by_construct.entry(kind_of(&r.construct)).or_default() += 1;
    }
    eprintln!(
        "imported {} rules, refused {}",
        outcome.imported.len(),
        outcome.refused.len()
    );
    for (construct, count) in by_construct {
        eprintln!("  {count:>5}  {construct}");
    }
}

/// A refusal's construct without its particular values, for the counts
/// (`field \`X\``, `` `|expand` ``, `log source {...}`).
fn kind_of(construct: &str) -> String {
    for prefix in [
        "field ",
        "log source",
        "regular expression",
        "tag ",
        "id ",
        "rule `",
        "timespan",
        "status",
        "level",
        "correlation type",
    ] {
        if construct.starts_with(prefix) {
            return prefix.trim_end().trim_end_matches('`').to_string();
        }
    }
    if construct.starts_with('`') && construct.ends_with("` on an `int` field") {
        return "text on an `int` field".to_string();
    }
    construct.to_string()
}
