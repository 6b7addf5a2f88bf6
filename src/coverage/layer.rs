//! Coverage as an ATT&CK Navigator layer (layer format 4.5,
//! `mitre-attack/attack-navigator` `layers/spec/v4.5/layerformat.md`). Each
//! covered technique is scored by its number of rules, with the rule titles
//! in the comment; each technique without a rule of its own in a tactic
//! drawn whole is listed with score 0 and the gap colour, or the
//! sub-techniques colour when a rule names one of its sub-techniques (then
//! it is no gap), so the Navigator reads as the picture does.
//! Techniques carry no `tactic`, so a technique's annotation appears under
//! every tactic it belongs to.

use serde_json::{Value, json};

use super::{BANDS, Cell, Coverage, THROUGH_SUBTECHNIQUES, cell_band};

/// The ATT&CK major version of the bundled catalogue
/// (`src/check/attack/enterprise-techniques-v18.1.csv`).
pub const ATTACK_VERSION: &str = "18";
/// The Navigator version the layer format 4.5 specification pairs with
/// ATT&CK 18 in its example (the format requires at least 4.9.0).
pub const NAVIGATOR_VERSION: &str = "5.2.0";
pub const LAYER_VERSION: &str = "4.5";

/// The layer for `coverage`, named after the pack it was made from.
pub fn render(coverage: &Coverage, pack_name: &str) -> Value {
    let columns = coverage.columns();
    let mut cells = coverage.covered();
    if coverage.only_chosen_tactics() {
        // `--tactic`: the techniques of the chosen tactics only.
        cells.retain(|cell| {
            columns
                .iter()
                .any(|c| c.cells.iter().any(|d| d.technique.id == cell.technique.id))
        });
    }
    for column in columns.into_iter().filter(|c| c.complete) {
        cells.extend(column.cells.into_iter().filter(|cell| cell.count() == 0));
    }
    cells.sort_by(|a, b| a.technique.id.cmp(&b.technique.id));
    // A technique of two chosen tactics is listed once.
    cells.dedup_by(|a, b| a.technique.id == b.technique.id);
    let techniques: Vec<Value> = cells.iter().map(|cell| technique(coverage, cell)).collect();
    let top = BANDS[BANDS.len() - 1].min;
    json!({
        "name": format!("tripline coverage: {pack_name}"),
        "versions": {
            "attack": ATTACK_VERSION,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": "enterprise-attack",
        "description": format!(
            "Detection coverage of {} rules. Score: the number of rules naming the exact technique id; 0 marks a reconnaissance technique with no rule.",
            coverage.rule_count()
        ),
        "sorting": 0,
        "layout": {
            "layout": "side",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false,
            "aggregateFunction": "sum",
            "expandedSubtechniques": "annotated",
        },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {
            "colors": BANDS[1..].iter().map(|b| b.fill).collect::<Vec<_>>(),
            "minValue": BANDS[1].min,
            "maxValue": top,
        },
        "legendItems": BANDS.iter().chain([&THROUGH_SUBTECHNIQUES]).map(|b| json!({"label": b.label, "color": b.fill})).collect::<Vec<_>>(),
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
    })
}

fn technique(coverage: &Coverage, cell: &Cell) -> Value {
    let id = &cell.technique.id;
    let comment = if cell.is_gap() {
        "no rule".to_string()
    } else if cell.rules.is_empty() {
        "no rule of its own; its sub-techniques have rules".to_string()
    } else {
        cell.rules
            .iter()
            .map(|rule| rule.title.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut object = json!({
        "techniqueID": id,
        "score": cell.count(),
        "comment": comment,
        "enabled": true,
    });
    let Some(map) = object.as_object_mut() else {
        return object;
    };
    // The format allows `showSubtechniques` only on a technique that has
    // sub-techniques; expanding them all lets the sub-technique gaps show.
    if coverage.has_subtechniques(id) {
        map.insert("showSubtechniques".to_string(), Value::Bool(true));
    }
    // A score below the gradient's minimum would take its lowest colour, which
    // reads as covered by a rule of its own; the colour is set explicitly.
    if cell.rules.is_empty() {
        map.insert("color".to_string(), Value::from(cell_band(cell).fill));
    }
    object
}
