//! Fuzzes the whole front end on arbitrary bytes: reading (UTF-8, BOM),
//! parsing, checking, formatting and rendering every diagnostic. It must
//! never panic, and `fmt` output must parse to the same tree.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tripline::source::{self, SourceMap};

fuzz_target!(|bytes: &[u8]| {
    let mut map = SourceMap::default();
    let (id, bad_utf8) = source::add_bytes(&mut map, Path::new("fuzz.trip"), bytes);
    if let Some(diagnostic) = bad_utf8 {
        let _ = tripline::diag::render::render(&map, &diagnostic, false);
        return;
    }
    let text = map.get(id).text.clone();
    let (file, syntax_errors) = tripline::syntax::parse(id, &text);
    let parsed = syntax_errors.is_empty();
    let mut diagnostics = syntax_errors;
    diagnostics.extend(tripline::check::check(&map, &[(id, &file)]).diagnostics);
    for diagnostic in &diagnostics {
        let _ = tripline::diag::render::render(&map, diagnostic, false);
    }
    let _ = tripline::diag::json::to_sarif(&map, &diagnostics);
    if parsed {
        let formatted = tripline::fmt::format(&text, &file);
        let (again, errors) = tripline::syntax::parse(id, &formatted);
        assert!(errors.iter().all(|d| !d.is_error()), "fmt output does not parse:\n{formatted}");
        assert_eq!(again, file, "fmt changed the meaning:\n{formatted}");
        assert_eq!(tripline::fmt::format(&formatted, &again), formatted, "fmt is not idempotent");
    }
});
