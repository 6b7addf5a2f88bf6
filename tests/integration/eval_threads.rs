//! `eval --threads N` prints the same bytes as `--threads 1`: the bundled
//! pack over every fixture of its tests (eight times over, so that the
//! input spans several batches, with late events, closed windows, and
//! lines of every source), and a generated stream over threshold,
//! sequence and first-seen rules with late, malformed, over-long and
//! unrouted lines, under the limits; from a file and from stdin that
//! pauses, with the problems on stderr in the same order.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::support::{Run, tripline};

/// The rules of the generated stream: hopping and distinct thresholds,
/// a sequence, a first sighting, and a plain match.
const MATRIX: &str = "tests/fixtures/matrix/matrix_v2.trip";

/// stderr without the process's peak memory, which differs from run to run.
fn without_memory(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| !line.contains("peak resident memory"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// A temporary file holding `bytes`, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("tripline-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `2026-01-01` plus `seconds`, as an RFC 3339 time.
fn time(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    format!("2026-01-01T{h:02}:{m:02}:{s:02}Z")
}

/// `n` lines, two seconds apart, of logons (failures and successes of a
/// few users from a few addresses) and web requests (paths, statuses,
/// addresses, some with several), with lines out of order by up to 20
/// minutes, malformed, not UTF-8, blank, over 400 bytes and unrouted.
fn stream(n: u64) -> Vec<u8> {
    let mut seed = 7u64;
    let mut out = Vec::new();
    for i in 0..n {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = seed >> 33;
        let mut at = i * 2;
        if r.is_multiple_of(13) {
            at = at.saturating_sub(60 * (r % 21));
        }
        let at = time(at);
        // Addresses that change slowly: the groups held grow with the stream.
        let ip = format!("10.{}.{}.{}", i / 500, r % 2, r % 5);
        // Few web clients: every threshold rule fires, often on one line.
        let client = format!("10.{}.0.{}", i / 500, r % 2);
        let line = match r % 10 {
            0..=2 => format!(
                r#"{{"@timestamp":"{at}","event":{{"dataset":"authentication","outcome":"failure"}},"source":{{"ip":"{ip}"}},"user":{{"name":"u{}"}}}}"#,
                r % 3
            ),
            3 => format!(
                r#"{{"@timestamp":"{at}","event":{{"dataset":"authentication","outcome":"success"}},"source":{{"ip":"{ip}"}},"user":{{"name":"u{}"}}}}"#,
                r % 3
            ),
            4..=6 => format!(
                r#"{{"@timestamp":"{at}","event":{{"dataset":"web"}},"source":{{"ip":"{client}"}},"url":{{"path":"/p{}"}},"http":{{"response":{{"status_code":{}}}}},"user_agent":{{"original":"Agent{}"}}}}"#,
                r % 7,
                if r.is_multiple_of(4) { 500 } else { 200 },
                r % 3
            ),
            7 => format!(
                r#"{{"@timestamp":"{at}","event":{{"dataset":"web"}},"source":{{"ip":["{ip}","10.9.9.{}"]}},"url":{{"path":"/.git/config"}}}}"#,
                r % 4
            ),
            8 => match r / 10 % 5 {
                0 => "{not json".to_string(),
                1 => String::new(),
                2 => format!(
                    r#"{{"@timestamp":"{at}","event":{{"dataset":"web"}},"pad":"{}"}}"#,
                    "x".repeat(400)
                ),
                3 => format!(r#"{{"@timestamp":"{at}","event":{{"dataset":"nosuch"}}}}"#),
                _ => format!(
                    r#"{{"@timestamp":"not a time","event":{{"dataset":"web"}},"source":{{"ip":"{ip}"}},"url":{{"path":"/x"}}}}"#
                ),
            },
            _ => {
                out.extend_from_slice(b"{\"bad\":\"\xff\"}\n");
                continue;
            }
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn eval(events: &str, threads: &str, flags: &[&str]) -> Run {
    let mut args = vec!["eval", "--rules", MATRIX, "--threads", threads];
    args.extend_from_slice(flags);
    args.push(events);
    tripline(&args)
}

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
        assert_eq!(
            without_memory(&many.stderr),
            without_memory(&one.stderr),
            "--threads {threads}"
        );
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn threads_agree_on_thresholds_sequences_first_seen_and_the_limits() {
    let events = TempFile::new("threads-stream.jsonl", &stream(6000));
    let runs: [&[&str]; 4] = [
        &["--stats"],
        // Windows close on every newer event: many closes, many late lines.
        &["--max-lateness", "0s", "--stats"],
        &["--max-lateness", "1m", "--max-line-size", "300"],
        &["--max-combinations", "1", "--max-future", "1h"],
    ];
    for flags in runs {
        let one = eval(events.path(), "1", flags);
        assert_eq!(one.code, 0, "{flags:?}: {}", one.stderr);
        assert!(one.stdout.contains(r#""kind":"alert""#), "{flags:?}");
        assert!(one.stdout.contains(r#""kind":"match""#), "{flags:?}");
        for problem in [
            "malformed",
            "not UTF-8",
            "late",
            "unrouted",
            "no usable @timestamp",
        ] {
            assert!(one.stderr.contains(problem), "{flags:?}: no {problem}");
        }
        for threads in ["2", "4", "7"] {
            let many = eval(events.path(), threads, flags);
            assert_eq!(many.code, one.code, "{flags:?} --threads {threads}");
            assert!(
                many.stdout == one.stdout,
                "{flags:?} --threads {threads}: stdout differs"
            );
            assert_eq!(
                without_memory(&many.stderr),
                without_memory(&one.stderr),
                "{flags:?} --threads {threads}"
            );
        }
    }
    let capped = eval(events.path(), "1", &["--max-line-size", "300"]);
    assert!(capped.stderr.contains("longer than 300 bytes"));
    let fanned = eval(events.path(), "1", &["--max-combinations", "1"]);
    assert!(fanned.stderr.contains("over --max-combinations 1"));
}

/// Over `--max-groups`, every thread count stops after the same line with
/// the same output and message.
#[test]
fn threads_stop_on_the_same_line_over_max_groups() {
    let events = TempFile::new("threads-groups.jsonl", &stream(6000));
    let one = eval(events.path(), "1", &["--max-groups", "230"]);
    assert_eq!(one.code, 2, "{}", one.stderr);
    let stop = |run: &Run| {
        run.stderr
            .lines()
            .find(|line| line.starts_with("error: line"))
            .map(str::to_string)
    };
    let line = stop(&one).unwrap();
    // Past the first batch of lines.
    let number: u64 = line["error: line ".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(number > 1024, "{line}");
    for threads in ["2", "4", "7"] {
        let many = eval(events.path(), threads, &["--max-groups", "230"]);
        assert_eq!(many.code, 2, "--threads {threads}");
        assert!(
            many.stdout == one.stdout,
            "--threads {threads}: stdout differs"
        );
        assert_eq!(stop(&many), stop(&one), "--threads {threads}");
        assert_eq!(
            many.stderr.lines().last(),
            one.stderr.lines().last(),
            "--threads {threads}"
        );
    }
}

/// stdin that pauses: what is read before the pause is printed while
/// the input stays open, and the whole run prints what one thread does.
#[test]
fn threads_print_before_a_pause_in_stdin() {
    let input = stream(3000);
    // At a line's end: a partial line waits for its rest.
    let half = input.len() / 2;
    let cut = half + input[half..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let (head, tail) = input.split_at(cut);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tripline"))
        .args(["eval", "--rules", MATRIX, "--threads", "2", "-"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(head).unwrap();
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (first_sender, first_line) = std::sync::mpsc::channel();
    let (rest_sender, rest) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = std::io::BufReader::new(stdout);
        let mut first = String::new();
        let _ = std::io::BufRead::read_line(&mut stdout, &mut first);
        let _ = first_sender.send(first);
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        let _ = rest_sender.send(rest);
    });
    // The first half's output comes while stdin stays open.
    let Ok(first) = first_line.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        unreachable!("no output while stdin stays open");
    };
    assert!(first.ends_with('\n'), "{first}");
    stdin.write_all(tail).unwrap();
    drop(stdin);
    let rest = rest.recv_timeout(Duration::from_secs(60)).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let printed = first + &rest;

    let file = TempFile::new("threads-pause.jsonl", &input);
    let one = eval(file.path(), "1", &[]);
    assert_eq!(status.code(), Some(one.code));
    assert!(printed == one.stdout, "stdout differs");
    assert_eq!(without_memory(&stderr), without_memory(&one.stderr));
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

/// Windows of several rules, hopping windows and a first sighting all
/// close on one line: their alerts come in one engine's order (windows by
/// end, then rule; then first sightings), whichever shards hold them.
#[test]
fn threads_merge_alerts_closed_on_one_line_in_one_engines_order() {
    let mut lines: Vec<String> = (0..12)
        .map(|i| {
            format!(
                r#"{{"@timestamp":"{}","event":{{"dataset":"web"}},"source":{{"ip":"10.0.0.1"}},"url":{{"path":"/p{i}"}},"http":{{"response":{{"status_code":500}}}}}}"#,
                time(i * 24)
            )
        })
        .collect();
    lines.push(format!(
        r#"{{"@timestamp":"{}","event":{{"dataset":"authentication","outcome":"success"}},"source":{{"ip":"10.0.0.1"}},"user":{{"name":"u"}}}}"#,
        time(295)
    ));
    // Closes every window above and hands on the logon.
    lines.push(format!(
        r#"{{"@timestamp":"{}","event":{{"dataset":"web"}},"url":{{"path":"/"}}}}"#,
        time(1200)
    ));
    let events = TempFile::new("threads-one-line.jsonl", lines.join("\n").as_bytes());
    let one = eval(events.path(), "1", &["--max-lateness", "0s"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let rules: std::collections::BTreeSet<&str> = one
        .stdout
        .lines()
        .filter(|line| line.contains(r#""kind":"alert""#))
        .filter_map(|line| line.split(r#""rule":""#).nth(1)?.split('"').next())
        .collect();
    assert!(rules.len() >= 3, "{rules:?}\n{}", one.stdout);
    for threads in ["2", "3", "4", "7"] {
        let many = eval(events.path(), threads, &["--max-lateness", "0s"]);
        assert_eq!(many.stdout, one.stdout, "--threads {threads}");
    }
}
