//! Predicates: case folding, literal wildcards, missing fields, numbers,
//! arrays, dotted and nested keys, globs, regexes, CIDR blocks, `exists`.

use super::kit::*;
use crate::ir::{Condition, Ordering, TextOp};

/// Runs `(condition, event, expected)` rows.
fn table(rows: &[(&Condition, &str, bool)]) {
    for (i, (condition, line, expected)) in rows.iter().enumerate() {
        assert_eq!(
            matches(condition, line),
            *expected,
            "row {i}: {condition:?} on {line}"
        );
    }
}

#[test]
fn string_equality_ignores_case_by_simple_folding() {
    let admin = eq("user.name", "ADMIN");
    let secret = eq("user.name", "secret");
    let kelvin = eq("user.name", "kelvin");
    let sigma = eq("user.name", "ΣΟΦΟΣ");
    let strasse = eq("user.name", "straße");
    let dotted_i = eq("user.name", "i");
    table(&[
        (&admin, r#"{"user":{"name":"admin"}}"#, true),
        (&admin, r#"{"user":{"name":"Admin"}}"#, true),
        (&admin, r#"{"user":{"name":"admin "}}"#, false),
        (&secret, r#"{"user":{"name":"ſecret"}}"#, true),
        (&secret, r#"{"user":{"name":"SECRET"}}"#, true),
        (&kelvin, "{\"user\":{\"name\":\"\u{212A}elvin\"}}", true),
        (&sigma, r#"{"user":{"name":"σοφος"}}"#, true), // ς folds to σ
        (&sigma, r#"{"user":{"name":"σοφοσ"}}"#, true),
        (
            &eq("user.name", "σοφος"),
            r#"{"user":{"name":"ΣΟΦΟΣ"}}"#,
            true,
        ),
        (&strasse, r#"{"user":{"name":"STRASSE"}}"#, false),
        (&strasse, r#"{"user":{"name":"STRAẞE"}}"#, true),
        (&dotted_i, r#"{"user":{"name":"İ"}}"#, false),
        (
            &eq("user.name", "é"),
            r#"{"user":{"name":"e\u0301"}}"#,
            false,
        ), // no normalisation
        (&eq("user.name", "é"), r#"{"user":{"name":"\u00c9"}}"#, true),
    ]);
}

#[test]
fn wildcard_characters_are_literal_outside_like() {
    let star = eq("url.path", "/a*");
    let question = text("url.path", TextOp::Contains, &["?x"], false);
    table(&[
        (&star, r#"{"url.path":"/a*"}"#, true),
        (&star, r#"{"url.path":"/abc"}"#, false),
        (&question, r#"{"url.path":"/p?x=1"}"#, true),
        (&question, r#"{"url.path":"/pax=1"}"#, false),
        (&eq("url.path", r"a\b"), r#"{"url.path":"a\\b"}"#, true),
        (
            &eq("url.path", r#"a"|'b"#),
            r#"{"url.path":"A\"|'B"}"#,
            true,
        ),
    ]);
}

#[test]
fn missing_and_null_fields_fail_predicates_so_not_holds() {
    let is_x = eq("user.name", "x");
    let not_x = not(is_x.clone());
    for line in [
        r#"{}"#,
        r#"{"user":{"name":null}}"#,
        r#"{"user":{"name":[]}}"#,
        r#"{"user":null}"#,
    ] {
        assert!(!matches(&is_x, line), "{line}");
        assert!(matches(&not_x, line), "!= on {line}");
        assert!(matches(&not(cmp("source.port", Ordering::Gt, 0)), line));
        assert!(matches(&not(is_in("user.name", &["x", "y"])), line));
    }
    table(&[
        (&not_x, r#"{"user":{"name":"X"}}"#, false),
        (&eq("user.name", "x"), r#"{"user":{"name":""}}"#, false),
        (&not_x, r#"{"user":{"name":""}}"#, true),
        (
            &text("user.name", TextOp::Like, &["*"], false),
            r#"{"user":{"name":""}}"#,
            true,
        ),
        (
            &text("user.name", TextOp::Like, &["*"], false),
            r#"{"user":{"name":null}}"#,
            false,
        ),
    ]);
}

#[test]
fn int_fields_compare_numerically() {
    let port = eq_int("destination.port", 443);
    let above = cmp("destination.port", Ordering::Ge, 443);
    let text_port = eq("url.path", "443");
    table(&[
        (&port, r#"{"destination":{"port":443}}"#, true),
        (&port, r#"{"destination":{"port":"443"}}"#, true),
        (&port, r#"{"destination":{"port":"0443"}}"#, true),
        (&port, r#"{"destination":{"port":443.0}}"#, false),
        (&port, r#"{"destination":{"port":4.43e2}}"#, false),
        (&port, r#"{"destination":{"port":" 443"}}"#, false),
        (&port, r#"{"destination":{"port":"+443"}}"#, false),
        (&port, r#"{"destination":{"port":"4e2"}}"#, false),
        (
            &not(port.clone()),
            r#"{"destination":{"port":"https"}}"#,
            true,
        ),
        (&above, r#"{"destination":{"port":"8080"}}"#, true),
        (&above, r#"{"destination":{"port":"https"}}"#, false),
        (
            &not(above.clone()),
            r#"{"destination":{"port":"https"}}"#,
            true,
        ),
        (&above, r#"{"destination":{"port":443.5}}"#, false),
        (&above, r#"{"destination":{"port":true}}"#, false),
        (
            &above,
            r#"{"destination":{"port":99999999999999999999}}"#,
            false,
        ),
        (
            &cmp("destination.port", Ordering::Lt, 0),
            r#"{"destination":{"port":"-1"}}"#,
            true,
        ),
        (
            &cmp("destination.port", Ordering::Lt, 0),
            r#"{"destination":{"port":"-9223372036854775809"}}"#,
            false,
        ),
        // a string field sees an integer by its decimal text
        (&text_port, r#"{"url":{"path":443}}"#, true),
        (&text_port, r#"{"url":{"path":"0443"}}"#, false),
        (&text_port, r#"{"url":{"path":443.0}}"#, false),
        (&eq("url.path", "true"), r#"{"url":{"path":true}}"#, true),
        (&eq("url.path", "null"), r#"{"url":{"path":null}}"#, false),
    ]);
}

#[test]
fn arrays_hold_when_any_element_does() {
    let is_b = eq("dns.answers.data", "b");
    let data = r#"{"dns":{"answers":[{"data":"a"},{"data":"B"}]}}"#;
    let all = text("url.path", TextOp::Contains, &["a", "b"], true);
    table(&[
        (&is_b, data, true),
        (&not(is_b.clone()), data, false),
        (&is_b, r#"{"dns":{"answers":{"data":["a","b"]}}}"#, true),
        (
            &is_b,
            r#"{"dns.answers":[{"data":"x"},{"data":["y","b"]}]}"#,
            true,
        ),
        (&is_b, r#"{"dns":{"answers":[]}}"#, false),
        (&not(is_b.clone()), r#"{"dns":{"answers":[]}}"#, true),
        (&all, r#"{"url":{"path":["a","b"]}}"#, false), // all: in one element
        (&all, r#"{"url":{"path":["x","ab"]}}"#, true),
        (
            &eq_int("destination.port", 22),
            r#"{"destination":{"port":[80,"022"]}}"#,
            true,
        ),
    ]);
}

#[test]
fn dotted_and_nested_keys_mean_the_same_longest_key_wins() {
    let ip = eq("source.ip", "1.2.3.4");
    table(&[
        (&ip, r#"{"source.ip":"1.2.3.4"}"#, true),
        (&ip, r#"{"source":{"ip":"1.2.3.4"}}"#, true),
        (
            &ip,
            r#"{"source":{"ip":"9.9.9.9"},"source.ip":"1.2.3.4"}"#,
            true,
        ),
        (
            &ip,
            r#"{"source.ip":"1.2.3.4","source":{"ip":"9.9.9.9"}}"#,
            true,
        ),
        (
            &ip,
            r#"{"source.ip":"9.9.9.9","source":{"ip":"1.2.3.4"}}"#,
            false,
        ),
        (&ip, r#"{"Source":{"ip":"1.2.3.4"}}"#, false), // keys are case-sensitive
        (&ip, r#"{"source":{"ip.x":"1.2.3.4"}}"#, false),
        (
            &eq("dns.question.name", "x"),
            r#"{"dns":{"question.name":"x"}}"#,
            true,
        ),
        (
            &eq("dns.question.name", "x"),
            r#"{"dns.question":{"name":"x"}}"#,
            true,
        ),
    ]);
}

#[test]
fn text_operators_and_globs_ignore_case() {
    let contains = text("url.path", TextOp::Contains, &["ADMIN"], false);
    let starts = text("url.path", TextOp::StartsWith, &["/wp-"], false);
    let ends = text("url.path", TextOp::EndsWith, &[".PHP", ".asp"], false);
    let like = text("url.domain", TextOp::Like, &["*.example.???"], false);
    let like_all = text("url.path", TextOp::Like, &["*a*", "*b*"], true);
    table(&[
        (&contains, r#"{"url":{"path":"/Admin/x"}}"#, true),
        (&contains, r#"{"url":{"path":"/adm/x"}}"#, false),
        (&starts, r#"{"url":{"path":"/WP-login.php"}}"#, true),
        (&ends, r#"{"url":{"path":"/x.Php"}}"#, true),
        (&ends, r#"{"url":{"path":"/x.php5"}}"#, false),
        (&like, r#"{"url":{"domain":"WWW.Example.COM"}}"#, true),
        (&like, r#"{"url":{"domain":"example.com"}}"#, false),
        (&like_all, r#"{"url":{"path":"ba"}}"#, true),
        (&like_all, r#"{"url":{"path":"aa"}}"#, false),
    ]);
}

#[test]
fn regexes_are_case_sensitive_unless_i_and_ascii_classes() {
    let sensitive = regex("url.path", r"^/Admin");
    let insensitive = regex("url.path", r"(?i)^/admin");
    table(&[
        (&sensitive, r#"{"url":{"path":"/Admin"}}"#, true),
        (&sensitive, r#"{"url":{"path":"/admin"}}"#, false),
        (&insensitive, r#"{"url":{"path":"/ADMIN"}}"#, true),
        (
            &regex("url.path", r"x\d+"),
            r#"{"url":{"path":"ax12b"}}"#,
            true,
        ),
        (&regex("url.path", "b"), r#"{"url":{"path":"abc"}}"#, true),
        (
            &regex("destination.port", "^44"),
            r#"{"destination":{"port":443}}"#,
            true,
        ),
    ]);
}

#[test]
fn cidr_on_ipv4_ipv6_and_mapped_addresses() {
    let internal = cidr("source.ip", &["10.0.0.0/8", "fc00::/7"]);
    table(&[
        (&internal, r#"{"source":{"ip":"10.9.8.7"}}"#, true),
        (&internal, r#"{"source":{"ip":"::ffff:10.9.8.7"}}"#, true),
        (&internal, r#"{"source":{"ip":"fd00::1"}}"#, true),
        (&internal, r#"{"source":{"ip":"2001:db8::1"}}"#, false),
        (&internal, r#"{"source":{"ip":"010.9.8.7"}}"#, false),
        (&not(internal.clone()), r#"{"source":{"ip":"-"}}"#, true),
        (&not(internal.clone()), r#"{}"#, true),
        (
            &internal,
            r#"{"source":{"ip":["8.8.8.8","10.0.0.1"]}}"#,
            true,
        ),
        (
            &eq("source.ip", "::FFFF:10.9.8.7"),
            r#"{"source":{"ip":"::ffff:10.9.8.7"}}"#,
            true,
        ),
        (
            &eq("source.ip", "10.9.8.7"),
            r#"{"source":{"ip":"::ffff:10.9.8.7"}}"#,
            false,
        ),
    ]);
}

#[test]
fn exists_means_present_and_not_empty() {
    let e = exists("user.name");
    table(&[
        (&e, r#"{"user":{"name":"x"}}"#, true),
        (&e, r#"{"user":{"name":" "}}"#, true),
        (&e, r#"{"user":{"name":0}}"#, true),
        (&e, r#"{"user":{"name":false}}"#, true),
        (&e, r#"{"user":{"name":1.5}}"#, true),
        (&e, r#"{"user":{"name":{"a":1}}}"#, true),
        (&e, r#"{"user":{"name":[{"a":1}]}}"#, true),
        (&e, r#"{"user":{"name":""}}"#, false),
        (&e, r#"{"user":{"name":null}}"#, false),
        (&e, r#"{"user":{"name":[]}}"#, false),
        (&e, r#"{"user":{"name":{}}}"#, false),
        (&e, r#"{"user":{"name":["", null]}}"#, false),
        (&e, r#"{"user":{}}"#, false),
    ]);
}

#[test]
fn malformed_lines_match_nothing() {
    let e = not(exists("user.name"));
    for line in [
        "",
        "{",
        r#"{"a":1}x"#,
        "[1]",
        r#""x""#,
        r#"{"a":tru}"#,
        "{\"a\":\"\\x\"}",
    ] {
        assert!(!matches(&e, line), "{line:?}");
    }
}
