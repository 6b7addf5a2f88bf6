//! `tripline test`: runs every rule's `test` blocks and prints one line per
//! test, details under failures, and `N passed, N failed`; `--junit FILE`
//! also writes a JUnit report, `--filter PATTERN` runs only the tests of
//! the rules whose name matches.

use std::io::Write;
use std::path::Path;

use super::{TestArgs, pipeline};
use crate::eval::{report, testrun};
use crate::ir::Pack;
use crate::source::SourceMap;

/// `tripline test [PATHS] [--junit FILE]`.
pub fn run(args: &TestArgs) -> u8 {
    let mut loaded =
        match pipeline::load_runnable(&args.paths, args.site.as_deref(), &args.taxonomy) {
            Ok(loaded) => loaded,
            Err(code) => return code,
        };
    if let Some(pattern) = &args.filter {
        let rules = &mut loaded.checked.pack.rules;
        rules.retain(|rule| crate::pack::name_matches(pattern, &rule.name));
        if rules.is_empty() {
            eprintln!("warning: no rule matches `{pattern}`");
        }
    }
    let mut out = std::io::stdout().lock();
    run_pack(
        &loaded.checked.pack,
        &loaded.map,
        args.junit.as_deref(),
        &mut out,
    )
}

/// Runs the tests of a checked pack; returns the exit code (0 all passed,
/// 1 a test failed, 2 the JUnit file could not be written).
pub fn run_pack(pack: &Pack, sources: &SourceMap, junit: Option<&Path>, out: &mut dyn Write) -> u8 {
    let outcomes: Vec<testrun::TestOutcome> = pack
        .rules
        .iter()
        .flat_map(|rule| testrun::run_rule(rule, sources))
        .collect();
    let mut code = if outcomes.iter().all(testrun::TestOutcome::passed) {
        0
    } else {
        1
    };
    if let Err(err) = write!(out, "{}", report::text(&outcomes)).and_then(|()| out.flush()) {
        code = crate::cli::write::stdout_failed(err);
    }
    if let Some(path) = junit {
        let names: Vec<String> = pack.rules.iter().map(|r| r.name.clone()).collect();
        let xml = report::junit(&names, &outcomes);
        if let Err(error) = crate::cli::write::write_file(path, xml.as_bytes()) {
            eprintln!("error: {error}");
            code = 2;
        }
    }
    code
}
