//! ATT&CK coverage of a checked pack: which techniques its rules name and how
//! many rules name each one. A technique's score is the number of rules that
//! name its exact id (a rule on `T1590.002` does not count for `T1590`), but
//! a technique is covered, not a gap, when a rule names it or one of its
//! sub-techniques: the same test `--min-coverage` applies. The model is
//! read by three renderings: a text table, an ATT&CK Navigator layer and an
//! SVG matrix.

pub mod layer;
pub mod svg;
pub mod table;

use std::collections::BTreeMap;

use crate::check::{Catalogue, TechniqueEntry};
use crate::ir::{Pack, Tactic};

/// The tactic the picture and the table show whole, gaps included, unless
/// `--tactic` picks others: the bundled pack is a reconnaissance pack. Other tactics show only what the
/// pack covers, since listing hundreds of untouched techniques would bury
/// the few that matter.
pub const FOCUS_TACTIC: &str = "TA0043";

/// The colour bands of a score, shared by the picture and the layer so the
/// two read the same. The first band is the gap.
pub const BANDS: [Band; 5] = [
    Band {
        min: 0,
        label: "no rule",
        fill: "#f9c0bb",
        ink: "#7a1a12",
    },
    Band {
        min: 1,
        label: "1 rule",
        fill: "#c7e9c0",
        ink: "#12361a",
    },
    Band {
        min: 2,
        label: "2 rules",
        fill: "#74c476",
        ink: "#0b2912",
    },
    Band {
        min: 3,
        label: "3–4 rules",
        fill: "#31a354",
        ink: "#ffffff",
    },
    Band {
        min: 5,
        label: "5+ rules",
        fill: "#006d2c",
        ink: "#ffffff",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// The lowest rule count in the band.
    pub min: usize,
    pub label: &'static str,
    /// Background colour.
    pub fill: &'static str,
    /// Text colour readable on `fill`.
    pub ink: &'static str,
}

/// A technique no rule names exactly whose sub-techniques have rules.
pub const THROUGH_SUBTECHNIQUES: Band = Band {
    min: 0,
    label: "sub-techniques only",
    fill: "#e5f5e0",
    ink: "#12361a",
};

/// The band a cell is drawn in: its rule count's, or the covered-through-
/// sub-techniques one when it has no rule of its own but is not a gap.
pub fn cell_band(cell: &Cell) -> &'static Band {
    if cell.count() == 0 && cell.covered {
        &THROUGH_SUBTECHNIQUES
    } else {
        band(cell.count())
    }
}

/// The band a rule count falls in.
pub fn band(count: usize) -> &'static Band {
    BANDS
        .iter()
        .rev()
        .find(|band| count >= band.min)
        .unwrap_or(&BANDS[0])
}

/// A rule as coverage reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleRef {
    pub name: String,
    pub title: String,
}

/// The rules of a pack by the exact technique ids they name.
#[derive(Debug)]
pub struct Coverage<'c> {
    catalogue: &'c Catalogue,
    /// Sorted by id; each list sorted by rule name.
    by_technique: BTreeMap<String, Vec<RuleRef>>,
    rule_count: usize,
    /// The tactics drawn whole (gaps included).
    whole: Vec<String>,
    /// Whether only the tactics in `whole` are drawn (`--tactic`).
    only_whole: bool,
}

/// One technique with the rules that name it exactly.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    pub technique: &'a TechniqueEntry,
    pub rules: &'a [RuleRef],
    /// A rule names it or one of its sub-techniques: it is not a gap.
    pub covered: bool,
}

impl Cell<'_> {
    pub fn count(&self) -> usize {
        self.rules.len()
    }

    pub fn is_gap(&self) -> bool {
        !self.covered
    }
}

/// A tactic and the techniques shown under it, in id order (a technique's
/// sub-techniques follow it).
#[derive(Debug)]
pub struct Column<'a> {
    pub tactic: &'a Tactic,
    pub cells: Vec<Cell<'a>>,
    /// Every current technique of the tactic is listed, not only the covered.
    pub complete: bool,
}

impl<'c> Coverage<'c> {
    pub fn of(pack: &Pack, catalogue: &'c Catalogue) -> Coverage<'c> {
        let mut by_technique: BTreeMap<String, Vec<RuleRef>> = BTreeMap::new();
        for rule in &pack.rules {
            for technique in &rule.meta.techniques {
                by_technique
                    .entry(technique.id.clone())
                    .or_default()
                    .push(RuleRef {
                        name: rule.name.clone(),
                        title: rule.meta.title.clone(),
                    });
            }
        }
        by_technique.values_mut().for_each(|rules| rules.sort());
        Coverage {
            catalogue,
            by_technique,
            rule_count: pack.rules.len(),
            whole: vec![FOCUS_TACTIC.to_string()],
            only_whole: false,
        }
    }

    /// Draws only `tactics` (ids), each whole with its gaps.
    pub fn with_tactics(mut self, tactics: Vec<String>) -> Self {
        self.whole = tactics;
        self.only_whole = true;
        self
    }

    /// Whether `--tactic` chose the tactics drawn (no others are).
    pub fn only_chosen_tactics(&self) -> bool {
        self.only_whole
    }

    pub fn catalogue(&self) -> &'c Catalogue {
        self.catalogue
    }

    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// The rules naming exactly `id`.
    pub fn rules_on(&self, id: &str) -> &[RuleRef] {
        self.by_technique.get(id).map_or(&[], Vec::as_slice)
    }

