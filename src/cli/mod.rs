//! The command line: argument parsing and one module per command. Exit codes:
//! 0 clean, 1 rule errors or failing tests, 2 usage or I/O errors (2 wins).

mod build;
mod check;
mod completions;
mod coverage;
mod explain;
mod fmt;
mod help;
mod import;
mod new;
pub mod pipeline;
mod stage;
mod taxonomy;
mod versions;
pub mod write;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub mod eval;
pub mod test;

#[derive(Debug, Parser)]
#[command(
    name = "tripline",
    version,
    about = "Detection-rule compiler: check, test and build .trip rule packs",
    after_help = help::TOP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The largest rule file read, in bytes (suffixes K, M, G: binary).
    #[arg(long, global = true, value_name = "SIZE", default_value = "16M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// The largest `events` file a test reads, in bytes (suffixes K, M, G).
    #[arg(long, global = true, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_events_size: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check rule files for errors (default: rules/).
    #[command(after_help = help::CHECK)]
    Check(CheckArgs),
    /// Format rule files in the canonical layout.
    #[command(after_help = help::FMT)]
    Fmt(FmtArgs),
    /// Run the `test` blocks of every rule.
    #[command(after_help = help::TEST)]
    Test(TestArgs),
    /// Run rules over JSON Lines events and print matches and alerts.
    #[command(after_help = help::EVAL)]
    Eval(Box<EvalArgs>),
    /// Write what each SIEM loads: Sigma, Splunk, KQL, SQL, runbooks.
    #[command(after_help = help::BUILD)]
    Build(BuildArgs),
    /// ATT&CK coverage of the pack: a Navigator layer and a matrix picture.
    #[command(after_help = help::COVERAGE)]
    Coverage(CoverageArgs),
    /// Start a new pack or rule from a template that checks, tests and builds.
    #[command(after_help = help::NEW)]
    New(NewArgs),
    /// List the taxonomy: sources, fields, types and each target's names.
    #[command(after_help = help::TAXONOMY)]
    Taxonomy(TaxonomyArgs),
    /// Turn rules of another format (Sigma) into checked .trip files.
    #[command(after_help = help::IMPORT)]
    Import(import::ImportArgs),
    /// Explain a diagnostic code (E0301, W0007): what it means, how to fix it.
    #[command(after_help = help::EXPLAIN)]
    Explain {
        /// The code, such as `E0301` (case and leading zeros optional).
        code: String,
    },
    /// Print a shell completion script: bash, zsh, fish, powershell, elvish.
    #[command(after_help = help::COMPLETIONS)]
    Completions { shell: clap_complete::Shell },
    /// Serve the Language Server Protocol on stdin and stdout (for editors).
    #[command(after_help = help::LSP)]
    Lsp,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    #[command(subcommand)]
    pub what: NewCommand,
}

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A pack folder: its manifest, a lists file and one example rule with tests.
    #[command(after_help = help::NEW)]
    Pack {
        /// The new folder; its name is the pack's.
        path: PathBuf,
    },
    /// A rule file NAME.trip with a fresh id, the source's fields in
    /// comments, a condition and two tests (one fires, one does not).
    #[command(after_help = help::NEW)]
    Rule {
        /// The rule's name (letters, digits and `_`).
        name: String,
        /// The source the rule reads.
        #[arg(long, value_name = "S", default_value = "dns")]
        source: String,
        /// The folder to write it in.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TaxonomyFormat {
    /// one table per source
    #[default]
    Table,
    /// one JSON document
    Json,
}

