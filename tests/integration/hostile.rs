//! Hostile rule text (packs are shared and imported): every output keeps
//! it as data for its consumer, never as code.

use tripline::emit::{self, TargetName};

use crate::support::{checked, document};

// The emitters' property, shared with the fuzz targets.
#[path = "../fuzz/property/emitters.rs"]
mod emitters;

use emitters::{FIELDS, Texts, Verdict};

/// A rule whose title and description are ARM template expressions.
const ARM_EXPRESSIONS: &str = r#"rule arm {
  title "[concat('a','b')]"
  id "00000000-0000-4000-8000-000000000003"
  level low
  attack T1589
  description "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'x'), '2019-06-01').keys[0].value]"
  from dns
  where dns.question.name == "a\u{7f}b"
}
"#;

#[test]
fn arm_strings_that_look_like_expressions_are_escaped() {
    let (_, pack) = checked("arm.trip", ARM_EXPRESSIONS);
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    let template = document(&emitted, "azuredeploy.json");
    assert!(!template.contains('\u{7f}'), "a raw DEL in {template}");
    let json: serde_json::Value = serde_json::from_str(template).unwrap();
    let properties = &json["resources"][0]["properties"];
    assert_eq!(properties["displayName"], "[[concat('a','b')]");
    let description = properties["description"].as_str().unwrap();
    assert!(description.starts_with("[[listKeys("), "{description}");
    // The resource name is the template's own expression and stays one.
    let name = json["resources"][0]["name"].as_str().unwrap();
    assert!(
        name.starts_with("[concat(parameters('workspace')"),
        "{name}"
    );
}

/// A rule whose `where` is an `and` of `n` `contains` on one field.
fn wide_and(n: usize) -> String {
    let terms: Vec<String> = (0..n)
        .map(|i| format!("dns.question.name contains \"part{i}\""))
        .collect();
    format!(
        "rule wide_and {{\n  title \"An and of {n} predicates on one field\"\n  id \"00000000-0000-4000-8000-0000000000aa\"\n  level low\n  attack T1590\n  description \"One selection per predicate.\"\n  from dns\n  where {}\n}}\n",
        terms.join(" and ")
    )
}

/// Sigma keeps one key once per selection, so each of the 40,000 terms is
/// a selection of its own, all of them required (the writer placed each
/// by scanning the selections before it: 7.5 s in release).
#[test]
fn an_and_of_40000_terms_on_one_field_is_40000_selections() {
    // The syntax tree nests an `and` chain as deep as it is long; a debug
    // build needs more than a test thread's stack to drop it.
    let run = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(forty_thousand_selections)
        .unwrap();
    run.join().unwrap();
}

fn forty_thousand_selections() {
    let n = 40_000;
    let (_, pack) = checked("wide.trip", &wide_and(n));
    let emitted = emit::emit(TargetName::Sigma, &pack, None, "default").unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(document(&emitted, "wide_and.yml")).unwrap();
    let detection = yaml["detection"].as_mapping().unwrap();
    assert_eq!(detection.len(), n + 1, "the selections and the condition");
    assert_eq!(
        detection[&serde_yaml::Value::from("selection_40000")]["query|contains"],
        serde_yaml::Value::from("part39999")
    );
    let condition = detection[&serde_yaml::Value::from("condition")]
        .as_str()
        .unwrap();
    let names: Vec<&str> = condition.split(" and ").collect();
    assert_eq!(names.len(), n);
    assert_eq!(names[0], "selection_1");
}

/// Every C0 control, DEL, C1 controls (NEL, CSI, the first and last) and
/// the Unicode line separators.
fn control_characters() -> Vec<char> {
    let mut all: Vec<char> = ('\0'..='\u{1f}').collect();
    all.extend([
        '\u{7f}', '\u{80}', '\u{85}', '\u{9b}', '\u{9f}', '\u{2028}', '\u{2029}',
    ]);
    all
}

/// `text` in field `field` of an otherwise plain probe rule.
fn in_field(field: usize, text: &str) -> Texts {
    let mut pieces = vec!["plain".to_string(); FIELDS];
    pieces[field] = text.to_string();
    Texts::from_pieces(&pieces)
}

