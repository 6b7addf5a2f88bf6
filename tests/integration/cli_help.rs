//! The command line that helps: `explain`, `completions`, `--help` with
//! examples and exit codes, did-you-mean on names given as flags, `fmt
//! --diff` and what `new rule` writes.

use crate::support::{tripline, tripline_in};
use clap::CommandFactory;
use std::path::PathBuf;

/// A fresh folder under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-help-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn explain_prints_the_documentation_of_a_code() {
    let run = tripline(&["explain", "e301"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("E0301: unknown field\n\n"),
        "{}",
        run.stdout
    );
    let docs = std::fs::read_to_string("docs/errors.md").unwrap();
    let body = run.stdout.lines().nth(2).unwrap();
    assert!(
        docs.contains(body),
        "not the text of docs/errors.md: {body}"
    );
    assert!(!run.stdout.contains("E0302"), "runs into the next code");

    let run = tripline(&["explain", "E0399"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`E0399` is not a tripline diagnostic code")
    );
    assert!(
        run.stderr.contains("did you mean `E0309`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn completions_are_written_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = tripline(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in ["coverage", "min-coverage", "explain"] {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let run = tripline(&["completions", "tcsh"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);
}

/// Every command and subcommand, by its words after `tripline`.
fn commands(command: &clap::Command, words: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(words.clone());
    for sub in command.get_subcommands() {
        let mut path = words.clone();
        path.push(sub.get_name().to_string());
        commands(sub, path, out);
    }
}

#[test]
fn every_command_helps_with_examples_and_exit_codes() {
    let mut all = Vec::new();
    commands(&tripline::cli::Cli::command(), Vec::new(), &mut all);
    assert!(all.len() > 12, "{all:?}");
    for words in all.iter().filter(|w| w.last().is_none_or(|l| l != "help")) {
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        let run = tripline(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.contains("\nExamples:\n  tripline"),
            "{args:?}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("\nExit codes:\n  0  "),
            "{args:?}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn names_given_as_flags_get_did_you_mean() {
    let run = tripline(&["build", "--target", "splnk", "--no-test"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown target `splnk`; did you mean `splunk`?"),
        "{}",
        run.stderr
    );

    let run = tripline(&["check", "--target", "kq"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("did you mean `kql`?"), "{}", run.stderr);

    let run = tripline(&["eval", "--source", "dnss", "/dev/null"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--source `dnss` is not a source; did you mean `dns`?"),
        "{}",
        run.stderr
    );

    let dir = scratch("new-typo");
    let run = tripline_in(&dir, &["new", "rule", "r", "--source", "proxi"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `proxy`?"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn fmt_diff_shows_the_change_and_changes_nothing() {
    let dir = scratch("fmt-diff");
    let messy = dir.join("messy.trip");
    std::fs::write(&messy, "list a=[ \"x\" ,]\nlist b = [\"y\"]\n").unwrap();
    let tidy = dir.join("tidy.trip");
    std::fs::write(&tidy, "list a = [\"x\"]\n").unwrap();
    let name = messy.to_str().unwrap();

    let run = tripline(&["fmt", "--diff", name, tidy.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "--- {name}\n+++ {name}\n@@ -1,2 +1,3 @@\n-list a=[ \"x\" ,]\n+list a = [\"x\"]\n+\n list b = [\"y\"]\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "list a=[ \"x\" ,]\nlist b = [\"y\"]\n",
        "--diff changes nothing"
    );

    let run = tripline(&["fmt", "--diff", tidy.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn new_rule_lists_the_sources_fields_and_a_fresh_id_each_time() {
    let dir = scratch("new-rule");
    for name in ["first", "second"] {
        let run = tripline_in(&dir, &["new", "rule", name, "--source", "network"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let first = std::fs::read_to_string(dir.join("first.trip")).unwrap();
    let second = std::fs::read_to_string(dir.join("second.trip")).unwrap();
    let id = |text: &str| {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("id "))
            .unwrap();
        line.trim()
            .trim_start_matches("id ")
            .trim_matches('"')
            .to_string()
    };
    assert_ne!(id(&first), id(&second), "ids are fresh");
    assert_eq!(id(&first).len(), 36);
    let taxonomy = tripline::check::Taxonomy::bundled();
    for field in &taxonomy.source("network").unwrap().fields {
        assert!(
            first
                .lines()
                .any(|l| l.trim_start().starts_with("#") && l.contains(&field.name)),
            "{} not listed:\n{first}",
            field.name
        );
    }
    assert!(first.contains("expect match") && first.contains("expect nomatch"));
    let run = tripline_in(&dir, &["test", "first.trip"]);
    assert!(
        run.stdout.ends_with("2 passed, 0 failed\n"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = tripline_in(&dir, &["fmt", "--check", "first.trip"]);
    assert_eq!(run.code, 0, "the new rule is formatted: {}", run.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}
