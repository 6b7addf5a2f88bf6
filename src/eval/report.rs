//! Test reports (language.md 1.4): the text on stdout, one line per test
//! with indented details under a failure and a closing `N passed, N failed`
//! line, and the JUnit XML of `--junit`.

use std::fmt::Write;

use super::testrun::TestOutcome;

/// `test RULE "NAME" ... ok` / `... FAILED` lines, details, and the count.
pub fn text(outcomes: &[TestOutcome]) -> String {
    let mut out = String::new();
    for outcome in outcomes {
        let verdict = if outcome.passed() { "ok" } else { "FAILED" };
        let _ = writeln!(
            out,
            "test {} {} ... {verdict}",
            outcome.rule,
            quoted(&outcome.test)
        );
        for failure in &outcome.failures {
            let _ = writeln!(out, "    {failure}");
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let _ = writeln!(out, "{passed} passed, {} failed", outcomes.len() - passed);
    out
}

/// A test name as a tripline string literal: every control character
/// (ESC, BEL, DEL, C1...) as an escape, so a name cannot drive the
/// terminal that shows it.
fn quoted(name: &str) -> String {
    let mut out = String::from("\"");
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// JUnit XML: one `<testsuite>` per rule (in `rules` order), one
/// `<testcase classname="RULE" name="TEST">` per test, a `<failure>` with
/// the details; no time, timestamp or host attributes.
pub fn junit(rules: &[String], outcomes: &[TestOutcome]) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tripline\" tests=\"{}\" failures=\"{failed}\">",
        outcomes.len()
    );
    for rule in rules {
        let tests: Vec<&TestOutcome> = outcomes.iter().filter(|o| &o.rule == rule).collect();
        let failures = tests.iter().filter(|o| !o.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            crate::xml::escape(rule),
            tests.len()
        );
        for test in tests {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                crate::xml::escape(rule),
                crate::xml::escape(&test.test)
            );
            match test.failures.first() {
                None => {
                    let _ = writeln!(out, "{open}/>");
                }
                Some(first) => {
                    let _ = writeln!(out, "{open}>");
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\">{}</failure>",
                        crate::xml::escape(first),
                        crate::xml::escape(&test.failures.join("\n"))
                    );
                    let _ = writeln!(out, "    </testcase>");
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn test_names_cannot_drive_the_terminal() {
        assert_eq!(
            quoted("a\u{1b}[2J\u{7}\u{7f}\u{9b}\"b\n"),
            r#""a\u{1b}[2J\u{7}\u{7f}\u{9b}\"b\n""#
        );
    }
}
