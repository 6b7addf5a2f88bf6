//! `tripline test`, end to end: the report, exit codes and JUnit.

use assert_cmd::Command;

fn run(args: &[&str]) -> (String, i32) {
    let mut cmd = Command::cargo_bin("tripline").unwrap_or_else(|_| Command::new("tripline"));
    let output = cmd
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap_or_else(|e| unreachable!("{e}"));
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn reports_each_test_and_fails_with_exit_1() {
    let (out, code) = run(&["test", "tests/fixtures/eval"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r#"
    test dns_zone_transfer "external AXFR fires" ... ok
    test dns_zone_transfer "internal does not" ... ok
    test whois_burst "three in five minutes" ... ok
    test whois_burst "a wrong expectation" ... FAILED
        expect alert 1 (tests/fixtures/eval/recon.trip:40): 0 alerts raised
          every group and window of `threshold count() by source.ip over 5m >= 3` (aggregate values, then whether it alerted):
            {source.ip: "198.51.100.9"} window 2026-01-01T00:00:00Z..2026-01-01T00:05:00Z count 2 -> no alert
    3 passed, 1 failed
    "#);
}

#[test]
fn writes_junit() {
    let path = std::env::temp_dir().join(format!("tripline-junit-{}.xml", std::process::id()));
    let path_text = path.display().to_string();
    let (_, code) = run(&["test", "tests/fixtures/eval", "--junit", &path_text]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    insta::assert_snapshot!(xml, @r#"
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites name="tripline" tests="4" failures="1">
      <testsuite name="dns_zone_transfer" tests="2" failures="0">
        <testcase classname="dns_zone_transfer" name="external AXFR fires"/>
        <testcase classname="dns_zone_transfer" name="internal does not"/>
      </testsuite>
      <testsuite name="whois_burst" tests="2" failures="1">
        <testcase classname="whois_burst" name="three in five minutes"/>
        <testcase classname="whois_burst" name="a wrong expectation">
          <failure message="expect alert 1 (tests/fixtures/eval/recon.trip:40): 0 alerts raised">expect alert 1 (tests/fixtures/eval/recon.trip:40): 0 alerts raised&#10;  every group and window of `threshold count() by source.ip over 5m &gt;= 3` (aggregate values, then whether it alerted):&#10;    {source.ip: &quot;198.51.100.9&quot;} window 2026-01-01T00:00:00Z..2026-01-01T00:05:00Z count 2 -&gt; no alert</failure>
        </testcase>
      </testsuite>
    </testsuites>
    "#);
    let (_, code) = run(&[
        "test",
        "tests/fixtures/eval",
        "--junit",
        "/nonexistent-dir/x.xml",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn missing_paths_exit_2() {
    assert_eq!(run(&["test", "tests/fixtures/eval/nope"]).1, 2);
}

#[test]
fn a_malformed_events_line_fails_its_test_at_file_and_line() {
    let (out, code) = run(&["test", "tests/fixtures/test_cmd/malformed"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r#"
    test whois_burst "burst" ... FAILED
        tests/fixtures/test_cmd/malformed/bad.jsonl:2: error[E0607]: malformed JSON: key must be a string at line 1 column 2
    0 passed, 1 failed
    "#);
}

#[test]
fn a_missing_events_file_is_a_rule_error_and_runs_no_test() {
    let output = Command::cargo_bin("tripline")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["test", "tests/fixtures/test_cmd/missing"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "no test runs on a pack with errors"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[E0602]"), "{stderr}");
    assert!(stderr.contains("whois.trip:12:12"), "{stderr}");
}
