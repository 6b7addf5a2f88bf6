//! A threshold's `having` condition over several aggregates, on raw events.
//! `count()` is `stats count`, `distinct(f)` an exact `dc()` of the field's
//! keys (as the version 1 threshold keys them). `min(f)` and `max(f)` are
//! never computed as numbers (`eval` numbers are doubles, which cannot
//! tell 2^53 from 2^53+1): each comparison becomes what it means for the
//! group's values that read as integers, decided per event with the exact
//! digit-string tests of `integer` and kept as a 0/1 flag whose `max()`
//! over the group says whether any event had such a value. For example
//! `min(f) >= 500` holds when some value reads as an integer and none is
//! below 500. `sum(f)` is refused: `sum()` adds doubles, which round
//! beyond 2^53, where the evaluator's sum is exact (saturating at the
//! 64-bit bounds).

use crate::emit::query::Refusal;
use crate::ir::{Aggregate, Comparison, Having, Ordering};

use super::eval::eval_name;
use super::{SPLUNK, integer};

/// What the aggregation of a `having` rule computes, and its condition.
#[derive(Debug, Default)]
pub struct Written {
    /// The `distinct(f)` fields, each once: (CIM name, `int` field, `cased`).
    pub distinct: Vec<(String, bool, bool)>,
    /// Per-event tests: `tl_fI` is 1 when some value of the event passes.
    pub flags: Vec<String>,
    /// The condition on the aggregation's columns.
    pub condition: String,
}

/// The column of `distinct(f)`, for the CIM name `name` of `f`.
pub fn distinct_column(name: &str, cased: bool) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    match cased {
        true => format!("distinct_cased_{name}"),
        false => format!("distinct_{name}"),
    }
}

/// Writes `having`; `name` gives the CIM name of a field (or its refusal).
pub fn write(
    having: &Having,
    name: &mut dyn FnMut(&crate::ir::Field) -> Result<String, Refusal>,
) -> Result<Written, Vec<Refusal>> {
    let mut written = Written::default();
    let mut refusals = Vec::new();
    // The condition follows the slot's bounds and `AND`: an `or` at the
    // top is grouped.
    let top = !matches!(having, Having::Or(_));
    written.condition = walk(having, name, &mut written, &mut refusals, top);
    if refusals.is_empty() {
        Ok(written)
    } else {
        Err(refusals)
    }
}

fn walk(
    having: &Having,
    name: &mut dyn FnMut(&crate::ir::Field) -> Result<String, Refusal>,
    out: &mut Written,
    refusals: &mut Vec<Refusal>,
    top: bool,
) -> String {
    let mut join = |parts: &[Having], word: &str, out: &mut Written| {
        let parts: Vec<String> = parts
            .iter()
            .map(|p| walk(p, name, out, refusals, false))
            .collect();
        let text = parts.join(word);
        if top { text } else { format!("({text})") }
    };
    match having {
        Having::And(parts) => join(parts, " AND ", out),
        Having::Or(parts) => join(parts, " OR ", out),
        Having::Not(inner) => {
            super::literal::negated(format!("({})", walk(inner, name, out, refusals, false)))
        }
        Having::Compare {
            aggregate,
            comparison,
            value,
            span,
        } => {
            let symbol = comparison.symbol();
            match aggregate {
                Aggregate::Count => format!("count{symbol}{value}"),
                Aggregate::Distinct(f) => match name(f) {
                    Ok(cim) => {
                        let int = f.ty == crate::ir::FieldType::Int;
                        let cased = f.cased && !int;
                        let column = distinct_column(&cim, cased);
                        let key = (cim, int, cased);
                        if !out.distinct.contains(&key) {
                            out.distinct.push(key);
                        }
                        format!("{column}{symbol}{value}")
                    }
                    Err(refusal) => {
                        refusals.push(refusal);
                        String::new()
                    }
                },
                Aggregate::Min(f) | Aggregate::Max(f) => match name(f) {
                    Ok(cim) => {
                        let min = matches!(aggregate, Aggregate::Min(_));
                        extreme(&eval_name(&cim), min, *comparison, *value, out)
                    }
                    Err(refusal) => {
                        refusals.push(refusal);
                        String::new()
                    }
                },
                Aggregate::Sum(_) => {
                    refusals.push(Refusal::new(
                        SPLUNK,
                        *span,
                        "`sum()` in a `having` condition",
                        "Splunk's `sum()` adds double-precision numbers, which round beyond 2^53 \
                         (the evaluator's sum is exact up to the 64-bit bounds); compare `count()`, \
                         `min()` or `max()` instead",
                    ));
                    String::new()
                }
            }
        }
    }
}

