//! Builders for `ir` rules, conditions and thresholds, and helpers that run
//! them over JSON lines.

use std::path::PathBuf;

use crate::eval::{Alert, Engine, Output, Routing};
use crate::ir::{
    Aggregate, Comparison, Condition, Field, FieldType, Having, IpBlock, Level, Literal, Meta,
    Operation, Ordering, Playbook, Predicate, Rule, Schedule, Status, TextOp, Threshold,
};
use crate::source::FileId;
use crate::syntax::Span;

pub fn field(path: &str) -> Field {
    let ty = match path {
        "source.port" | "destination.port" | "http.response.status_code" => FieldType::Int,
        "source.ip" | "destination.ip" => FieldType::Ip,
        "@timestamp" => FieldType::Time,
        _ => FieldType::String,
    };
    Field {
        path: path.to_string(),
        ty,
        span: Span::default(),
        cased: false,
    }
}

pub fn pred(path: &str, operation: Operation) -> Condition {
    Condition::Predicate(Predicate {
        field: field(path),
        length: false,
        operation,
        span: Span::default(),
    })
}

pub fn eq(path: &str, value: &str) -> Condition {
    is_in(path, &[value])
}

pub fn is_in(path: &str, values: &[&str]) -> Condition {
    pred(
        path,
        Operation::Equals {
            values: values
                .iter()
                .map(|v| Literal::String(v.to_string()))
                .collect(),
            list: None,
        },
    )
}

pub fn eq_int(path: &str, value: i64) -> Condition {
    pred(
        path,
        Operation::Equals {
            values: vec![Literal::Int(value)],
            list: None,
        },
    )
}

pub fn cmp(path: &str, op: Ordering, value: i64) -> Condition {
    pred(path, Operation::Compare { op, value })
}

pub fn text(path: &str, op: TextOp, values: &[&str], all: bool) -> Condition {
    pred(
        path,
        Operation::Text {
            op,
            values: values.iter().map(|v| v.to_string()).collect(),
            all,
            list: None,
        },
    )
}

pub fn regex(path: &str, pattern: &str) -> Condition {
    let (pattern, case_insensitive) = match pattern.strip_prefix("(?i)") {
        Some(rest) => (rest, true),
        None => (pattern, false),
    };
    pred(
        path,
        Operation::Regex {
            pattern: pattern.to_string(),
            case_insensitive,
        },
    )
}

pub fn cidr(path: &str, blocks: &[&str]) -> Condition {
    let blocks = blocks
        .iter()
        .filter_map(|b| {
            let (net, prefix) = b.split_once('/')?;
            Some(IpBlock {
                network: net.parse().ok()?,
                prefix: prefix.parse().ok()?,
            })
        })
        .collect();
    pred(path, Operation::Cidr { blocks, list: None })
}

pub fn exists(path: &str) -> Condition {
    Condition::Exists(field(path))
}

pub fn not(inner: Condition) -> Condition {
    Condition::Not(Box::new(inner))
}

pub fn count(by: &[&str], window: u64, comparison: Comparison, value: i64) -> Threshold {
    having(by, window, compare(Aggregate::Count, comparison, value))
}

pub fn distinct(
    of: &str,
    by: &[&str],
    window: u64,
    comparison: Comparison,
    value: i64,
) -> Threshold {
    let aggregate = Aggregate::Distinct(field(of));
    having(by, window, compare(aggregate, comparison, value))
}

/// `threshold by BY over WINDOW having CONDITION` (tumbling).
pub fn having(by: &[&str], window: u64, condition: Having) -> Threshold {
    Threshold {
        by: by.iter().map(|f| field(f)).collect(),
        window,
        step: None,
        step_span: Span::default(),
        having: condition,
        span: Span::default(),
    }
}

/// `AGGREGATE op VALUE`.
pub fn compare(aggregate: Aggregate, comparison: Comparison, value: i64) -> Having {
    Having::Compare {
        aggregate,
        comparison,
        value,
        span: Span::default(),
    }
}

pub fn rule(name: &str, source: &str, condition: Condition, threshold: Option<Threshold>) -> Rule {
    Rule {
        name: name.to_string(),
        file: FileId(0),
        path: PathBuf::from("rules/test.trip"),
        span: Span::default(),
        meta: Meta {
            title: format!("{name} title"),
            id: "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11".to_string(),
            status: Status::Experimental,
            level: Level::High,
            techniques: Vec::new(),
            tactics: Vec::new(),
            author: None,
            date: None,
            modified: None,
            version: None,
            description: "d".to_string(),
            references: Vec::new(),
            falsepositives: Vec::new(),
            tags: Vec::new(),
        },
        source: source.to_string(),
        more_sources: Vec::new(),
        alert: crate::ir::Alert {
            title: vec![crate::ir::TitlePart::Text(format!("{name} title"))],
            risk: Vec::new(),
            threats: Vec::new(),
            context: Vec::new(),
            notable: true,
        },
        condition,
        detection: threshold.map_or(
            crate::ir::Detection::Match,
            crate::ir::Detection::Aggregation,
        ),
        schedule: Schedule {
            every: 300,
            every_span: None,
            lookback: 300,
            delay: 300,
        },
        playbook: Playbook::default(),
        tests: Vec::new(),
    }
}

/// Whether `condition` (a `dns` rule) matches the JSON line.
pub fn matches(condition: &Condition, line: &str) -> bool {
    let rule = rule("r", "dns", condition.clone(), None);
    let Ok(mut engine) = Engine::new(&[rule], Routing::Fixed("dns".into()), None) else {
        return false;
    };
    let mut matched = false;
    engine.process(line, &mut |out| {
        matched |= matches!(out, Output::Match { .. })
    });
    matched
}

/// The alerts of a threshold rule `where condition` over `lines`.
pub fn alerts(condition: Condition, threshold: Threshold, lines: &[&str]) -> Vec<Alert> {
    let rule = rule("r", "dns", condition, Some(threshold));
    let Ok(mut engine) = Engine::new(&[rule], Routing::Fixed("dns".into()), None) else {
        return Vec::new();
    };
    let mut alerts = Vec::new();
    let mut collect = |out: Output<'_>| {
        if let Output::Alert { alert, .. } = out {
            alerts.push(alert);
        }
    };
    for line in lines {
        engine.process(line, &mut collect);
    }
    engine.finish(&mut collect);
    alerts
}

/// Always true: `where` for threshold tests that count every event.
pub fn any() -> Condition {
    Condition::Or(vec![exists("@timestamp"), not(exists("@timestamp"))])
}
