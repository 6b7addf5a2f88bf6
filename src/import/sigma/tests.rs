//! The importer on small Sigma texts: conditions, the `null` and `''`
//! pairs, YAML 1.1 values, log sources, and no panic on any input.

use super::*;
use proptest::prelude::*;

fn names() -> SigmaNames {
    SigmaNames::load(None, "default", Taxonomy::bundled()).unwrap()
}

fn run(text: &str) -> Outcome {
    let files = vec![(PathBuf::from("t.yml"), text.to_string())];
    import(&files, &names(), Taxonomy::bundled())
}

const RULE: &str = "title: t\nid: 3f1e0c1a-52aa-4c1a-9a55-1d2b3c4d5e6f\ndescription: d\nlevel: low\ntags: [attack.t1059]\nlogsource: {category: process_creation}\ndetection:\n";

fn detection(body: &str) -> std::result::Result<String, (Pos, String)> {
    let outcome = run(&format!("{RULE}{body}"));
    match (outcome.imported.first(), outcome.refused.first()) {
        (Some(rule), _) => {
            let start = rule.text.find("  where ").unwrap_or(0);
            let end = rule.text[start..]
                .find("\n}")
                .map_or(rule.text.len(), |e| start + e);
            Ok(rule.text[start..end].trim().to_string())
        }
        (None, Some(refused)) => Err((refused.refusal.pos, refused.refusal.construct.clone())),
        _ => Err((Pos::default(), String::new())),
    }
}

#[test]
fn conditions_keep_precedence_and_quantifiers() {
    let body = "  a: {CommandLine: x}\n  b: {CommandLine: y}\n  c: {Image: z}\n  condition: (a or b) and not c\n";
    assert_eq!(
        detection(body).unwrap(),
        "where (process.command_line == \"x\" or process.command_line == \"y\")\n      and not process.executable == \"z\""
    );
    let body = "  sel_1: {CommandLine: x}\n  sel_2: {Image: y}\n  _private: {User: u}\n  condition: all of them\n";
    assert_eq!(
        detection(body).unwrap(),
        "where process.command_line == \"x\"\n      and process.executable == \"y\""
    );
    let body = "  sel: {CommandLine: x}\n  condition: sel and missing\n";
    assert_eq!(
        detection(body).unwrap_err(),
        (
            Pos {
                line: 9,
                column: 22
            },
            "`missing`".to_string()
        )
    );
    let body = "  sel: {CommandLine: x}\n  condition: sel | count() > 5\n";
    assert_eq!(
        detection(body).unwrap_err().0,
        Pos {
            line: 9,
            column: 18
        }
    );
}

#[test]
fn null_and_empty_pair_up_only_together() {
    let pair =
        "  sel: {CommandLine: x}\n  f: {ParentCommandLine: ['', null]}\n  condition: sel and f\n";
    assert!(
        detection(pair)
            .unwrap()
            .contains("and not exists(process.parent.command_line)")
    );
    let split = "  sel: {CommandLine: x}\n  f1: {ParentCommandLine: null}\n  f2: {ParentCommandLine: ''}\n  condition: sel and not 1 of f*\n";
    assert!(
        detection(split)
            .unwrap()
            .contains("and exists(process.parent.command_line)")
    );
    let lone = "  sel: {CommandLine: ''}\n  condition: sel\n";
    assert_eq!(detection(lone).unwrap_err().1, "`process.command_line: ''`");
    let present = "  sel: {CommandLine|exists: true}\n  condition: sel\n";
    assert_eq!(
        detection(present).unwrap_err().1,
        "`process.command_line|exists: true`"
    );
}

#[test]
fn values_keep_their_types() {
    let body = "  sel: {EventID: 4688, CommandLine|contains: [010, yes]}\n  condition: sel\n";
    // YAML 1.1 reads `010` as 8 and `yes` as true, as pySigma does.
    assert_eq!(
        detection(body).unwrap(),
        "where event.code == \"4688\"\n      and process.command_line contains [\"8\", \"true\"]"
    );
    let float = "  sel: {CommandLine: 1.5}\n  condition: sel\n";
    assert_eq!(detection(float).unwrap_err().1, "`1.5`");
}

