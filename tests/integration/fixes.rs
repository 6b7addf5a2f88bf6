//! Fixes carried by diagnostics and `check --fix`, and the diagnostics new
//! users meet: each at its line and column with its message, the fix's
//! edit where there is one, and what `--fix` leaves in the file.

use std::path::PathBuf;

use tripline::check::check;
use tripline::diag::{Applicability, Diagnostic, fix};
use tripline::source::{SourceFile, SourceMap};
use tripline::syntax::parse;

use super::support::tripline_in;

/// Every diagnostic of `text` (parse and check) as (code, line:col,
/// message), and the diagnostics themselves.
fn diagnose(text: &str) -> (Vec<(String, String, String)>, Vec<Diagnostic>) {
    let mut map = SourceMap::default();
    let id = map.add(SourceFile::new("r.trip", text));
    let (file, mut diagnostics) = parse(id, &map.get(id).text);
    diagnostics.extend(check(&map, &[(id, &file)]).diagnostics);
    let rows = diagnostics
        .iter()
        .map(|d| {
            let at = map.get(id).position(d.primary.span.start);
            (
                d.code.id.to_string(),
                format!("{}:{}", at.line, at.column),
                d.message.clone(),
            )
        })
        .collect();
    (rows, diagnostics)
}

fn row(code: &str, at: &str, message: &str) -> (String, String, String) {
    (code.to_string(), at.to_string(), message.to_string())
}

/// A web rule with `where` on line 8 (from column 3) and `extra` lines
/// from line 9 on.
fn web_rule(where_: &str, extra: &[&str]) -> String {
    let mut text = String::from(
        "rule r {\n  title \"t\"\n  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n  level high\n  \
         attack T1595.002\n  description \"d\"\n  from web\n",
    );
    text.push_str(&format!("  where {where_}\n"));
    for line in extra {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str("}\n");
    text
}

const FIRES: &str =
    r#"test "fires" { event { url.path: "/admin", http.response.status_code: 200 } expect match }"#;

/// The text after applying every fix (safe and for review) of `diagnostics`.
fn all_fixed(text: &str, diagnostics: &[Diagnostic]) -> String {
    fix::apply(text, diagnostics.iter().flat_map(|d| &d.fixes)).0
}

#[test]
fn operators_of_other_languages_are_read_as_meant_and_fixed() {
    let text = web_rule(
        r#"url.path = "/admin" && http.response.status_code <> 200 || !url.path == "/x""#,
        &[FIRES],
    );
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [
            row("E0206", "8:18", "`=` is not an operator here; write `==`"),
            row("E0206", "8:29", "`&&` is not an operator here; write `and`"),
            row("E0206", "8:58", "`<>` is not an operator here; write `!=`"),
            row("E0206", "8:65", "`||` is not an operator here; write `or`"),
            row("E0206", "8:68", "`!` is not an operator here; write `not`"),
        ]
    );
    assert!(
        diagnostics
            .iter()
            .all(|d| d.fixes[0].applicability == Applicability::Safe)
    );
    let fixed = all_fixed(&text, &diagnostics);
    assert!(
        fixed.contains(
            r#"where url.path == "/admin" and http.response.status_code != 200 or not url.path == "/x""#
        ),
        "{fixed}"
    );
    assert_eq!(diagnose(&fixed).0, []);
}

#[test]
fn the_item_is_still_checked_after_a_foreign_operator() {
    // `=` is read as `==`, so the unknown field after it is still found.
    let text = web_rule(
        r#"url.path = "/a" and http.response.status == 200"#,
        &[FIRES],
    );
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [
            row("E0206", "8:18", "`=` is not an operator here; write `==`"),
            row(
                "E0301",
                "8:29",
                "unknown field `http.response.status` in source `web`"
            ),
        ]
    );
    assert_eq!(
        diagnostics[1].help.as_deref(),
        Some("did you mean `http.response.status_code`?")
    );
    assert!(all_fixed(&text, &diagnostics).contains("http.response.status_code == 200"));
}

