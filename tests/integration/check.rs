//! The checker end to end, on `.trip` source: one row per diagnostic code
//! with the line and column it must point at (spec 1.4 "Positions"), across
//! files where names are pack-wide, and snapshots of the IR of
//! representative rules.

use tripline::check::{Checked, check};
use tripline::diag::Diagnostic;
use tripline::source::{FileId, SourceFile, SourceMap};
use tripline::syntax::parse;

/// Where rule files of these tests live (their `events` paths are relative to it).
const FOLDER: &str = "tests/fixtures/check";

/// Parses and checks `files` (name, text) as one pack, in order.
fn run(files: &[(&str, &str)]) -> (SourceMap, Checked, Vec<Diagnostic>) {
    let mut map = SourceMap::default();
    let ids: Vec<FileId> = files
        .iter()
        .map(|(name, text)| map.add(SourceFile::new(format!("{FOLDER}/{name}"), *text)))
        .collect();
    let mut syntax = Vec::new();
    let parsed: Vec<_> = ids
        .iter()
        .map(|id| {
            let (file, diagnostics) = parse(*id, &map.get(*id).text);
            syntax.extend(diagnostics);
            file
        })
        .collect();
    let pairs: Vec<_> = ids.iter().copied().zip(parsed.iter()).collect();
    let checked = check(&map, &pairs);
    (map, checked, syntax)
}

/// `CODE line:col` of every diagnostic (syntax ones too, so a typo in a
/// test input shows), prefixed with the file name when there are several.
fn positions(files: &[(&str, &str)]) -> Vec<String> {
    let (map, checked, syntax) = run(files);
    syntax
        .iter()
        .chain(&checked.diagnostics)
        .map(|d| {
            let file = map.get(d.primary.file);
            let at = file.position(d.primary.span.start);
            let name = file.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let prefix = if files.len() > 1 {
                format!("{name}:")
            } else {
                String::new()
            };
            format!("{} {prefix}{}:{}", d.code.id, at.line, at.column)
        })
        .collect()
}

/// A rule `r` whose statements are `lines`, one per line: line 1 is
/// `rule r {`, `lines[i]` is on line `i + 2` from column 3.
fn rule(lines: &[&str]) -> String {
    let body: String = lines.iter().map(|l| format!("  {l}\n")).collect();
    format!("rule r {{\n{body}}}\n")
}

const TITLE: &str = r#"title "Zone transfer""#;
const ID: &str = r#"id "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11""#;
const LEVEL: &str = "level high";
const ATTACK: &str = "attack T1590.002";
const DESCRIPTION: &str = r#"description "A zone transfer.""#;
const FROM: &str = "from dns";
const WHERE: &str = r#"where dns.question.type == "AXFR""#;
const TEST: &str = r#"test "fires" { event { dns.question.type: "AXFR" } expect match }"#;

/// A valid rule with `expression` as its `where` (line 8, column 9) and
/// `extra` statements from line 10 on.
fn rule_where(expression: &str, extra: &[&str]) -> String {
    let where_line = format!("where {expression}");
    let mut lines = vec![
        TITLE,
        ID,
        LEVEL,
        ATTACK,
        DESCRIPTION,
        FROM,
        &where_line,
        TEST,
    ];
    lines.extend(extra);
    rule(&lines)
}

/// A valid threshold rule (threshold on line 9) with `extra` from line 10 on.
fn threshold_rule(threshold: &str, extra: &[&str]) -> String {
    let mut lines = vec![
        TITLE,
        ID,
        LEVEL,
        ATTACK,
        DESCRIPTION,
        FROM,
        WHERE,
        threshold,
    ];
    lines.extend(extra);
    rule(&lines)
}

const COUNT_BY_IP: &str = "threshold count() by source.ip over 10m >= 3";

