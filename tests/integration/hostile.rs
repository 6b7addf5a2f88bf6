//! Hostile rule text (packs are shared and imported): every output keeps
//! it as data for its consumer, never as code.

use tripline::emit::{self, TargetName};

use crate::support::{checked, document};

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
pub fn wide_and(n: usize) -> String {
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
/// by scanning the selections before it: 4.8 s in release).
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