#[derive(Debug, clap::Args)]
pub struct TaxonomyArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: TaxonomyFormat,
    /// The field mapping to show in each target folder.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub mapping: String,
    /// A taxonomy extension file (YAML). Repeatable.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    /// Files or folders (default: rules/).
    pub paths: Vec<PathBuf>,
    /// Write the ATT&CK Navigator layer (JSON, layer format 4.5) here.
    #[arg(long, value_name = "FILE")]
    pub layer: Option<PathBuf>,
    /// Write the coverage matrix picture (SVG) here.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Exit 1 unless each of these techniques (comma-separated) has a rule
    /// on it or on one of its sub-techniques.
    #[arg(long, value_name = "IDS")]
    pub min_coverage: Option<String>,
    /// Draw only these tactics (comma-separated ids or names, such as
    /// `TA0043,discovery`), each whole with its gaps.
    #[arg(long, value_name = "TACTICS")]
    pub tactic: Option<String>,
    /// A site folder of lists (and `site.toml`) that replace the pack's by name.
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// A taxonomy extension file (YAML): more sources and fields, with their
    /// names on each target. Repeatable; later files may add to earlier ones.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// rustc-like text on stderr
    #[default]
    Human,
    /// one JSON document on stdout
    Json,
    /// SARIF 2.1.0 on stdout
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders (searched recursively for *.trip).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also report what these targets would refuse (comma-separated, or all).
    #[arg(long, value_name = "NAMES")]
    pub target: Option<String>,
    /// A folder of target folders that replace the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub targets_dir: Option<PathBuf>,
    /// The field mapping to use in each target folder.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub mapping: String,
    /// A site folder of lists (and `site.toml`) that replace the pack's by name.
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// Also say where each list comes from (the pack or the site).
    #[arg(long)]
    pub verbose: bool,
    /// A taxonomy extension file (YAML): more sources and fields, with their
    /// names on each target. Repeatable; later files may add to earlier ones.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
    /// Apply the safe fixes diagnostics carry to the files, then check again
    /// and report what remains.
    #[arg(long)]
    pub fix: bool,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Files or folders (default: rules/).
    pub paths: Vec<PathBuf>,
    /// Targets, comma-separated: sigma, splunk, kql, sql, runbook, or all.
    #[arg(long, value_name = "NAMES", default_value = "all")]
    pub target: String,
    /// Output folder; without it the documents go to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A folder of target folders that replace the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub targets_dir: Option<PathBuf>,
    /// The field mapping to use in each target folder.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub mapping: String,
    /// Write the rules a target can express and report refusals as warnings.
    #[arg(long)]
    pub skip_refused: bool,
    /// Also write the Splunk app as a .tgz.
    #[arg(long)]
    pub package: bool,
    /// A site folder of lists (and `site.toml`) that replace the pack's by name.
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// Build without running the rules' tests first.
    #[arg(long)]
    pub no_test: bool,
    /// Fail (E0905) rather than bump a version and update `tripline.lock`.
    #[arg(long)]
    pub locked: bool,
    /// A taxonomy extension file (YAML): more sources and fields, with their
    /// names on each target. Repeatable; later files may add to earlier ones.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    pub paths: Vec<PathBuf>,
    /// List the files that would change and exit 1 if any; change nothing.
    #[arg(long)]
    pub check: bool,
    /// Print a unified diff of what would change and exit 1 if anything
    /// would; change nothing.
    #[arg(long, conflicts_with = "check")]
    pub diff: bool,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    pub paths: Vec<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only the tests of rules whose name matches: a glob (`dns_*`,
    /// `*_burst`) when it has `*` or `?`, else a part of the name.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// A site folder of lists (and `site.toml`) that replace the pack's by name.
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// A taxonomy extension file (YAML): more sources and fields, with their
    /// names on each target. Repeatable; later files may add to earlier ones.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Rule files or folders (default: rules/).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// The source of every event (overrides the routing field).
    #[arg(long, value_name = "NAME", conflicts_with = "source_field")]
    pub source: Option<String>,
    /// The field that names an event's source (default: event.dataset).
    #[arg(long, value_name = "FIELD")]
    pub source_field: Option<String>,
    /// Close a window once the newest timestamp is past its end plus D
    /// (default: each rule's `delay`); older events are then late.
    #[arg(long, value_name = "DURATION")]
    pub max_lateness: Option<String>,
    /// Event times further than D past the newest time (or the clock) do
    /// not close windows (default: 1d).
    #[arg(long, value_name = "DURATION")]
    pub max_future: Option<String>,
    /// Longest event line, in bytes (K, M, G allowed; default: 16M); a
    /// longer line is skipped as malformed.
    #[arg(long, value_name = "BYTES")]
    pub max_line_size: Option<String>,
    /// Most groups and distinct values held by open windows (default:
    /// 4000000); past it the run stops (exit 2).
    #[arg(long, value_name = "N")]
    pub max_groups: Option<String>,
    /// Most groups and distinct values one event may add to a rule's
    /// window (default: 10000); past it the rule does not count the event.
    #[arg(long, value_name = "N")]
    pub max_combinations: Option<String>,
    /// Print what the open windows hold (groups, approximate memory) on
    /// stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// Threads that match events (default: the cores available); output
    /// is the same with any number.
    #[arg(long, value_name = "N")]
    pub threads: Option<String>,
    /// The input's format: jsonl, evtx, syslog or cef (default: detected
    /// from its first bytes).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Route events whose dataset is NAME to SOURCE (`zeek.conn=network`);
    /// repeatable, wins over the manifest's `[eval.routes]`.
    #[arg(long = "route", value_name = "NAME=SOURCE")]
    pub routes: Vec<String>,
    /// Largest EVTX input read from stdin, which is held whole (K, M, G
    /// allowed; default: 1G).
    #[arg(long, value_name = "BYTES")]
    pub max_evtx_size: Option<String>,
    /// The year of RFC 3164 syslog times, which have none (default: the
    /// current year, UTC); give it to read old logs reproducibly.
    #[arg(long, value_name = "YEAR")]
    pub syslog_year: Option<String>,
    /// Events file (JSON Lines, EVTX, syslog or CEF), or `-` for stdin (the
    /// default).
    pub events: Option<PathBuf>,
    /// A site folder of lists (and `site.toml`) that replace the pack's by name.
    #[arg(long, value_name = "DIR")]
    pub site: Option<PathBuf>,
    /// A taxonomy extension file (YAML): more sources and fields, with their
    /// names on each target. Repeatable; later files may add to earlier ones.
    #[arg(long = "taxonomy", value_name = "FILE")]
    pub taxonomy: Vec<PathBuf>,
}

