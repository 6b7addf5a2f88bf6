//! `tripline eval`, end to end: JSON lines on stdout, problems and the
//! summary on stderr, routing flags, exit codes, and what a real process
//! does on a signal, a closed stdout or a stream that never ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn tripline() -> Command {
    let mut cmd = Command::cargo_bin("tripline").unwrap_or_else(|_| Command::new("tripline"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    let mut cmd = tripline();
    cmd.args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let output = cmd.output().unwrap_or_else(|e| unreachable!("{e}"));
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn matches_alerts_and_problems_from_a_file() {
    let (out, err, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "tests/fixtures/eval/events.jsonl",
        ],
        None,
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!(out, @r#"
    {"kind":"match","rule":"dns_zone_transfer","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"DNS zone transfer from outside","line":1,"event":{"@timestamp":"2026-01-01T00:00:01Z","event":{"dataset":"dns"},"source":{"ip":"203.0.113.7"},"dns":{"question":{"type":"AXFR"}}}}
    {"kind":"alert","rule":"whois_burst","id":"0b7c1f6e-2d3a-4b5c-8d9e-0f1a2b3c4d5e","title":"WHOIS burst","group":{"source.ip":"198.51.100.9"},"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:05:00Z"},"count":3,"first_time":"2026-01-01T00:00:02Z","last_time":"2026-01-01T00:00:05Z","context":{"destination.ip":[],"destination.port":["0043","43"],"network.transport":[],"event.action":[]}}
    "#);
    insta::assert_snapshot!(err, @r#"
    line 3: malformed JSON: expected ident at line 1 column 2
    line 7: no usable @timestamp: not counted by threshold rules
    note: unrouted events: 1 (their dataset is neither a source nor a route), by dataset:
      acme.unknown: 1, line 4 (route with --route acme.unknown=SOURCE, or `"acme.unknown" = "SOURCE"` under [eval.routes] in tripline.toml)
    tripline eval: 7 lines, 1 matches, 1 alerts; 1 malformed, 1 without a usable @timestamp, 1 unrouted, 0 late
    "#);
}

#[test]
fn stdin_and_source_override() {
    let line = r#"{"@timestamp":"2026-01-01T00:00:01Z","event":{"dataset":"web"},"source":{"ip":"203.0.113.7"},"dns":{"question":{"type":"IXFR"}}}"#;
    let (out, _, code) = run(&["eval", "--rules", "tests/fixtures/eval", "-"], Some(line));
    assert_eq!(
        (out.as_str(), code),
        ("", 0),
        "a web event reaches no dns rule"
    );
    let (out, _, code) = run(
        &["eval", "--rules", "tests/fixtures/eval", "--source", "dns"],
        Some(line),
    );
    assert_eq!(code, 0);
    assert!(out.contains(r#""rule":"dns_zone_transfer""#), "{out}");
    let (_, _, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--source-field",
            "kind",
        ],
        Some(line),
    );
    assert_eq!(code, 0);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &["eval", "--rules", "tests/fixtures/eval", "--source", "dnss"],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--source",
            "dns",
            "--source-field",
            "x",
        ],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-lateness",
            "5 minutes",
        ],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "tests/fixtures/eval/missing.jsonl",
        ],
        &["eval", "--rules", "tests/fixtures/eval/missing"],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-future",
            "5",
        ],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-line-size",
            "0",
        ],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-groups",
            "x",
        ],
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-combinations",
            "-1",
        ],
    ];
    for args in cases {
        let (_, _, code) = run(args, Some(""));
        assert_eq!(code, 2, "{args:?}");
    }
}

