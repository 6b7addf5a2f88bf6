//! How values are spelled in KQL and in Sentinel's documents: string
//! literals that no value can end early, regex literals, timespans, and the
//! schedule durations of the YAML (`5m`) and the ARM template (`PT5M`).

/// Characters a KQL string literal (and a YAML block holding the query)
/// must not carry raw: controls and the line separators YAML 1.1 breaks on.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

/// A KQL `long` literal holding exactly `n`. `-9223372036854775808` is a
/// minus applied to a literal out of the `long` range (a syntax error in
/// Kusto), so the smallest value is written `long(-9223372036854775808)`.
pub fn kql_long(n: i64) -> String {
    if n == i64::MIN {
        format!("long({n})")
    } else {
        n.to_string()
    }
}

/// A double-quoted KQL string literal holding exactly `text`: `\\`, `\"`,
/// `\n`, `\r`, `\t`, and `\uXXXX` for other controls
/// (<https://learn.microsoft.com/kusto/query/scalar-data-types/string>).
pub fn kql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A regex as a KQL literal: verbatim `@"..."` (backslashes stay as they
/// are, `"` doubled) unless it holds a character only the escaped form can
/// carry.
pub fn kql_regex(pattern: &str) -> String {
    if pattern.chars().any(needs_escape) {
        return kql_string(pattern);
    }
    format!("@\"{}\"", pattern.replace('"', "\"\""))
}

/// `seconds` in the largest unit that divides it, as a KQL timespan (`10m`).
pub fn timespan(seconds: u64) -> String {
    match largest_unit(seconds) {
        Some((n, unit)) => format!("{n}{unit}"),
        None => format!("{seconds}s"),
    }
}

/// `seconds` as Sentinel's YAML schedule (`<int>m|h|d`), if whole minutes.
pub fn sentinel_duration(seconds: u64) -> Option<String> {
    largest_unit(seconds).map(|(n, unit)| format!("{n}{unit}"))
}

/// `seconds` as an ISO 8601 duration (`PT5M`, `PT1H`, `P1D`), if whole minutes.
pub fn iso_duration(seconds: u64) -> Option<String> {
    largest_unit(seconds).map(|(n, unit)| match unit {
        'd' => format!("P{n}D"),
        'h' => format!("PT{n}H"),
        _ => format!("PT{n}M"),
    })
}

fn largest_unit(seconds: u64) -> Option<(u64, char)> {
    const UNITS: [(u64, char); 3] = [(86_400, 'd'), (3_600, 'h'), (60, 'm')];
    if seconds == 0 {
        return None;
    }
    UNITS
        .into_iter()
        .find(|(size, _)| seconds.is_multiple_of(*size))
        .map(|(size, unit)| (seconds / size, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_be_ended_by_their_value() {
        assert_eq!(kql_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(kql_string("x\ny\tz\r"), r#""x\ny\tz\r""#);
        assert_eq!(kql_string("\u{7}\u{2028}é"), r#""\u0007\u2028é""#);
        assert_eq!(kql_string("`$x'"), r#""`$x'""#);
    }

    #[test]
    fn yaml_non_characters_are_escaped() {
        assert_eq!(kql_string("a\u{FFFE}\u{FFFF}"), r#""a\uFFFE\uFFFF""#);
        assert_eq!(kql_regex("a\u{FFFF}"), r#""a\uFFFF""#);
    }

    #[test]
    fn longs_include_the_smallest() {
        assert_eq!(kql_long(i64::MIN), "long(-9223372036854775808)");
        assert_eq!(kql_long(i64::MAX), "9223372036854775807");
        assert_eq!(kql_long(-1), "-1");
    }

    #[test]
    fn regexes_are_verbatim_unless_they_hold_controls() {
        assert_eq!(kql_regex(r#"^a\."b"$"#), r#"@"^a\.""b""$""#);
        assert_eq!(kql_regex("a\nb"), r#""a\nb""#);
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(timespan(3600), "1h");
        assert_eq!(timespan(5400), "90m");
        assert_eq!(timespan(45), "45s");
        assert_eq!(sentinel_duration(86_400 * 2).as_deref(), Some("2d"));
        assert_eq!(sentinel_duration(90), None);
        assert_eq!(iso_duration(300).as_deref(), Some("PT5M"));
        assert_eq!(iso_duration(86_400).as_deref(), Some("P1D"));
    }
}