    /// Whether a rule names `id` or one of its sub-techniques.
    pub fn covers(&self, id: &str) -> bool {
        let prefix = format!("{id}.");
        self.by_technique
            .keys()
            .any(|key| key == id || key.starts_with(&prefix))
    }

    /// The techniques some rule names, in id order.
    pub fn covered(&self) -> Vec<Cell<'_>> {
        self.by_technique
            .iter()
            .filter_map(|(id, rules)| {
                let technique = self.catalogue.technique(id)?;
                Some(Cell {
                    technique,
                    rules,
                    covered: true,
                })
            })
            .collect()
    }

    /// The focus tactic (or those of `--tactic`) with every current
    /// technique (and any covered revoked one), then, without `--tactic`,
    /// each other tactic the pack touches with its covered techniques, in
    /// matrix order.
    pub fn columns(&self) -> Vec<Column<'_>> {
        let covered = self.covered();
        let mut columns = Vec::new();
        for tactic in self.catalogue.tactics() {
            let complete = self.whole.contains(&tactic.id);
            if self.only_whole && !complete {
                continue;
            }
            let cells: Vec<Cell<'_>> = if complete {
                let mut techniques: Vec<&TechniqueEntry> = self
                    .catalogue
                    .techniques()
                    .iter()
                    .filter(|t| t.tactics.contains(&tactic.shortname))
                    .filter(|t| {
                        !(t.revoked || t.deprecated) || self.by_technique.contains_key(&t.id)
                    })
                    .collect();
                techniques.sort_by(|a, b| a.id.cmp(&b.id));
                techniques
                    .into_iter()
                    .map(|technique| Cell {
                        technique,
                        rules: self.rules_on(&technique.id),
                        covered: self.covers(&technique.id),
                    })
                    .collect()
            } else {
                covered
                    .iter()
                    .filter(|cell| cell.technique.tactics.contains(&tactic.shortname))
                    .copied()
                    .collect()
            };
            if complete || !cells.is_empty() {
                columns.push(Column {
                    tactic,
                    cells,
                    complete,
                });
            }
        }
        columns
    }

    /// Whether the catalogue lists sub-techniques of `id`.
    pub fn has_subtechniques(&self, id: &str) -> bool {
        let prefix = format!("{id}.");
        self.catalogue
            .techniques()
            .iter()
            .any(|t| t.id.starts_with(&prefix))
    }

    /// The required techniques no rule covers, on themselves or a
    /// sub-technique.
    pub fn unmet<'r>(&self, required: &[&'r TechniqueEntry]) -> Vec<&'r TechniqueEntry> {
        required
            .iter()
            .filter(|t| !self.covers(&t.id))
            .copied()
            .collect()
    }
}

/// Reads `--tactic`: comma-separated tactic ids (`TA0043`), short names
/// (`reconnaissance`) or names, without regard to case; returns the ids.
pub fn parse_tactics(text: &str, catalogue: &Catalogue) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let tactic = catalogue.tactics().iter().find(|t| {
            [&t.id, &t.shortname, &t.name]
                .iter()
                .any(|name| name.eq_ignore_ascii_case(word))
        });
        let Some(tactic) = tactic else {
            let names = catalogue.tactics().iter().map(|t| t.shortname.as_str());
            let hint = crate::diag::nearest(&word.to_ascii_lowercase(), names)
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            return Err(format!(
                "--tactic: unknown ATT&CK tactic `{word}` (expected an id like `TA0043` or a name like `reconnaissance`){hint}"
            ));
        };
        if !ids.contains(&tactic.id) {
            ids.push(tactic.id.clone());
        }
    }
    if ids.is_empty() {
        return Err("--tactic names no tactic (expected e.g. `TA0043,discovery`)".to_string());
    }
    Ok(ids)
}

/// Reads `--min-coverage`: comma-separated technique ids, each in the
/// catalogue. Ids are compared without regard to case.
pub fn parse_required<'c>(
    text: &str,
    catalogue: &'c Catalogue,
) -> Result<Vec<&'c TechniqueEntry>, String> {
    let mut required: Vec<&TechniqueEntry> = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let id = word.to_ascii_uppercase();
        let technique = catalogue.technique(&id).ok_or_else(|| {
            format!("--min-coverage: unknown ATT&CK technique `{word}` (expected an id like `T1590` or `T1590.002`)")
        })?;
        if !required.iter().any(|t| t.id == technique.id) {
            required.push(technique);
        }
    }
    if required.is_empty() {
        return Err("--min-coverage names no technique (expected e.g. `T1590,T1589`)".to_string());
    }
    Ok(required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_split_counts() {
        let labels: Vec<&str> = [0, 1, 2, 3, 4, 5, 40].map(|n| band(n).label).to_vec();
        assert_eq!(
            labels,
            [
                "no rule",
                "1 rule",
                "2 rules",
                "3–4 rules",
                "3–4 rules",
                "5+ rules",
                "5+ rules"
            ]
        );
    }

    #[test]
    fn required_ids_are_checked_against_the_catalogue() {
        let catalogue = Catalogue::bundled();
        let ids: Vec<&str> = parse_required(" t1590, T1589.002,T1590", catalogue)
            .unwrap_or_default()
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(ids, ["T1590", "T1589.002"]);
        assert!(parse_required("T1590,T9999", catalogue).is_err());
        assert!(parse_required(" , ", catalogue).is_err());
    }
}
