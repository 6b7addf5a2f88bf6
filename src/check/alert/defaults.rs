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
    if let Some(threshold) = around.threshold {
        paths.retain(|p| !threshold.by.iter().any(|b| b.node == *p));
        if let ast::Aggregate::Distinct(field) = &threshold.aggregate.node
            && !paths.contains(&field.node.as_str())
        {
            paths.insert(0, &field.node);
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            Some(ir::Field {
                path: p.to_string(),
                ty: source.field_type(p)?,
                span: Span::at(0),
            })
        })
        .filter(|f| f.ty != FieldType::Time)
        .collect()
}

/// The `by` fields of a threshold rule, else the source's entity; scored
/// by the rule's level.
pub(super) fn default_risk(cx: &RuleCx, around: &Around) -> Vec<ir::RiskObject> {
    let Some(source) = cx.source else {
        return Vec::new();
    };
    let paths: Vec<&str> = match around.threshold {
        Some(threshold) => threshold.by.iter().map(|b| b.node.as_str()).collect(),
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
