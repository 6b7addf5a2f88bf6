//! `tripline test` failures that explain: each node of `where` with its
//! verdict and the event's value, and every group and window of a
//! threshold with its aggregate values, bounded.

use crate::support::tripline;

const FAILING: &str = "tests/fixtures/explain/failing.trip";

#[test]
fn failures_show_predicates_groups_and_windows() {
    let run = tripline(&["test", FAILING]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn each_predicate_has_its_verdict_and_the_events_value() {
    let run = tripline(&["test", FAILING, "--filter", "zone_transfer"]);
    let lines: Vec<&str> = run.stdout.lines().map(str::trim).collect();
    // The second event of "fires": a nested object, an internal address.
    let at = lines
        .iter()
        .position(|l| l.ends_with("failing.trip:21"))
        .unwrap();
    assert_eq!(
        lines[at + 2..at + 6],
        [
            "false  all of:",
            "true     dns.question.type in [\"AXFR\", \"IXFR\"]   (dns.question.type: \"AXFR\")",
            "false    not:",
            "true       source.ip in cidr @internal   (source.ip: \"10.1.2.3\")",
        ]
    );
    // 25 events missed: 20 listed, 3 of them explained.
    assert_eq!(run.stdout.matches("(repeat, copy").count(), 20);
    assert!(run.stdout.contains("  ... and 5 more\n"));
    assert_eq!(run.stdout.matches("where, node by node").count(), 3 + 2);
}

#[test]
fn threshold_failures_show_every_window_and_whether_it_alerted() {
    let run = tripline(&["test", FAILING, "--filter", "burst"]);
    assert!(
        run.stdout.contains(
            "{source.ip: \"1.2.3.4\"} window 2026-01-01T00:00:00Z..2026-01-01T00:10:00Z count 3 -> no alert"
        ),
        "{}",
        run.stdout
    );
    let run = tripline(&["test", FAILING, "--filter", "bounded"]);
    assert_eq!(
        run.stdout.matches("-> no alert").count(),
        20,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("    ... and 5 more\n"));
}