/// The control characters, each in each text of a rule (all of them in one
/// text at a time, then in every text at once), are kept as data by every
/// target that writes the rule: read back unchanged by the YAML and JSON
/// parsers, never raw in any output, the `.conf` stanzas and keys and the
/// runbook's headings and links unchanged. Splunk refuses the rule when
/// its title, description or alert title holds one (a `.conf` value has no
/// escape) and writes it otherwise.
#[test]
fn every_control_character_in_every_field_stays_data_in_every_target() {
    let controls: String = control_characters()
        .into_iter()
        .map(|c| format!("{c}x"))
        .collect();
    // Values compared in queries: NUL is refused there by design (no query
    // language holds it), and Splunk refuses C1 controls and Unicode line
    // separators (its regex escapes are ASCII): values carry the others,
    // and then the ASCII ones alone, which Splunk writes.
    let in_queries = controls.replace('\0', "");
    let ascii: String = in_queries.chars().filter(char::is_ascii).collect();
    let mut cases: Vec<(usize, Texts, bool)> = Vec::new();
    for field in 0..FIELDS {
        // Title, description, alert title: plain `.conf` values.
        let conf_value = [0, 1, 8].contains(&field);
        match field {
            6 | 7 => {
                cases.push((field, in_field(field, &in_queries), false));
                cases.push((field, in_field(field, &ascii), true));
            }
            _ => cases.push((field, in_field(field, &controls), !conf_value)),
        }
    }
    cases.push((FIELDS, Texts::all(&controls), false));
    for (field, texts, splunk_writes) in cases {
        let written = match emitters::check(&texts) {
            Ok(Verdict::Kept { written }) => written,
            Ok(Verdict::NotARule) => panic!("the probe rule does not check: {texts:?}"),
            Err(err) => panic!("{err}\n{texts:?}"),
        };
        assert_eq!(
            written.contains(&TargetName::Splunk),
            splunk_writes,
            "field {field}: {written:?}"
        );
        for target in [TargetName::Kql, TargetName::Runbook] {
            assert!(written.contains(&target), "field {field}: {written:?}");
        }
        if field < FIELDS {
            assert!(
                written.contains(&TargetName::Sigma),
                "field {field}: {written:?}"
            );
        }
    }
}

/// A tab or a line break in a title is written as a space in the `.conf`
/// files (no refusal), a BEL refuses the rule for Splunk only.
#[test]
fn a_bel_in_a_title_refuses_the_rule_for_splunk_by_name() {
    let (map, pack) = checked("bel.trip", &emitters::rule_text(&in_field(0, "a\tb\u{7}c")));
    let emitted = emit::emit(TargetName::Splunk, &pack, None, "default").unwrap();
    assert!(
        emitted
            .documents
            .iter()
            .all(|d| !d.path.ends_with("fuzz_probe.spl"))
    );
    assert_eq!(
        crate::support::positions(&map, &emitted.diagnostics),
        ["E0700 2:6"]
    );
    let message = &emitted.diagnostics[0].message;
    assert!(
        message.contains("U+0007 in the rule's title") && message.contains("`fuzz_probe`"),
        "{message}"
    );
    let (_, pack) = checked("tab.trip", &emitters::rule_text(&in_field(0, "a\tb\nc")));
    let emitted = emit::emit(TargetName::Splunk, &pack, None, "default").unwrap();
    assert!(emitted.diagnostics.is_empty(), "{:?}", emitted.diagnostics);
    let conf = document(&emitted, "tripline/default/savedsearches.conf");
    assert!(
        conf.contains("\naction.correlationsearch.label = a b c\n"),
        "{conf}"
    );
}

/// The emitter fuzz target's seeds (the findings of the adversarial run:
/// ARM expressions, markup, control characters, Splunk tokens, `.conf`
/// stanzas, YAML and query syntax, Unicode) keep the property on every
/// `cargo test`, without libFuzzer.
#[test]
fn the_emitter_fuzz_seeds_keep_every_text_as_data() {
    let mut seeds = 0;
    for entry in std::fs::read_dir("tests/fuzz/corpus/emitters").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "seed") {
            continue;
        }
        let texts = Texts::from_bytes(&std::fs::read(&path).unwrap());
        match emitters::check(&texts) {
            Ok(Verdict::Kept { written }) => assert!(!written.is_empty(), "{}", path.display()),
            Ok(Verdict::NotARule) => {
                panic!("{}: the seed is not a rule: {texts:?}", path.display())
            }
            Err(err) => panic!("{}: {err}\n{texts:?}", path.display()),
        }
        seeds += 1;
    }
    assert!(seeds >= 8, "the emitter seeds are missing ({seeds})");
}

/// The front-end fuzzer's seeds of the same findings (each emitter seed as
/// a rule file, with a test) are rules that check, so it starts from valid
/// rules with hostile strings in every text.
#[test]
fn the_front_end_fuzz_seeds_of_the_findings_check() {
    let mut seeds = 0;
    for entry in std::fs::read_dir("tests/fuzz/corpus/front_end").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("hostile_") {
            continue;
        }
        checked(&name, &std::fs::read_to_string(&path).unwrap());
        seeds += 1;
    }
    assert!(
        seeds >= 8,
        "the hostile front-end seeds are missing ({seeds})"
    );
}
