//! What an `alert` leaves out: the source's context fields, the `by`
//! fields or the source's entity as risk objects, typed by the field and
//! scored by the rule's level (docs/language.md, "Alerts").

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
    let score = around.level.map_or(40, default_score);
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