#[test]
fn a_valid_rule_has_no_diagnostics() {
    assert_eq!(
        positions(&[("a.trip", &rule_where(r#"dns.question.type == "AXFR""#, &[]))]),
        Vec::<String>::new()
    );
}

#[test]
fn each_diagnostic_points_at_its_token() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        // Names.
        (
            rule_where(r#"dns.question.tpye == "AXFR""#, &[]),
            vec!["E0301 8:9"],
        ),
        (
            rule_where("dns.question.name in @nolist", &[]),
            vec!["E0302 8:30"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                FROM,
                WHERE,
                LEVEL,
                TEST,
            ]),
            vec!["E0306 9:3"],
        ),
        (
            rule(&[ID, LEVEL, ATTACK, FROM, WHERE, TEST]),
            vec!["E0307 1:6", "E0307 1:6"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                "attack T1590.009",
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0308 5:10"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"playbook { triage "x" tirage "y" }"#],
            ),
            vec!["E0309 10:25"],
        ),
        (
            rule_where(r#"dns.question.type == "AXFR""#, &[TEST]),
            vec!["E0310 10:8"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                "level hgih",
                ATTACK,
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0311 4:9"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                "status stabel",
                LEVEL,
                ATTACK,
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0311 4:10"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                r#"level "high""#,
                ATTACK,
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0312 4:9"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                "from dnss",
                WHERE,
                TEST,
            ]),
            vec!["E0300 7:8"],
        ),
        // Operands are checked even when the field is unknown or the rule
        // has no source: what does not depend on the field's type.
        (
            rule_where(
                r#"dns.question.nme in @nolist or dns.question.nme like "a\\b""#,
                &[],
            ),
            vec!["E0301 8:9", "E0302 8:29", "E0301 8:40", "E0507 8:62"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                r#"where a in cidr ["10.0.0.300/8"] and c matches r"(?=a)" and d == """#,
                TEST,
            ]),
            vec!["E0307 1:6", "E0504 7:20", "E0506 7:52", "E0503 7:68"],
        ),
        (
            rule_where(
                r#"source.port contains @nolist or @timestamp == "" or source.port < 1"#,
                &[],
            ),
            vec!["E0400 8:9", "E0302 8:30", "E0405 8:41", "E0503 8:55"],
        ),
        // Types.
        (rule_where("dns.question.name > 5", &[]), vec!["E0400 8:9"]),
        (
            rule_where(r#"source.port contains "1""#, &[]),
            vec!["E0400 8:9"],
        ),
        (
            rule_where(r#"dns.question.name in cidr ["10.0.0.0/8"]"#, &[]),
            vec!["E0400 8:9"],
        ),
        (
            rule_where(r#"source.port == "53""#, &[]),
            vec!["E0401 8:24"],
        ),
        (
            rule_where("dns.question.name == 53", &[]),
            vec!["E0401 8:30"],
        ),
        (
            rule_where(r#"source.ip in ["10.0.0.1", 7]"#, &[]),
            vec!["E0401 8:35"],
        ),
        (
            format!(
                "list ports: int = [53]\n{}",
                rule_where("dns.question.name in @ports", &[])
            ),
            vec!["E0401 9:30"],
        ),
        (
            format!(
                "list nets: cidr = [\"10.0.0.0/8\"]\n{}",
                rule_where("source.ip in @nets", &[])
            ),
            vec!["E0402 9:22"],
        ),
        (
            "list ports: int = [53, \"x\"]\n".to_string(),
            vec!["E0403 1:24"],
        ),
        ("list l: strng = [\"a\"]\n".to_string(), vec!["E0404 1:9"]),
        (rule_where(r#"@timestamp == "x""#, &[]), vec!["E0405 8:9"]),
        (
            threshold_rule("threshold distinct(@timestamp) over 10m > 3", &[]),
            vec!["W0007 1:6", "E0406 9:22"],
        ),
        // Values.
        (
            rule(&[
                TITLE,
                r#"id "8c2f6f0e4a4e4c559a0c5d1f0e2b7a11""#,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0500 3:6"],
        ),
        (
            rule_where(r#"dns.question.type == "AXFR""#, &[r#"date "2026-02-29""#]),
            vec!["E0501 10:8"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"date "2026-03-02""#, r#"modified "2026-03-01""#],
            ),
            vec!["E0502 11:12"],
        ),
        (
            rule(&[
                r#"title """#,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0503 2:9"],
        ),
        (
            rule_where(r#"dns.question.name == """#, &[]),
            vec!["E0503 8:30"],
        ),
        (
            rule_where(r#"source.ip in cidr ["10.0.0.300/8"]"#, &[]),
            vec!["E0504 8:28"],
        ),
        (
            rule_where(r#"dns.question.name matches r"a(b""#, &[]),
            vec!["E0505 8:38"],
        ),
        (
            rule_where(r#"dns.question.name matches "a(b\u{62}""#, &[]),
            vec!["E0505 8:35"],
        ),
        (
            rule_where(r##"dns.question.name matches r#"x(?P<n>a)"#"##, &[]),
            vec!["E0506 8:39"],
        ),
        (
            rule_where(r#"dns.question.name like "a\\b""#, &[]),
            vec!["E0507 8:32"],
        ),
        (
            rule_where(r#"dns.question.name == "x""#, &["every 10m", "lookback 5m"]),
            vec!["E0508 11:12"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[
                    "lookback 5m",
                    r#"test "t" { event { source.ip: "1.2.3.4" } expect alert 0 }"#,
                ],
            ),
            vec!["E0508 10:12"],
        ),
        // The look-back a run needs: every 10m + delay 5m rounded up to 10m.
        (
            rule_where(
                r#"dns.question.name == "x""#,
                &["every 10m", "lookback 15m"],
            ),
            vec!["E0508 11:12"],
        ),
        (
            rule_where(
                r#"dns.question.name == "x""#,
                &["every 10m", "lookback 20m"],
            ),
            vec![],
        ),
        // A written delay that the written look-back cannot hold is
        // reported at the delay.
        (
            rule_where(
                r#"dns.question.name == "x""#,
                &["every 5m", "lookback 20m", "delay 20m"],
            ),
            vec!["E0511 12:9"],
        ),
        (
            rule_where(
                r#"dns.question.name == "x""#,
                &["every 5m", "lookback 20m", "delay 15m"],
            ),
            vec![],
        ),
        (
            rule_where(r#"dns.question.name in []"#, &[]),
            vec!["E0509 8:30"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                "attack []",
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0510 5:10"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                r#"version "1.2""#,
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["E0512 6:11"],
        ),
        // Tests.
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "t" { event { dns.question.type: "A" } expect alert 1 }"#],
            ),
            vec!["E0600 10:47"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "t" { event { dns.question.type: "A" } }"#],
            ),
            vec!["E0601 10:8"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "t" { events "axfr.jsonl" events "nope.jsonl" expect match }"#],
            ),
            vec!["E0602 10:41"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[r#"test "t" { event { source.ip: "1.2.3.4" } expect alert { user.name: "x" } }"#],
            ),
            vec!["E0603 10:60"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[r#"test "t" { repeat 0 every 1s { source.ip: "1.2.3.4" } expect alert 0 }"#],
            ),
            vec!["E0604 10:21"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[
                    r#"test "t" { event { source: { ip: "1.2.3.4" }, source.ip: "x" } expect match }"#,
                ],
            ),
            vec!["E0605 10:49"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[
                    r#"test "t" { event { @timestamp: "2026-11-22T10:00", source.ip: "1.2.3.4" } expect alert 0 }"#,
                ],
            ),
            vec!["E0606 10:34"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[
                    r#"test "t" { event { @timestamp: 9223372036854775807, source.ip: "1.2.3.4" } expect alert 0 }"#,
                ],
            ),
            vec!["E0606 10:34"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[
                    r#"test "t" { event { @timestamp: "99999999999999999", source.ip: "1.2.3.4" } expect alert 0 }"#,
                ],
            ),
            vec!["E0606 10:34"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[r#"test "t" { event { source.ip: "1.2.3.4" } expect alert -1 }"#],
            ),
            vec!["E0608 10:58"],
        ),
        (
            threshold_rule(
                COUNT_BY_IP,
                &[
                    r#"test "t" { repeat 900000 every 1s { source.ip: "1.2.3.4" } repeat 200000 every 1s { source.ip: "1.2.3.4" } expect alert 1 }"#,
                ],
            ),
            vec!["E0609 10:62"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "t" { events "../../etc/shadow" expect match }"#],
            ),
            vec!["E0610 10:21"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[&format!(
                    r#"test "t" {{ event {{ a: {}1{} }} expect match }}"#,
                    "[".repeat(127),
                    "]".repeat(127)
                )],
            ),
            vec!["E0611 10:25"],
        ),
        // Warnings.
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                "attack T1002",
                DESCRIPTION,
                FROM,
                WHERE,
                TEST,
            ]),
            vec!["W0001 5:10"],
        ),
        (
            rule_where(r#"source.ip in cidr ["10.1.2.3/8"]"#, &[]),
            vec!["W0002 8:28"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                "attack T1110",
                DESCRIPTION,
                "from authentication",
                r#"where event.outcome == "failed""#,
                r#"test "t" { event { event.outcome: "failed" } expect match }"#,
            ]),
            vec!["W0003 8:26"],
        ),
        ("list nothing = []\n".to_string(), vec!["W0004 1:6"]),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"author """#, r#"tags ["dns", ""]"#],
            ),
            vec!["W0005 10:10", "W0005 11:16"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "" { event { dns.question.type: "A" } expect nomatch }"#],
            ),
            vec!["W0005 10:8"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "t" { expect match }"#],
            ),
            vec!["W0006 10:8"],
        ),
        (
            rule(&[TITLE, ID, LEVEL, ATTACK, DESCRIPTION, FROM, WHERE]),
            vec!["W0007 1:6"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"test "t" { event { dns.question.typ: "AXFR" } expect match }"#],
            ),
            vec!["W0008 10:22"],
        ),
        // Lints from what new users write.
        (
            rule_where(r#"dns.question.name like "%admin%""#, &[]),
            vec!["W0012 8:32"],
        ),
        (
            rule_where(r#"source.ip == "10.0.0.0/8""#, &[]),
            vec!["W0013 8:22"],
        ),
        (
            threshold_rule("threshold count() by source.ip over 10m >= 1", &[]),
            vec!["W0007 1:6", "W0014 9:43"],
        ),
        (
            rule_where("len(dns.question.name) >= 0", &[]),
            vec!["W0014 8:9"],
        ),
        (
            rule_where(r#"dns.question.type == "AXFR""#, &["every 5m", "delay 7m"]),
            vec!["W0015 11:9"],
        ),
        // More shapes of the same codes.
        (
            format!(
                "list words = [\"a\"]\n{}",
                rule_where("source.ip in cidr @words", &[])
            ),
            vec!["E0402 9:27"],
        ),
        (
            format!(
                "list nets: cidr = [\"10.0.0.0/8\"]\n{}",
                rule_where("dns.question.name contains @nets", &[])
            ),
            vec!["E0402 9:36"],
        ),
        (
            "list nets: cidr = [\"10.0.0.0/8\", \"\", \"10.0.0.0/40\", \"10.9.0.0/8\"]\n"
                .to_string(),
            vec!["E0503 1:34", "E0504 1:38", "W0002 1:53"],
        ),
        (
            format!(
                "list globs = [\"a\\\\b\"]\n{}",
                rule_where("dns.question.name like @globs", &[])
            ),
            vec!["E0507 1:15"],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                r#"from "dns""#,
                "where nope == 1",
                TEST,
            ]),
            vec!["E0312 7:8"],
        ),
        (
            rule_where(
                r#"not source.ip not in cidr ["::1"] and source.ip in ["-", "127.0.0.1"] and exists(@timestamp)"#,
                &[],
            ),
            vec![],
        ),
        (
            threshold_rule("threshold count() by @timestamp over 10m > 3", &[]),
            vec!["W0007 1:6", "E0406 9:24"],
        ),
        // Alerts.
        (
            threshold_rule(COUNT_BY_IP, &[r#"alert { title "{dns.question.name}" }"#]),
            vec!["W0007 1:6", "E0314 10:18"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &["alert { fields [@timestamp] }"],
            ),
            vec!["E0407 10:19"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &["alert { threat dns.question.name ip_address }"],
            ),
            vec!["E0408 10:36"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &["alert { risk source.ip system 101 }"],
            ),
            vec!["E0513 10:33"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &[r#"alert { title "a {source.ip" }"#],
            ),
            vec!["E0514 10:17"],
        ),
        (
            threshold_rule(
                "threshold count() over 10m >= 3",
                &["alert { notable false }"],
            ),
            vec!["W0007 1:6", "E0515 10:9"],
        ),
        (
            rule_where(
                r#"dns.question.type == "AXFR""#,
                &["alert { risk source.ip sytem 40 fields [dns.question.nme] notable notable }"],
            ),
            vec!["E0311 10:26", "E0301 10:43", "E0306 10:69"],
        ),
        // Version 2: `cased` only before a string comparison on a field
        // with case, and on a `by` / `distinct` field that is not `int`.
        (rule_where(r#"dns.question.name cased == "x""#, &[]), vec![]),
        (
            rule_where("source.port cased == 53", &[]),
            vec!["E0421 8:21"],
        ),
        (
            rule_where(r#"dns.question.name cased matches r"x""#, &[]),
            vec!["E0421 8:27"],
        ),
        (
            threshold_rule("threshold count() by cased source.port over 10m > 3", &[]),
            vec!["W0007 1:6", "E0421 9:24"],
        ),
        (
            threshold_rule(
                "threshold distinct(cased dns.question.name) by cased source.ip over 10m > 3",
                &[],
            ),
            vec!["W0007 1:6"],
        ),
        // Version 2: `from a, b` reads fields every source has.
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                "from web, proxy",
                r#"where url.path == "/x" and http.response.status_code > 399"#,
                TEST,
            ]),
            vec![],
        ),
        (
            rule(&[
                TITLE,
                ID,
                LEVEL,
                ATTACK,
                DESCRIPTION,
                "from web, proxy, nosuch",
                r#"where destination.ip == "1.2.3.4" or user.name == "x""#,
            ]),
            vec!["W0007 1:6", "E0300 7:20", "E0301 8:9", "E0301 8:40"],
        ),
        // Version 2: `len()` of a string or `ip` field, compared as an int.
        (rule_where("len(dns.question.name) > 60", &[]), vec![]),
        (rule_where("len(source.ip) in [7, 15]", &[]), vec![]),
        (rule_where("len(source.port) > 2", &[]), vec!["E0422 8:13"]),
        (
            rule_where(r#"len(dns.question.name) == "x""#, &[]),
            vec!["E0401 8:35"],
        ),
        (
            rule_where(r#"len(dns.question.name) contains "x""#, &[]),
            vec!["E0400 8:13"],
        ),
        // Version 2: `sum`/`min`/`max` read an `int` field; `step` divides
        // the window; a valid `having` condition has no error.
        (
            threshold_rule(
                "threshold by source.ip over 10m having sum(dns.question.name) > 3",
                &[],
            ),
            vec!["W0007 1:6", "E0420 9:46"],
        ),
        (
            threshold_rule(
                "threshold by source.ip over 10m having count() > 1 or max(@timestamp) > 3",
                &[],
            ),
            vec!["W0007 1:6", "E0420 9:61"],
        ),
        (
            threshold_rule("threshold count() by source.ip over 10m step 3m >= 3", &[]),
            vec!["W0007 1:6", "E0520 9:48"],
        ),
        (
            threshold_rule("threshold over 10m step 20m having count() >= 3", &[]),
            vec!["W0007 1:6", "E0520 9:27"],
        ),
        (
            threshold_rule(
                "threshold by source.ip over 10m step 1m having count() > 5 and \
                 (distinct(dns.question.name) > 3 or not max(source.port) < 1000)",
                &[],
            ),
            vec!["W0007 1:6"],
        ),
        // Version 2: `sequence` and `first seen` read grouping fields, count
        // 1 to 10000 events a step, need two steps, and exclude `threshold`
        // and each other; a valid one has no error.
        (
            threshold_rule(
                "sequence by source.ip within 5m { 3 where dns.question.type == \"AXFR\" \
                 then where dns.question.type == \"IXFR\" }",
                &[],
            ),
            vec!["W0007 1:6"],
        ),
        (
            threshold_rule(
                "sequence by source.ip within 5m { 0 where dns.question.type == \"AXFR\" \
                 then where dns.question.nme == \"x\" }",
                &[],
            ),
            vec!["W0007 1:6", "E0521 9:37", "E0301 9:84"],
        ),
        (
            threshold_rule(
                "sequence by @timestamp within 5m { where dns.question.type == \"AXFR\" }",
                &[],
            ),
            vec!["W0007 1:6", "E0406 9:15", "E0522 9:38"],
        ),
        (
            threshold_rule(
                "first seen source.ip, cased dns.question.name in 30d",
                &[COUNT_BY_IP],
            ),
            vec!["W0007 1:6", "E0424 10:3"],
        ),
        (
            threshold_rule("first seen cased source.port in 1d", &[]),
            vec!["W0007 1:6", "E0421 9:14"],
        ),
        (
            threshold_rule(
                "sequence by source.ip within 5m { where source.port == 1 then where source.port == 2 }",
                &["lookback 10m"],
            ),
            vec!["W0007 1:6", "E0508 10:12"],
        ),
        (
            threshold_rule("first seen source.ip in 1d", &["lookback 1d"]),
            vec!["W0007 1:6", "E0508 10:12"],
        ),
        (
            threshold_rule(
                "first seen source.ip in 1d",
                &[r#"alert { title "new {source.ip} on {host.name}" }"#],
            ),
            vec!["W0007 1:6", "E0314 10:37"],
        ),
        (
            threshold_rule(
                "first seen @timestamp in 1d",
                &[
                    r#"test "t" { event { source.ip: "1.2.3.4" } expect match expect alert { source.ip: "1.2.3.4" } }"#,
                ],
            ),
            vec!["E0406 9:14", "E0600 10:45", "E0603 10:73"],
        ),
        (
            threshold_rule(
                "sequence within 1h { where source.ip == \"1.2.3.4\" then where source.port == 1 }",
                &[
                    r#"test "t" { event { source.ip: "1.2.3.4" } expect alert { source.ip: "1.2.3.4" } }"#,
                ],
            ),
            vec!["E0603 10:60"],
        ),
        (
            rule(&[
                r#"title """#,
                r#"id "x""#,
                "level loud",
                "attack T0000",
                DESCRIPTION,
                FROM,
                r#"where source.port == "53" or dns.question.nme == "a""#,
                TEST,
            ]),
            vec![
                "E0503 2:9",
                "E0500 3:6",
                "E0311 4:9",
                "E0308 5:10",
                "E0401 8:24",
                "E0301 8:32",
            ],
        ),
    ];
    let mut failures = Vec::new();
    let mut shown = String::new();
    let mut codes = std::collections::BTreeSet::new();
    for (source, expected) in &cases {
        let found = positions(&[("r.trip", source)]);
        if found != *expected {
            failures.push(format!(
                "{source}\n  expected {expected:?}\n  found    {found:?}"
            ));
        }
        // What a person sees, as `check` prints it.
        let (map, checked, syntax) = run(&[("r.trip", source)]);
        for d in syntax.iter().chain(&checked.diagnostics) {
            codes.insert(d.code.id);
            shown.push_str(&tripline::diag::render::render(&map, d, false));
            shown.push_str("\n\n");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    insta::assert_snapshot!(shown);
    // Every checker code has a row here (syntax codes are in parse.rs,
    // target codes in the target tests, duplicates below, E0607 in
    // test_cmd.rs, W0009 in runbook.rs, W0010 and E0612 (a test-time
    // failure) in hostile_io.rs, W0011 in packs.rs, E0620-E0622 (eval's
    // inputs and routes) in inputs.rs).
    let untested: Vec<&str> = tripline::diag::codes::ALL
        .iter()
        .map(|c| c.id)
        .filter(|id| {
            id.starts_with("E03")
                || id.starts_with("E04")
                || id.starts_with("E05")
                || id.starts_with("E06")
                || id.starts_with('W')
        })
        .filter(|id| {
            ![
                "E0303", "E0304", "E0305", "E0313", "E0607", "E0612", "E0620", "E0621", "E0622",
                "W0009", "W0010", "W0011",
                // Two sources typing a field differently: none in the
                // bundled taxonomy (a unit test in src/check/context.rs).
                "E0423",
            ]
            .contains(id)
        })
        .filter(|id| !codes.contains(id))
        .collect();
    assert!(untested.is_empty(), "codes without a row: {untested:?}");
}

#[test]
fn duplicates_across_files_point_at_the_later_one() {
    let first = rule_where(r#"dns.question.type == "AXFR""#, &[]);
    let second = format!("list l = [\"a\"]\n{first}");
    let found = positions(&[
        ("a.trip", &format!("list l = [\"b\"]\n{first}")),
        ("b.trip", &second),
    ]);
    assert_eq!(
        found,
        ["E0304 b.trip:1:6", "E0303 b.trip:2:6", "E0305 b.trip:4:6"]
    );
    let (map, checked, _) = run(&[
        ("a.trip", &format!("list l = [\"b\"]\n{first}")),
        ("b.trip", &second),
    ]);
    let shown: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| tripline::diag::render::render(&map, d, false))
        .collect();
    insta::assert_snapshot!(shown.join("\n\n"));
    let (map, checked, _) = run(&[("a.trip", &first), ("b.trip", &first)]);
    let duplicate = &checked.diagnostics[0];
    let label = &duplicate.secondary[0];
    assert_eq!(map.get(label.file).position(label.span.start).line, 1);
    assert_eq!(
        checked.pack.rules.len(),
        1,
        "the later duplicate is left out"
    );
}

#[test]
fn broken_items_are_known_by_name() {
    let source = format!(
        "list l = [\"a\" \"b\"]\n{}",
        rule_where("dns.question.name in @l", &[])
    );
    let found = positions(&[("r.trip", &source)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("E02"), "{found:?}");
}

/// The IR of a pack whose files check clean.
fn pack(files: &[(&str, &str)]) -> tripline::ir::Pack {
    let (_, checked, syntax) = run(files);
    let errors: Vec<_> = syntax
        .iter()
        .chain(&checked.diagnostics)
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    checked.pack
}

#[test]
fn ir_of_the_spec_example_inlines_lists_and_derives_tactics() {
    let source = r#"
list internal_ranges: cidr = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]

rule dns_zone_transfer_from_outside {
  title "DNS zone transfer requested from outside the organisation"
  id "8C2F6F0E-4a4e-4c55-9a0c-5d1f0e2b7a11"
  status stable
  level high
  attack [T1590.002, T1046, T1590.002]
  author "Detection Engineering"
  date "2026-11-22"
  description "A full (AXFR) or incremental (IXFR) zone transfer."
  references ["https://attack.mitre.org/techniques/T1590/002/"]
  tags ["dns"]
  from dns
  where dns.question.type in ["AXFR", "IXFR"]
    and not source.ip in cidr @internal_ranges
  playbook {
    triage "Check whether the transfer succeeded."
    triage "Count the records returned."
    contain "Block the source."
  }
  test "external AXFR fires" {
    event { source.ip: "203.0.113.7", dns: { question: { name: "corp.example", type: "axfr" } } }
    expect match
  }
}
"#;
    insta::assert_yaml_snapshot!(pack(&[("zone.trip", source)]));
}

#[test]
fn ir_of_operators_lowers_negations_and_flattens_chains() {
    let source = r#"
list tools = ["nmap", "masscan"]
list odd_nets: cidr = ["192.168.1.1/16"]
rule web_probe {
  title "Probe"
  id "5d1f0e2b-4a4e-4c55-9a0c-8c2f6f0e7a11"
  level low
  attack T1595
  description "Scanner traffic."
  from web
  where (http.request.method != "GET" and url.path not in ["/", "/index.html"] and (url.query contains all ["a", "b"]))
    and (user_agent.original startswith @tools or url.original like "*\\*.php?x" or url.path matches r"(?i)^/admin\d+")
    and http.response.status_code >= 400 and not source.ip not in cidr @odd_nets
  every 1m
  test "scan" { event { http.request.method: "POST" } expect nomatch }
}
"#;
    insta::assert_yaml_snapshot!(pack(&[("web.trip", source)]));
}

#[test]
fn ir_of_a_threshold_rule_fills_the_schedule_and_test_inputs() {
    let source = r#"
rule whois_burst {
  title "WHOIS burst"
  id "9a0c5d1f-0e2b-4a4e-4c55-8c2f6f0e7a11"
  level medium
  attack T1596.002
  description "Many WHOIS queries."
  from network
  where destination.port == 43
  threshold distinct(destination.ip) by source.ip, observer.name over 10m >= 3
  test "burst" {
    repeat 3 every 10s { source.ip: "198.51.100.9", destination.port: 43, tags: ["a", { b: null }], ok: true }
    event { @timestamp: "2026-11-22T10:00:00Z", source.ip: "198.51.100.10", destination.port: 43 }
    events "axfr.jsonl"
    expect alert { source.ip: "198.51.100.9" }
    expect alert 1
  }
}
"#;
    insta::assert_yaml_snapshot!(pack(&[("whois.trip", source)]));
}

/// Errors that leave the meaning known (a bad escape, a stray character,
/// `f not contains s`) do not hide the rule's other problems.
#[test]
fn harmless_syntax_errors_keep_the_rule_checked() {
    let source = rule_where(
        r#"dns.question.name not contains "x" and dns.question.tpye == "A\q""#,
        &[],
    );
    assert_eq!(
        positions(&[("r.trip", &source)]),
        ["E0204 8:27", "E0103 8:71", "E0301 8:48"]
    );
}
