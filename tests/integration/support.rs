//! What the target tests share: checking one rule file from text, finding
//! a document of a build, and writing diagnostics as `CODE line:col`.

use tripline::check::check;
use tripline::diag::Diagnostic;
use tripline::emit::Emitted;
use tripline::ir::Pack;
use tripline::source::{SourceFile, SourceMap};
use tripline::syntax::parse;

/// Parses and checks `text` as the file `path`; it must have no error.
pub fn checked(path: &str, text: &str) -> (SourceMap, Pack) {
    let mut map = SourceMap::default();
    let id = map.add(SourceFile::new(path, text));
    let (file, syntax) = parse(id, &map.get(id).text);
    assert!(syntax.is_empty(), "{text}\n{syntax:#?}");
    let checked = check(&map, &[(id, &file)]);
    let errors: Vec<&Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{text}\n{errors:#?}");
    (map, checked.pack)
}

/// The text of document `path` of a build.
pub fn document<'a>(emitted: &'a Emitted, path: &str) -> &'a str {
    let found = emitted.documents.iter().find(|d| d.path == path);
    found
        .map(|d| d.text.as_str())
        .unwrap_or_else(|| panic!("no document {path}"))
}

/// `CODE line:col` of each diagnostic.
pub fn positions(map: &SourceMap, diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            let at = map.get(d.primary.file).position(d.primary.span.start);
            format!("{} {}:{}", d.code.id, at.line, at.column)
        })
        .collect()
}

/// What one run of the `tripline` binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tripline ARGS` in `dir`, without colours.
pub fn tripline_in(dir: &std::path::Path, args: &[&str]) -> Run {
    let output = assert_cmd::Command::cargo_bin("tripline")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `tripline ARGS` in the repository's folder.
pub fn tripline(args: &[&str]) -> Run {
    tripline_in(std::path::Path::new("."), args)
}
