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