#[test]
fn rule_names_come_from_the_file_and_avoid_reserved_words() {
    let rule = |stem: &str| {
        let files = vec![(
            PathBuf::from(format!("{stem}.yml")),
            format!("{RULE}  sel: {{CommandLine: x}}\n  condition: sel\n"),
        )];
        let outcome = import(&files, &names(), Taxonomy::bundled());
        outcome.imported.first().map(|r| r.name.clone())
    };
    assert_eq!(
        rule("proc_creation_win_x").as_deref(),
        Some("proc_creation_win_x")
    );
    assert_eq!(rule("match").as_deref(), Some("match_rule"));
    assert_eq!(rule("7zip-dump").as_deref(), Some("sigma_7zip_dump"));
}

#[test]
fn logsources_map_back_through_the_sigma_mapping() {
    let names = names();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let source = |list: &[(&str, &str)]| names.source(&pairs(list)).map(|s| s.source.clone());
    assert_eq!(
        source(&[("category", "process_creation"), ("product", "windows")]).as_deref(),
        Some("process")
    );
    assert_eq!(
        source(&[("product", "windows"), ("service", "ldap")]).as_deref(),
        Some("ldap")
    );
    assert_eq!(
        source(&[("category", "Firewall")]).as_deref(),
        Some("network")
    );
    assert_eq!(
        source(&[("category", "process_creation"), ("service", "sysmon")]),
        None
    );
    assert_eq!(
        source(&[("product", "windows"), ("service", "security")]),
        None
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text, or a rule with a detection of arbitrary tokens, gives
    /// imports and refusals, never a panic.
    #[test]
    fn no_input_panics(text in "\\PC{0,200}") {
        let _ = run(&text);
    }

    #[test]
    fn no_detection_panics(body in proptest::collection::vec(
        prop_oneof![
            Just("  sel:\n"), Just("    CommandLine|contains|all:\n"), Just("      - 'a*b\\\\'\n"),
            Just("    Image|windash|base64offset: x\n"), Just("  condition: "), Just("1 of sel* "),
            Just("not "), Just("( "), Just(") "), Just("and "), Just("sel\n"), Just("    - {a: b}\n"),
            Just("    User|re|i: '[a-$'\n"), Just("    User: [~, '', yes]\n"), Just("  - x\n"),
            Just("    src_ip|cidr: 10.0.0.0/8\n"), Just("&a x: *a\n"), Just("\t"), Just("{[\n"),
        ],
        0..24,
    )) {
        let _ = run(&format!("{RULE}{}", body.concat()));
    }
}

#[test]
fn stranger_text_stays_text() {
    let title = "x\\\" } rule evil { title \\\"y\\u0007\\u2028";
    let text = format!(
        "title: \"{title}\"\nid: 3f1e0c1a-52aa-4c1a-9a55-1d2b3c4d5e6f\ndescription: \"line\\nbreak # not a comment\"\nlevel: low\ntags: [attack.t1059, 'a\"b']\nlogsource: {{category: process_creation}}\ndetection:\n  sel: {{CommandLine: '\"; drop'}}\n  condition: sel\n"
    );
    let outcome = run(&text);
    let [rule] = outcome.imported.as_slice() else {
        panic!("{:?}", outcome.refused)
    };
    let (file, errors) = crate::syntax::parse(crate::source::FileId(0), &rule.text);
    assert!(errors.is_empty());
    let [syntax_ast::Item::Rule(decl)] = file.items.as_slice() else {
        panic!("one rule: {}", rule.text)
    };
    let title_value = decl.statements.iter().find_map(|s| match &s.value {
        syntax_ast::StatementValue::Text(t) if s.keyword.node == "title" => Some(t.value.clone()),
        _ => None,
    });
    assert_eq!(
        title_value.as_deref(),
        Some("x\" } rule evil { title \"y\u{7}\u{2028}")
    );
    assert!(
        rule.text.contains("\\u{7}") && rule.text.contains("\\u{2028}"),
        "{}",
        rule.text
    );
}

#[test]
fn alert_types_must_be_words() {
    let text = format!(
        "{RULE}  sel: {{CommandLine: x}}\n  condition: sel\ntripline_alert:\n  title: t\n  risk:\n    - field: CommandLine\n      type: 'system }} x'\n      score: 5\n"
    );
    let outcome = run(&text);
    assert_eq!(outcome.refused[0].refusal.construct, "type `system } x`");
}
