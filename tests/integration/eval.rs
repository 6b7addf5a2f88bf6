//! `tripline eval`, end to end: JSON lines on stdout, problems and the
//! summary on stderr, routing flags, exit codes.

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
    insta::assert_snapshot!(err, @r"
    line 3: malformed JSON: expected ident at line 1 column 2
    line 4: unrouted: its source is not one of the taxonomy's
    line 7: no usable @timestamp: not counted by threshold rules
    tripline eval: 7 lines, 1 matches, 1 alerts; 1 malformed, 1 without a usable @timestamp, 1 unrouted, 0 late
    ");
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
