//! Every shell example in README.md and docs/ runs as shown. Fenced blocks
//! marked `sh` run as one script that must succeed; `console` blocks are
//! transcripts: each `$ ` line runs, and what follows it until the next is
//! its output (stdout, then stderr), where `…` in a line stands for any
//! text and a line `...` for any lines. Blocks marked `no-run` (installing
//! tools, cargo itself) are skipped. Each file's examples run in order in a
//! scratch copy of the repository's rules, targets and docs, with the
//! `tripline` binary on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Block {
    line: usize,
    info: String,
    body: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    line: n + 1,
                    info: info.trim().to_string(),
                    body: Vec::new(),
                });
            }
            (Some(_), Some(_)) => found.extend(open.take()),
            (Some(block), None) => block.body.push(line.to_string()),
            (None, None) => {}
        }
    }
    found
}

fn runs(block: &Block) -> bool {
    let mut words = block.info.split_whitespace();
    matches!(words.next(), Some("sh" | "console")) && !block.info.contains("no-run")
}

/// A scratch folder holding copies of what the examples read.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-docs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for folder in ["rules", "targets", "docs"] {
        let status = Command::new("cp")
            .args(["-r", folder])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
    dir
}

fn shell(dir: &Path, script: &str) -> (bool, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_tripline")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("EDITOR", "true")
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let actual = actual.trim_end();
    let parts: Vec<&str> = expected.trim_end().split('…').collect();
    if parts.len() == 1 {
        return parts[0] == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first)
        || !actual.ends_with(last)
        || actual.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            !actual.is_empty() && line_matches(first, actual[0]) && lines_match(rest, &actual[1..])
        }
    }
}

/// The failures of one block, as messages.
fn run_block(dir: &Path, file: &str, block: &Block) -> Vec<String> {
    let at = format!("{file}:{}", block.line);
    if block.info.starts_with("sh") {
        let (ok, output) = shell(dir, &block.body.join("\n"));
        return if ok {
            Vec::new()
        } else {
            vec![format!("{at}: the script failed:\n{output}")]
        };
    }
    let mut failures = Vec::new();
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in &block.body {
        match (line.strip_prefix("$ "), steps.last_mut()) {
            (Some(command), _) => steps.push((command.to_string(), Vec::new())),
            (None, Some((_, expected))) => expected.push(line.clone()),
            (None, None) => failures.push(format!("{at}: output before any `$ ` command")),
        }
    }
    for (command, expected) in steps {
        let (_, output) = shell(dir, &command);
        let mut actual: Vec<&str> = output.lines().collect();
        while actual.last().is_some_and(|l| l.trim().is_empty()) {
            actual.pop();
        }
        let mut expected = expected;
        while expected.last().is_some_and(|l| l.trim().is_empty()) {
            expected.pop();
        }
        if !lines_match(&expected, &actual) {
            failures.push(format!(
                "{at}: `{command}`\n--- expected\n{}\n--- found\n{output}",
                expected.join("\n")
            ));
        }
    }
    failures
}

#[test]
fn every_shell_example_in_the_readme_and_docs_runs_as_shown() {
    let mut files = vec![PathBuf::from("README.md")];
    for folder in ["docs", "docs/targets"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        found.sort();
        files.extend(found);
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let blocks: Vec<Block> = blocks(&text).into_iter().filter(runs).collect();
        if blocks.is_empty() {
            continue;
        }
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&name);
        for block in &blocks {
            ran += 1;
            failures.extend(run_block(&dir, &file.display().to_string(), block));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(ran >= 8, "only {ran} examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn transcripts_match_with_wildcards() {
    let expected: Vec<String> = ["a …", "...", "z"].iter().map(|s| s.to_string()).collect();
    assert!(lines_match(&expected, &["a b", "x", "y", "z"]));
    assert!(lines_match(&expected, &["a b", "z"]));
    assert!(!lines_match(&expected, &["b", "z"]));
    assert!(line_matches(
        "{\"a\":1,…,\"z\":2}",
        "{\"a\":1,\"m\":5,\"z\":2}"
    ));
    assert!(!line_matches("x…y…z", "xzy"));
}