#[test]
fn max_lateness_reports_late_events() {
    let lines = [
        r#"{"@timestamp":"2026-01-01T00:00:00Z","source.ip":"1.1.1.1","destination.port":43}"#,
        r#"{"@timestamp":"2026-01-01T00:00:01Z","source.ip":"1.1.1.1","destination.port":43}"#,
        r#"{"@timestamp":"2026-01-01T00:00:02Z","source.ip":"1.1.1.1","destination.port":43}"#,
        r#"{"@timestamp":"2026-01-01T00:20:00Z","source.ip":"2.2.2.2","destination.port":43}"#,
        r#"{"@timestamp":"2026-01-01T00:00:03Z","source.ip":"1.1.1.1","destination.port":43}"#,
    ]
    .join("\n");
    let (out, err, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-lateness",
            "1m",
        ],
        Some(&lines),
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(r#""count":3"#), "{out}");
    assert!(err.contains("line 5: late"), "{err}");
}

/// A WHOIS connection (the fixture's `whois_burst`: 3 in 5 minutes, delay
/// 5 minutes) from `ip` at `time`.
fn whois(time: &str, ip: &str) -> String {
    format!(
        r#"{{"@timestamp":"{time}","event":{{"dataset":"network"}},"source":{{"ip":"{ip}"}},"destination":{{"port":43}}}}"#
    )
}

const AXFR: &str = r#"{"@timestamp":"2026-01-01T00:00:01Z","event":{"dataset":"dns"},"source":{"ip":"203.0.113.7"},"dns":{"question":{"type":"AXFR"}}}"#;

/// `tripline eval --rules tests/fixtures/eval ARGS` with piped stdin,
/// stdout and stderr.
fn spawn(args: &[&str]) -> Child {
    let program = assert_cmd::cargo::cargo_bin("tripline");
    std::process::Command::new(program)
        .args(["eval", "--rules", "tests/fixtures/eval"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| unreachable!("{e}"))
}

/// Waits at most 30 s for the child to exit; its exit code.
fn wait(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            unreachable!("tripline eval did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first line of the child's stdout, within 30 s (else the child is
/// killed and the test fails), and the rest of the stream.
fn first_line(child: &mut Child) -> (String, BufReader<std::process::ChildStdout>) {
    let stdout = child.stdout.take().unwrap_or_else(|| unreachable!());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = sender.send((line, stdout));
    });
    match receiver.recv_timeout(Duration::from_secs(30)) {
        Ok(got) => got,
        Err(_) => {
            let _ = child.kill();
            unreachable!("no output while the input stays open");
        }
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut err);
    }
    err
}

#[test]
fn alerts_are_printed_as_the_stream_advances() {
    // Without --max-lateness a window closes once the stream is past its
    // end plus the rule's delay (5m): here before the input ends.
    let mut child = spawn(&[]);
    let mut stdin = child.stdin.take().unwrap_or_else(|| unreachable!());
    for second in 1..=3 {
        let line = whois(&format!("2026-01-01T00:00:0{second}Z"), "198.51.100.9");
        let _ = writeln!(stdin, "{line}");
    }
    let _ = writeln!(stdin, "{}", whois("2026-01-01T00:11:00Z", "198.51.100.1"));
    let _ = stdin.flush();
    let (alert, _) = first_line(&mut child);
    assert!(
        alert.contains(r#""group":{"source.ip":"198.51.100.9"}"#) && alert.contains(r#""count":3"#),
        "{alert}"
    );
    drop(stdin);
    assert_eq!(wait(&mut child), 0, "{}", stderr_of(&mut child));
}

#[test]
fn sigterm_flushes_what_is_certain_and_exits_2() {
    let mut child = spawn(&[]);
    let mut stdin = child.stdin.take().unwrap_or_else(|| unreachable!());
    let _ = writeln!(stdin, "{AXFR}");
    for second in 1..=3 {
        let line = whois(&format!("2026-01-01T00:00:0{second}Z"), "198.51.100.9");
        let _ = writeln!(stdin, "{line}");
    }
    let _ = stdin.flush();
    // The match is flushed while the input waits; then the run is ended
    // with its stdin still open.
    let (first, mut stdout) = first_line(&mut child);
    assert!(first.contains(r#""kind":"match""#), "{first}");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(killed.is_ok_and(|s| s.success()));
    let code = wait(&mut child);
    let err = stderr_of(&mut child);
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    drop(stdin);
    assert_eq!(code, 2, "{err}");
    assert_eq!(rest, "", "open windows are not printed as alerts");
    assert!(
        err.contains("error: interrupted by SIGTERM after line 4"),
        "{err}"
    );
    assert!(
        err.contains(r#"open window, not final: {"kind":"alert","rule":"whois_burst""#)
            && err.contains(r#""count":3"#),
        "{err}"
    );
    assert!(err.contains("the input was not read to its end"), "{err}");
}

#[test]
fn a_closed_stdout_is_an_error() {
    // Rust's stdout discards writes to a closed descriptor: the matches
    // were lost and the run exited 0.
    let program = assert_cmd::cargo::cargo_bin("tripline");
    let output = std::process::Command::new("sh")
        .args(["-c", r#"exec "$0" "$@" >&-"#])
        .arg(program)
        .args(["eval", "--rules", "tests/fixtures/eval"])
        .arg("tests/fixtures/eval/events.jsonl")
        .output()
        .unwrap_or_else(|e| unreachable!("{e}"));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("error: stdout is closed"), "{err}");
}

#[test]
fn a_broken_pipe_stops_reading_with_a_message() {
    let mut child = spawn(&[]);
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap_or_else(|| unreachable!());
    let writer = std::thread::spawn(move || {
        for _ in 0..20_000 {
            if writeln!(stdin, "{AXFR}").is_err() {
                break;
            }
        }
    });
    let code = wait(&mut child);
    let _ = writer.join();
    let err = stderr_of(&mut child);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: writing to stdout after line ")
            && err.contains("the reader closed the pipe (broken pipe); stopped reading"),
        "{err}"
    );
}

#[test]
fn one_event_far_in_the_future_does_not_make_the_stream_late() {
    // It used to close every window: 30 late, 0 alerts.
    let mut lines = vec![whois("2026-01-01T00:00:00Z", "198.51.100.9")];
    lines.push(whois("9999-12-31T00:00:00Z", "198.51.100.1"));
    for minute in 0..10 {
        for second in [10, 20, 30] {
            let time = format!("2026-01-01T00:{minute:02}:{second}Z");
            lines.push(whois(&time, "198.51.100.9"));
        }
    }
    let (out, err, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-lateness",
            "1m",
        ],
        Some(&lines.join("\n")),
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(err.contains("line 2: future: "), "{err}");
    assert!(
        err.contains("32 lines, 0 matches, 2 alerts; 0 malformed, 0 without a usable @timestamp, 0 unrouted, 0 late, 1 in the future"),
        "{err}"
    );
}

#[test]
fn an_over_long_line_is_skipped_through_the_reader_thread() {
    // 3 MiB in one line, the limit 1M: reported with its number, and the
    // lines around it still read.
    let long = format!(r#"{{"x":"{}"}}"#, "a".repeat(3 << 20));
    let input = [AXFR, long.as_str(), AXFR].join("\n");
    let (out, err, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/eval",
            "--max-line-size",
            "1M",
        ],
        Some(&input),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        err.contains("line 2: malformed: longer than 1048576 bytes (--max-line-size); skipped"),
        "{err}"
    );
}

/// A logon (the v2 matrix's `sequence_failures_then_success`: 3 failures
/// then a success within 5m; `first_seen_user_address`: a success from an
/// address new for the user in 30d) at `time`.
fn logon(time: &str, ip: &str, outcome: &str) -> String {
    format!(
        r#"{{"@timestamp":"{time}","event":{{"dataset":"authentication","outcome":"{outcome}"}},"source":{{"ip":"{ip}"}},"user":{{"name":"bob"}}}}"#
    )
}

#[test]
fn sequences_are_matched_in_time_order_within_the_lateness() {
    let lines = [
        logon("2026-01-01T00:00:20Z", "1.1.1.1", "failure"),
        // Read before the failures it follows, but within the lateness.
        logon("2026-01-01T00:00:40Z", "1.1.1.1", "success"),
        logon("2026-01-01T00:00:00Z", "1.1.1.1", "failure"),
        logon("2026-01-01T00:00:10Z", "1.1.1.1", "failure"),
        // Moves the clock 10 minutes on: the events above are taken.
        logon("2026-01-01T00:10:40Z", "2.2.2.2", "failure"),
        // More than a minute behind the clock: late.
        logon("2026-01-01T00:05:00Z", "1.1.1.1", "success"),
    ]
    .join("\n");
    let (out, err, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/matrix/matrix_v2.trip",
            "--max-lateness",
            "1m",
            "--stats",
        ],
        Some(&lines),
    );
    assert_eq!(code, 0, "{err}");
    let alerts: Vec<&str> = out.lines().collect();
    assert_eq!(alerts.len(), 2, "{out}");
    assert!(
        alerts[0].contains(r#""rule":"sequence_failures_then_success""#)
            && alerts[0].contains(
                r#""first_time":"2026-01-01T00:00:00Z","last_time":"2026-01-01T00:00:40Z""#
            ),
        "{out}"
    );
    assert!(
        alerts[1].contains(r#""rule":"first_seen_user_address""#)
            && alerts[1].contains(r#""group":{"user.name":"bob","source.ip":"1.1.1.1"}"#),
        "{out}"
    );
    assert!(err.contains("line 6: late"), "{err}");
    assert!(
        err.contains("stats at the end of input: 0 partial sequences holding 0 events, 1 first-seen combinations, 1 events waiting"),
        "{err}"
    );
}

#[test]
fn held_sequence_events_count_against_max_groups() {
    let lines: Vec<String> = (0..5)
        .map(|i| {
            logon(
                &format!("2026-01-01T00:00:0{i}Z"),
                &format!("10.0.0.{i}"),
                "failure",
            )
        })
        .collect();
    let (_, err, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/matrix/matrix_v2.trip",
            "--max-groups",
            "3",
        ],
        Some(&lines.join("\n")),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: line 3: the open threshold windows (1 groups and distinct values) and the events and combinations that sequence and first-seen rules hold (3) are over --max-groups 3"),
        "{err}"
    );
}

/// `over W step W`: windows tumble, and as with any `step`, a window
/// alerts only when the window before it did not satisfy the condition.
#[test]
fn a_step_equal_to_the_window_alerts_once_per_run_of_windows() {
    let events = [1, 2, 6, 7, 16, 17]
        .map(|minute| {
            format!(
                r#"{{"@timestamp":"2026-01-01T00:{minute:02}:00Z","source":{{"ip":"198.51.100.7"}},"destination":{{"port":22}}}}"#
            ) + "\n"
        })
        .concat();
    let (stdout, stderr, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/hopping/step_equals_window.trip",
            "--source",
            "network",
        ],
        Some(&events),
    );
    assert_eq!(code, 0, "{stderr}");
    let windows: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split(r#""window":{"start":""#).nth(1)?.get(..20))
        .collect();
    // 00:00 alerts, 00:05 follows a satisfying window, 00:15 does not.
    assert_eq!(
        windows,
        ["2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z"],
        "{stdout}"
    );
}

/// An aggregate written twice is one (one value in the alert), and
/// `distinct(cased f)` is another aggregate than `distinct(f)`.
#[test]
fn aggregates_are_told_apart_by_meaning_not_place() {
    let events = ["ann", "ANN", "bob"]
        .iter()
        .enumerate()
        .map(|(i, user)| {
            format!(
                r#"{{"@timestamp":"2026-01-01T00:00:0{i}Z","event":{{"outcome":"failure"}},"source":{{"ip":"198.51.100.1"}},"user":{{"name":"{user}"}}}}"#
            ) + "\n"
        })
        .collect::<String>();
    let (stdout, stderr, code) = run(
        &[
            "eval",
            "--rules",
            "tests/fixtures/having/repeated_and_cased.trip",
            "--source",
            "authentication",
        ],
        Some(&events),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains(r#""distinct(user.name)":2,"distinct(cased user.name)":3,"first_time""#),
        "{stdout}"
    );
}