/// Parses arguments and runs the command; clap's own usage errors exit 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(run(cli))
}

pub fn run(cli: Cli) -> u8 {
    crate::source::set_max_file_size(cli.max_file_size);
    crate::eval::events_file::set_max_events_size(cli.max_events_size);
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Coverage(args) => coverage::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::New(args) => new::run(&args),
        Command::Taxonomy(args) => taxonomy::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Explain { code } => explain::run(&code),
        Command::Completions { shell } => completions::run(shell),
        Command::Lsp => crate::lsp::run(),
    }
}

/// `16M`, `512K`, `1G` (binary multiples) or a number of bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        _ => return Err(format!("expected a size like `16M`, found `{text}`")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("expected a size like `16M`, found `{text}`"))
}

/// The paths a command reads: the given ones; else the pack of the
/// current folder (a `tripline.toml` here or above); else `rules/`.
pub fn paths_or_default(paths: &[PathBuf]) -> Vec<PathBuf> {
    if !paths.is_empty() {
        return paths.to_vec();
    }
    match crate::pack::manifest_above(std::path::Path::new(".")) {
        Some(manifest) => {
            let root = manifest.parent().map(std::path::Path::to_path_buf);
            vec![
                root.filter(|r| !r.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from(".")),
            ]
        }
        None => vec![PathBuf::from("rules")],
    }
}

/// The rule files at `paths` (default `rules/`), each once; symlink loops
/// skipped on the way are warnings on stderr.
pub fn find_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, crate::source::LoadError> {
    let found = crate::source::find(&paths_or_default(paths))?;
    for skipped in &found.loops {
        eprintln!("warning: {skipped}");
    }
    Ok(found.files)
}

/// Prints one JSON document and a newline on stdout; on failure reports it
/// and gives exit code 2.
pub fn print_json(value: &serde_json::Value) -> Result<(), u8> {
    write::print_with(|out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        writeln!(out)
    })
}

/// Prints diagnostics for people on stderr, sorted, with the count line
/// (`files`: how many rule files the run reports on).
pub fn report(
    map: &crate::source::SourceMap,
    diagnostics: &mut [crate::diag::Diagnostic],
    files: usize,
) {
    use std::io::IsTerminal;
    crate::diag::json::sort(map, diagnostics);
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for diagnostic in diagnostics.iter() {
        eprintln!("{}\n", crate::diag::render::render(map, diagnostic, color));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    eprintln!(
        "{}",
        crate::diag::render::summary(errors, diagnostics.len() - errors, files)
    );
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_are_bytes_or_binary_multiples() {
        let cases = [
            ("100", Ok(100)),
            ("1K", Ok(1024)),
            ("16M", Ok(16 << 20)),
            ("2GiB", Ok(2 << 30)),
            ("16 MB", Err(())),
            ("M", Err(())),
            ("99999999999999G", Err(())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_size(text).map_err(|_| ()), expected, "{text}");
        }
    }
}