/// `min(x) cmp n` (or `max`) over the values of `x` that read as integers.
fn extreme(x: &str, min: bool, cmp: Comparison, n: i64, out: &mut Written) -> String {
    use Ordering::{Ge, Gt, Le, Lt};
    // A test some value passes, and one no value may pass (with at least
    // one integer when nothing else requires a value).
    let (some, none) = match (min, cmp) {
        (true, Comparison::Lt) | (false, Comparison::Gt) => (Test::Compare(cmp_op(cmp)), None),
        (true, Comparison::Le) | (false, Comparison::Ge) => (Test::Compare(cmp_op(cmp)), None),
        (true, Comparison::Gt) => (Test::Integer, Some(Le)),
        (true, Comparison::Ge) => (Test::Integer, Some(Lt)),
        (false, Comparison::Lt) => (Test::Integer, Some(Ge)),
        (false, Comparison::Le) => (Test::Integer, Some(Gt)),
        (true, Comparison::Eq) => (Test::Equals, Some(Lt)),
        (false, Comparison::Eq) => (Test::Equals, Some(Gt)),
    };
    let some = match some {
        Test::Compare(op) => integer::compare(x, op, n),
        Test::Integer => integer::reads(x),
        Test::Equals => integer::equals(x, n),
    };
    let some = format!("{}=1", flag(out, some));
    match none {
        None => some,
        Some(op) => format!("({some} AND {}=0)", flag(out, integer::compare(x, op, n))),
    }
}

enum Test {
    Compare(Ordering),
    /// The value reads as an integer.
    Integer,
    Equals,
}

fn cmp_op(cmp: Comparison) -> Ordering {
    match cmp {
        Comparison::Lt => Ordering::Lt,
        Comparison::Le => Ordering::Le,
        Comparison::Gt => Ordering::Gt,
        _ => Ordering::Ge,
    }
}

/// The column of the per-event flag of `test` (each test once).
fn flag(out: &mut Written, test: String) -> String {
    let test = format!("if(isnotnull(mvfilter({test})), 1, 0)");
    let at = out
        .flags
        .iter()
        .position(|f| *f == test)
        .unwrap_or_else(|| {
            out.flags.push(test);
            out.flags.len() - 1
        });
    format!("tl_f{at}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Field, FieldType};
    use crate::syntax::Span;

    fn field(path: &str, ty: FieldType) -> Field {
        Field {
            path: path.to_string(),
            ty,
            span: Span::default(),
            cased: false,
        }
    }

    fn compare(aggregate: Aggregate, comparison: Comparison, value: i64) -> Having {
        Having::Compare {
            aggregate,
            comparison,
            value,
            span: Span::default(),
        }
    }

    fn written(having: &Having) -> Result<Written, Vec<Refusal>> {
        write(having, &mut |f: &Field| Ok(f.path.replace('.', "_")))
    }

    #[test]
    fn extremes_become_flags_and_an_or_is_grouped() {
        let status = || field("http.status", FieldType::Int);
        let having = Having::Or(vec![
            compare(Aggregate::Min(status()), Comparison::Ge, 500),
            compare(Aggregate::Max(status()), Comparison::Gt, 499),
            compare(
                Aggregate::Distinct(field("url.path", FieldType::String)),
                Comparison::Gt,
                3,
            ),
        ]);
        let written = written(&having).unwrap();
        // min >= 500: some integer, none below 500; max > 499: one above.
        assert_eq!(
            written.condition,
            "((tl_f0=1 AND tl_f1=0) OR tl_f2=1 OR distinct_url_path>3)"
        );
        assert_eq!(written.flags.len(), 3);
        assert!(written.flags[0].contains("trim(http_status, \"-0123456789\")"));
        assert_eq!(written.distinct, [("url_path".to_string(), false, false)]);
    }

    #[test]
    fn one_flag_per_test_and_sum_is_refused() {
        let status = || field("http.status", FieldType::Int);
        let having = Having::And(vec![
            compare(Aggregate::Max(status()), Comparison::Ge, 1),
            Having::Not(Box::new(compare(
                Aggregate::Max(status()),
                Comparison::Ge,
                1,
            ))),
        ]);
        let written = written(&having).unwrap();
        assert_eq!(written.condition, "tl_f0=1 AND NOT (tl_f0=1)");
        let sum = compare(Aggregate::Sum(status()), Comparison::Gt, 1);
        let refusals = super::write(&sum, &mut |f: &Field| Ok(f.path.clone())).unwrap_err();
        assert_eq!(refusals[0].construct, "`sum()` in a `having` condition");
    }
}
