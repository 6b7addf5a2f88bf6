//! What an `alert` leaves out: the source's context fields, the `by`
//! fields or the source's entity as risk objects, typed by the field and
//! scored by the rule's level, and whether it raises a notable — by level,
//! as built in or as the pack's manifest sets (docs/language.md, "Alerts").

use std::collections::BTreeMap;

use crate::ir::{self, FieldType, Level, RiskKind};
use crate::syntax::Span;

use super::super::context::RuleCx;
use super::Around;
use crate::syntax::ast;

/// The source's context fields; for a threshold rule without its `by`
/// fields (each alert has one value of those) and with its `distinct`
/// field (the values it counted).
pub(super) fn default_context(cx: &RuleCx, around: &Around) -> Vec<ir::Field> {
    let Some(source) = cx.source else {
        return Vec::new();
    };
    let mut paths: Vec<&str> = source.context.iter().map(String::as_str).collect();
    if let Some(by) = around.grouped {
        paths.retain(|p| !by.iter().any(|b| b.field.node == *p));
    }
    if let Some(threshold) = around.threshold {
        let mut counted = Vec::new();
        distinct_fields(&threshold.having.node, &mut counted);
        for (n, field) in counted.into_iter().enumerate() {
            if !paths.contains(&field) {
                paths.insert(n.min(paths.len()), field);
            }
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            Some(ir::Field {
                path: p.to_string(),
                ty: source.field_type(p)?,
                span: Span::at(0),
                cased: false,
            })
        })
        .filter(|f| f.ty != FieldType::Time)
        .collect()
}

/// The `distinct` fields of a threshold's condition, in order, each once.
fn distinct_fields<'a>(having: &'a ast::Having, out: &mut Vec<&'a str>) {
    match having {
        ast::Having::Or(a, b) | ast::Having::And(a, b) => {
            distinct_fields(&a.node, out);
            distinct_fields(&b.node, out);
        }
        ast::Having::Not(inner) | ast::Having::Group(inner) => distinct_fields(&inner.node, out),
        ast::Having::Compare { aggregate, .. } => {
            if let ast::Aggregate::Distinct(g) = &aggregate.node
                && !out.contains(&g.field.node.as_str())
            {
                out.push(&g.field.node);
            }
        }
    }
}

/// The `by` fields of a threshold rule, else the source's entity; scored
/// by the rule's level.
pub(super) fn default_risk(cx: &RuleCx, around: &Around) -> Vec<ir::RiskObject> {
    let Some(source) = cx.source else {
        return Vec::new();
    };
    let paths: Vec<&str> = match around.grouped {
        Some(by) => by.iter().map(|b| b.field.node.as_str()).collect(),
        None => vec![source.entity.as_str()],
    };
    let defaults = &cx.scope.settings.alert;
    let score = around.level.map_or(40, |level| defaults.risk_score(level));
    paths
        .into_iter()
        .filter_map(|p| {
            let ty = source.field_type(p)?;
            (ty != FieldType::Time).then(|| ir::RiskObject {
                field: ir::Field {
                    path: p.to_string(),
                    ty,
                    span: Span::at(0),
                    cased: false,
                },
                kind: default_kind(p, ty),
                score,
            })
        })
        .collect()
}

/// What a pack sets for the alerts of one level (`[alert.defaults.LEVEL]`
/// of its manifest or site); `None` keeps the built-in default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelDefaults {
    pub risk_score: Option<u8>,
    pub notable: Option<bool>,
}

/// The pack's alert defaults by level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertDefaults {
    pub levels: BTreeMap<Level, LevelDefaults>,
}

impl AlertDefaults {
    /// The score of a default risk object of a rule of `level`.
    pub fn risk_score(&self, level: Level) -> u8 {
        self.levels
            .get(&level)
            .and_then(|d| d.risk_score)
            .unwrap_or_else(|| default_score(level))
    }

    /// Whether a rule of `level` that does not say raises a notable (when
    /// it has risk objects; without them it always does).
    pub fn notable(&self, level: Level) -> bool {
        self.levels
            .get(&level)
            .and_then(|d| d.notable)
            .unwrap_or(level >= Level::High)
    }

    /// These defaults with `over`'s values in their place, key by key (a
    /// site's over its manifest's).
    pub fn overlaid(&self, over: &AlertDefaults) -> AlertDefaults {
        let mut levels = self.levels.clone();
        for (level, given) in &over.levels {
            let here = levels.entry(*level).or_default();
            here.risk_score = given.risk_score.or(here.risk_score);
            here.notable = given.notable.or(here.notable);
        }
        AlertDefaults { levels }
    }
}

/// Risk score by level.
pub fn default_score(level: Level) -> u8 {
    match level {
        Level::Informational => 10,
        Level::Low => 20,
        Level::Medium => 40,
        Level::High => 70,
        Level::Critical => 100,
    }
}

/// Addresses and host names are systems, user names users, the rest other.
fn default_kind(path: &str, ty: FieldType) -> RiskKind {
    if ty == FieldType::Ip || path == "host.name" || path == "observer.name" {
        RiskKind::System
    } else if path == "user.name" {
        RiskKind::User
    } else {
        RiskKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_sets_some_levels_and_keeps_the_rest() {
        let mut set = AlertDefaults::default();
        set.levels.insert(
            Level::Medium,
            LevelDefaults {
                risk_score: Some(55),
                notable: Some(true),
            },
        );
        assert_eq!(set.risk_score(Level::Medium), 55);
        assert!(set.notable(Level::Medium));
        assert_eq!(set.risk_score(Level::High), 70);
        assert!(set.notable(Level::High));
        assert!(!set.notable(Level::Low));
    }

    #[test]
    fn a_site_replaces_key_by_key() {
        let mut pack = AlertDefaults::default();
        pack.levels.insert(
            Level::High,
            LevelDefaults {
                risk_score: Some(80),
                notable: Some(false),
            },
        );
        let mut site = AlertDefaults::default();
        site.levels.insert(
            Level::High,
            LevelDefaults {
                risk_score: None,
                notable: Some(true),
            },
        );
        let both = pack.overlaid(&site);
        assert_eq!(both.risk_score(Level::High), 80);
        assert!(both.notable(Level::High));
    }
}
