//! `eval --threads N` prints the same bytes as `--threads 1`: the bundled
//! pack over every fixture of its tests (eight times over, so that the
//! input spans several batches, with late events, closed windows, and
//! lines of every source), from a file and from stdin, with the problems
//! on stderr in the same order.

use std::path::{Path, PathBuf};

use super::support::tripline;

fn fixtures(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixtures(&path, found);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            found.push(path);
        }
    }
}

#[test]
fn threads_print_the_same_bytes_as_one_thread() {
    let mut files = Vec::new();
    fixtures(Path::new("rules"), &mut files);
    let mut corpus = String::new();
    for _ in 0..8 {
        for file in &files {
            corpus.push_str(&std::fs::read_to_string(file).unwrap());
            // A blank line, a malformed one and an unrouted one between files.
            corpus.push_str("\n{not json\n{\"event.dataset\":\"nosuch\"}\n");
        }
    }
    let path = std::env::temp_dir().join(format!("tripline-threads-{}.jsonl", std::process::id()));
    std::fs::write(&path, &corpus).unwrap();
    let events = path.to_str().unwrap();
    let one = tripline(&[
        "eval",
        "--rules",
        "rules",
        "--threads",
        "1",
        "--stats",
        events,
    ]);
    assert!(one.stdout.lines().count() >= 7, "{}", one.stderr);
    assert!(one.stderr.contains("malformed"), "{}", one.stderr);
    for threads in ["2", "4", "7"] {
        let many = tripline(&[
            "eval",
            "--rules",
            "rules",
            "--threads",
            threads,
            "--stats",
            events,
        ]);
        assert_eq!(many.code, one.code);
        assert!(
            many.stdout == one.stdout,
            "--threads {threads}: stdout differs"
        );
        assert_eq!(many.stderr, one.stderr, "--threads {threads}");
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn threads_must_be_a_positive_number() {
    let run = tripline(&["eval", "--rules", "rules", "--threads", "0", "-"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--threads expects a positive number"),
        "{}",
        run.stderr
    );
}