#[test]
fn null_tests_suggest_exists_for_review() {
    let text = web_rule(
        "url.query is null and url.path != null and url.domain is not null",
        &[FIRES],
    );
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [
            row(
                "E0207",
                "8:9",
                "`url.query is null`: there is no `null`; write `not exists(url.query)`"
            ),
            row(
                "E0207",
                "8:31",
                "`url.path != null`: there is no `null`; write `exists(url.path)`"
            ),
            row(
                "E0207",
                "8:52",
                "`url.domain is not null`: there is no `null`; write `exists(url.domain)`"
            ),
        ]
    );
    assert!(
        diagnostics
            .iter()
            .all(|d| d.fixes[0].applicability == Applicability::Unsafe)
    );
    let fixed = all_fixed(&text, &diagnostics);
    assert!(
        fixed.contains("where not exists(url.query) and exists(url.path) and exists(url.domain)"),
        "{fixed}"
    );
}

#[test]
fn a_bare_word_value_is_quoted() {
    let text = web_rule("http.request.method == POST", &[FIRES]);
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [row(
            "E0208",
            "8:32",
            "expected a value, found the bare word `POST`"
        )]
    );
    assert!(all_fixed(&text, &diagnostics).contains(r#"http.request.method == "POST""#));
}

#[test]
fn bare_words_in_lists_are_quoted_too() {
    let text = format!(
        "list methods = [GET, \"HEAD\"]\n{}",
        web_rule("http.request.method in [POST, PUT]", &[FIRES])
    );
    let (rows, diagnostics) = diagnose(&text);
    let at: Vec<(&str, &str)> = rows
        .iter()
        .map(|(c, a, _)| (c.as_str(), a.as_str()))
        .collect();
    assert_eq!(
        at,
        [("E0208", "1:17"), ("E0208", "9:33"), ("E0208", "9:39")]
    );
    let fixed = all_fixed(&text, &diagnostics);
    assert!(
        fixed.starts_with("list methods = [\"GET\", \"HEAD\"]"),
        "{fixed}"
    );
    assert!(
        fixed.contains(r#"http.request.method in ["POST", "PUT"]"#),
        "{fixed}"
    );
}

#[test]
fn a_bad_duration_or_integer_no_longer_hides_the_rules_other_errors() {
    let text = web_rule(
        "http.response.status == 200",
        &[
            "threshold count() by source.ip over 10min >= 5",
            r#"test "t" { event { http.response.status_code: 99999999999999999999 } expect alert 1 }"#,
        ],
    );
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        diagnostics[0].help.as_deref(),
        Some("the units are `s` (seconds), `m` (minutes), `h` (hours) and `d` (days): write `10m`")
    );
    assert!(diagnostics[0].fixes[0].is_safe());
    assert!(all_fixed(&text, &diagnostics[..1]).contains("over 10m >= 5"));
    assert_eq!(
        rows,
        [
            row(
                "E0105",
                "9:39",
                "expected a duration like `5m`, found `10min`"
            ),
            row(
                "E0104",
                "10:49",
                "integer `99999999999999999999` is out of the 64-bit range"
            ),
            row(
                "E0301",
                "8:9",
                "unknown field `http.response.status` in source `web`"
            ),
        ]
    );
}

#[test]
fn nothing_is_said_about_a_made_up_value() {
    // The window reads as 0 after E0105: no schedule error may follow from
    // it, nor an "always holds" from an overflowing threshold.
    let text = web_rule(
        r#"url.path == "/a""#,
        &[
            "threshold count() by source.ip over 10minutes step 1m >= 99999999999999999999",
            "lookback 1m",
            r#"test "t" { event { url.path: "/a" } expect alert 0 }"#,
        ],
    );
    let codes: Vec<String> = diagnose(&text).0.into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(codes, ["E0105", "E0104"]);
}

#[test]
fn an_unknown_sub_technique_lists_its_siblings_with_names() {
    let text = web_rule(r#"url.path == "/a""#, &[FIRES]).replace("T1595.002", "T1595.004");
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [row("E0308", "5:10", "unknown ATT&CK technique `T1595.004`")]
    );
    assert_eq!(
        diagnostics[0].help.as_deref(),
        Some(
            "the sub-techniques of `T1595` are `T1595.001` (Scanning IP Blocks), \
             `T1595.002` (Vulnerability Scanning), `T1595.003` (Wordlist Scanning)"
        )
    );
    let offered: Vec<&str> = diagnostics[0]
        .fixes
        .iter()
        .map(|f| f.edits[0].replacement.as_str())
        .collect();
    assert_eq!(offered, ["T1595.001", "T1595.002", "T1595.003"]);
    assert!(diagnostics[0].fixes.iter().all(|f| !f.is_safe()));
}

#[test]
fn a_missing_id_comes_with_a_fresh_one_to_paste() {
    let text = web_rule(r#"url.path == "/a""#, &[FIRES])
        .replace("  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n", "");
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(rows, [row("E0307", "1:6", "rule `r` has no `id`")]);
    let help = diagnostics[0].help.clone().unwrap_or_default();
    let id = help
        .strip_prefix("add `id \"")
        .and_then(|rest| rest.split_once('"'))
        .map(|(id, _)| id)
        .unwrap_or_default();
    assert!(tripline::check::values::is_uuid(id), "{help}");
    let fixed = all_fixed(&text, &diagnostics);
    assert!(
        fixed.starts_with(&format!("rule r {{\n  title \"t\"\n  id \"{id}\"\n")),
        "{fixed}"
    );
    assert_eq!(diagnose(&fixed).0, []);
    // The same input gives the same id (output is deterministic); another
    // rule, or the same rule in another text, gets another.
    assert_eq!(diagnose(&text).1[0].help, diagnostics[0].help);
    let renamed = text.replace("rule r {", "rule s {");
    assert_ne!(diagnose(&renamed).1[0].help, diagnostics[0].help);
    let edited = text.replace("title \"t\"", "title \"u\"");
    assert_ne!(diagnose(&edited).1[0].help, diagnostics[0].help);
}

#[test]
fn misspelt_statements_and_fields_are_fixed_when_unambiguous() {
    let text = web_rule(r#"url.pth == "/a""#, &[FIRES]).replace("description", "descripton");
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [row("E0203", "6:3", "unknown statement `descripton`")]
    );
    assert!(diagnostics[0].fixes[0].is_safe());
    let once = all_fixed(&text, &diagnostics);
    // Only once the statement parses is the rule checked and the field seen.
    let (rows, diagnostics) = diagnose(&once);
    assert_eq!(
        rows,
        [row(
            "E0301",
            "8:9",
            "unknown field `url.pth` in source `web`"
        )]
    );
    assert!(diagnostics[0].fixes[0].is_safe());
    assert_eq!(diagnose(&all_fixed(&once, &diagnostics)).0, []);
}

#[test]
fn a_near_miss_in_a_test_event_is_w0008() {
    let text = web_rule(
        r#"url.path == "/admin""#,
        &[r#"test "t" { event { url.path: "/admin", http.response.status: 200 } expect match }"#],
    );
    let (rows, diagnostics) = diagnose(&text);
    assert_eq!(
        rows,
        [row(
            "W0008",
            "9:42",
            "`http.response.status` is not a field of source `web`; the source has \
             `http.response.status_code`"
        )]
    );
    assert!(
        !diagnostics[0].fixes[0].is_safe(),
        "a near miss is for review"
    );
    assert!(all_fixed(&text, &diagnostics).contains("http.response.status_code: 200"));
}

#[test]
fn lints_carry_fixes_for_review() {
    let text = web_rule(
        r#"url.path like "%admin%" and destination.ip != "10.0.0.0/8""#,
        &[FIRES, "every 5m", "delay 7m"],
    );
    let (rows, diagnostics) = diagnose(&text);
    let codes: Vec<(&str, &str)> = rows
        .iter()
        .map(|(code, at, _)| (code.as_str(), at.as_str()))
        .collect();
    assert_eq!(
        codes,
        [("W0012", "8:23"), ("W0013", "8:55"), ("W0015", "11:9")]
    );
    assert!(
        diagnostics
            .iter()
            .all(|d| d.fixes.len() == 1 && !d.fixes[0].is_safe())
    );
    let fixed = all_fixed(&text, &diagnostics);
    assert!(
        fixed.contains(r#"url.path like "*admin*" and destination.ip not in cidr ["10.0.0.0/8"]"#),
        "{fixed}"
    );
    assert!(fixed.contains("delay 10m"), "{fixed}");
    // A block in an inline list: the operator becomes `in cidr`.
    let listed = web_rule(r#"destination.ip in ["192.0.2.1", "10.0.0.0/8"]"#, &[FIRES]);
    let (rows, diagnostics) = diagnose(&listed);
    assert_eq!(
        rows,
        [row(
            "W0013",
            "8:41",
            "`in` compares `destination.ip` with the text of each element; \"10.0.0.0/8\" is a CIDR block"
        )]
    );
    assert!(
        all_fixed(&listed, &diagnostics)
            .contains(r#"destination.ip in cidr ["192.0.2.1", "10.0.0.0/8"]"#)
    );
    // URL encoding is not SQL: no warning.
    let encoded = web_rule(r#"url.path like "%2e%2e%2f""#, &[FIRES]);
    assert_eq!(diagnose(&encoded).0, []);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-fix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_fix_applies_the_safe_fixes_and_reports_what_remains() {
    let dir = scratch("apply");
    // `descripton` hides the rule from the checker: `url.pth` shows (and
    // is fixed) only in the second round.
    let text = web_rule("url.pth = \"/admin\" && url.query is null", &[FIRES])
        .replace("  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n", "")
        .replace("description", "descripton");
    std::fs::write(dir.join("r.trip"), &text).unwrap();
    let run = tripline_in(&dir, &["check", "--fix", "r.trip"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("fixed 5 problems, 1 remaining\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("error[E0207]"), "{}", run.stderr);
    let after = std::fs::read_to_string(dir.join("r.trip")).unwrap();
    assert!(
        after.contains("where url.path == \"/admin\" and url.query is null"),
        "{after}"
    );
    assert!(after.contains("\n  id \""), "{after}");
    // Nothing safe is left: a second run changes nothing.
    let again = tripline_in(&dir, &["check", "--fix", "r.trip"]);
    assert!(
        again.stderr.starts_with("fixed 0 problems, 1 remaining\n"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(dir.join("r.trip")).unwrap(), after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_fix_keeps_a_byte_order_mark_and_json_lists_fixes() {
    let dir = scratch("bom");
    let text = web_rule("url.path = \"/admin\"", &[FIRES]);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    std::fs::write(dir.join("r.trip"), &bytes).unwrap();
    let json = tripline_in(&dir, &["check", "--format", "json", "r.trip"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let fix = &document["diagnostics"][0]["fixes"][0];
    assert_eq!(fix["applicability"], "safe");
    assert_eq!(fix["edits"][0]["line"], 8);
    assert_eq!(fix["edits"][0]["column"], 18);
    assert_eq!(fix["edits"][0]["end_column"], 19);
    assert_eq!(fix["edits"][0]["replacement"], "==");
    let sarif = tripline_in(&dir, &["check", "--format", "sarif", "r.trip"]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let change = &sarif["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "r.trip");
    let replacement = &change["replacements"][0];
    assert_eq!(replacement["deletedRegion"]["startColumn"], 18);
    assert_eq!(replacement["insertedContent"]["text"], "==");
    let run = tripline_in(&dir, &["check", "--fix", "r.trip"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = std::fs::read(dir.join("r.trip")).unwrap();
    assert!(after.starts_with(b"\xEF\xBB\xBF"));
    assert!(String::from_utf8_lossy(&after).contains("where url.path == \"/admin\""));
    let _ = std::fs::remove_dir_all(&dir);
}
