//! `sequence by F within W { ... then ... }` as a query that follows
//! the evaluator's matcher (`eval::sequence`) exactly:
//!
//! - `held`: the events passing `where` and at least one step, numbered
//!   per group in time order (ties in the query's tie order), with each
//!   step's running count of the events that match it (`counted`).
//! - `chained`: for each event of the last step, the events the evaluator
//!   chooses from the newest back: each step's N latest events matching it
//!   before those of the step after, found by those running counts (the
//!   N-th latest before row r is the one whose count is r's count before
//!   it minus N plus 1). The first step's earliest is where the sequence
//!   starts; it completes when that is at most W before.
//! - A completion empties the group, so an event of the last step
//!   completes when its chain starts after the previous completion. The
//!   chains' starts grow with their ends, so the next completion after
//!   one at row r is the first chain starting after r: an `ASOF` join
//!   links each chain to it, and a recursive walk follows the links from
//!   each group's first chain (DuckDB).
//!
//! Spark SQL 4.0 has no recursive query: there each group's chains, in
//! order, are folded with `aggregate()` instead, keeping the row of the
//! last completion (a chain starting after it completes).

use crate::emit::query::{self, Refusal};
use crate::ir::Sequence;

use super::dialect::Sql;
use super::flavor::Flavor;
use super::group::Group;

/// The alert's count column, named as `tripline eval` names it.
pub const RESULT: &str = "events";

/// The query's header lines: what a run over a range of time returns.
pub fn notes(sequence: &Sequence) -> Vec<String> {
    vec![
        format!(
            "A sequence starts at its first event and ends at most {} s later.",
            sequence.within
        ),
        "Run it over a range that starts where no sequence is under way (a group's".to_string(),
        "events before the range are not seen): each alert of the range, once.".to_string(),
    ]
}

/// The query's steps after `matched`; `order` is the tie order.
pub fn steps(writer: &mut Sql, sequence: &Sequence, order: &str) -> Result<String, Vec<Refusal>> {
    let flavor = writer.flavor;
    let time = flavor.ident("@timestamp");
    let group = Group::new(writer, &sequence.by).map_err(|r| vec![r])?;
    let mut keyed = group.select.clone();
    let mut any = Vec::new();
    for (n, step) in sequence.steps.iter().enumerate() {
        let condition = query::write(writer, &step.condition)?;
        keyed.push(format!("coalesce({condition}, false) AS tl_step{}", n + 1));
        any.push(format!("tl_step{}", n + 1));
    }
    let mut present = vec![format!("{time} IS NOT NULL")];
    present.extend(group.present.iter().cloned());

    // What `counted` keeps: the group, the row, its time, each step's
    // test and running count.
    let mut counted = group.keys.clone();
    counted.extend((1..=sequence.by.len()).map(|n| format!("tl_by{n}")));
    counted.push("tl_n".to_string());
    counted.push(format!("{} AS tl_time", flavor.epoch_micros(&time)));
    let running = group.over("tl_n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW");
    for n in 1..=sequence.steps.len() {
        counted.push(format!("tl_step{n}"));
        counted.push(format!(
            "sum(CAST(tl_step{n} AS INTEGER)) {running} AS tl_count{n}"
        ));
    }

    // The chain, from the last step back: `pN` is step N's earliest event.
    let last = sequence.steps.len();
    let mut joins = Vec::new();
    let mut cursor = "e".to_string();
    for (n, step) in sequence.steps.iter().enumerate().rev() {
        let n = n + 1;
        let pick = format!("p{n}");
        // Row `cursor`'s count of step n's events before it (the last
        // step's count includes the completing event itself).
        let before = if n == last {
            format!("{cursor}.tl_count{n}")
        } else {
            format!("{cursor}.tl_count{n} - CAST({cursor}.tl_step{n} AS INTEGER)")
        };
        let mut on = group.same(&cursor, &pick);
        on.push(format!("{pick}.tl_step{n}"));
        on.push(match step.count.max(1) - 1 {
            0 => format!("{pick}.tl_count{n} = {before}"),
            more => format!("{pick}.tl_count{n} = {before} - {more}"),
        });
        joins.push(format!("JOIN counted AS {pick} ON {}", on.join(" AND ")));
        cursor = pick;
    }
    let mut chained: Vec<String> = group.keys.iter().map(|k| format!("e.{k}")).collect();
    chained.extend((1..=sequence.by.len()).map(|n| format!("p1.tl_by{n}")));
    chained.push("e.tl_n".to_string());
    chained.push("p1.tl_n AS tl_start".to_string());
    chained.push("p1.tl_time AS tl_start_time".to_string());
    let within = sequence.within.saturating_mul(1_000_000);

    let events: u64 = sequence.steps.iter().map(|s| s.count.max(1)).sum();
    let mut shown = vec![format!(
        "{} AS window_start",
        flavor.from_epoch("CAST(floor(tl_start_time / 1000000) AS BIGINT)")
    )];
    shown.extend(group.shown.iter().cloned());
    shown.push(format!("{events} AS {}", flavor.ident(RESULT)));

    let completions = match flavor {
        Flavor::DuckDb => walk(&group),
        Flavor::Spark => fold(&group),
    };
    Ok(format!(
        "keyed AS (\n  SELECT\n    *,\n    {}\n  FROM matched\n  WHERE {}\n),\n\
         held AS (\n  SELECT *, row_number() {} AS tl_n\n  FROM keyed\n  WHERE {}\n),\n\
         counted AS (\n  SELECT\n    {}\n  FROM held\n),\n\
         chained AS (\n  SELECT {}\n  FROM counted AS e\n  {}\n  WHERE e.tl_step{last}\n    AND e.tl_time - p1.tl_time <= {within}\n),\n\
         {completions}\n\
         SELECT\n  {}\nFROM completed",
        keyed.join(",\n    "),
        present.join("\n    AND "),
        group.over(order),
        any.join(" OR "),
        counted.join(",\n    "),
        chained.join(", "),
        joins.join("\n  "),
        shown.join(",\n  "),
    ))
}

/// DuckDB: each chain linked to the earliest chain starting after it
/// (`ASOF`), and a recursive walk along the links from each group's
/// first chain.
fn walk(group: &Group) -> String {
    let mut starts = group.keys.clone();
    starts.push("tl_start".to_string());
    let mut link = group.same("c", "s");
    link.push("s.tl_start > c.tl_n".to_string());
    let first = if group.keys.is_empty() {
        "min(c.tl_n) OVER ()".to_string()
    } else {
        let keys: Vec<String> = group.keys.iter().map(|k| format!("c.{k}")).collect();
        format!("min(c.tl_n) OVER (PARTITION BY {})", keys.join(", "))
    };
    let mut follow = group.same("w", "l");
    follow.push("l.tl_n = w.tl_next".to_string());
    format!(
        "starts AS (\n  SELECT {}, min(tl_n) AS tl_n\n  FROM chained\n  GROUP BY {}\n),\n\
         linked AS (\n  SELECT c.*, s.tl_n AS tl_next, {first} AS tl_first\n  FROM chained AS c\n  ASOF LEFT JOIN starts AS s ON {}\n),\n\
         completed AS (\n  SELECT * FROM linked WHERE tl_n = tl_first\n  UNION ALL\n  SELECT l.*\n  FROM completed AS w\n  JOIN linked AS l ON {}\n)",
        starts.join(", "),
        starts.join(", "),
        link.join(" AND "),
        follow.join(" AND "),
    )
}

/// Spark (no recursive query): each group's chains in order, folded
/// (`aggregate()`) with the row of the last completion: a chain starting
/// after it completes and becomes it.
fn fold(group: &Group) -> String {
    let chains = "array_sort(collect_list(named_struct('n', CAST(tl_n AS BIGINT), 's', CAST(tl_start AS BIGINT))))";
    let zero = "named_struct('last', CAST(0 AS BIGINT), 'done', CAST(array() AS ARRAY<BIGINT>))";
    let merge = "(acc, c) -> CASE WHEN c.s > acc.last \
                 THEN named_struct('last', c.n, 'done', array_append(acc.done, c.n)) ELSE acc END";
    let mut folded = group.keys.clone();
    folded.push(format!(
        "aggregate({chains},\n      {zero},\n      {merge},\n      acc -> acc.done) AS tl_done"
    ));
    let mut done = group.keys.clone();
    done.push("explode(tl_done) AS tl_n".to_string());
    let grouped = if group.keys.is_empty() {
        String::new()
    } else {
        format!("\n  GROUP BY {}", group.keys.join(", "))
    };
    let mut on = group.same("c", "d");
    on.push("d.tl_n = c.tl_n".to_string());
    format!(
        "folded AS (\n  SELECT\n    {}\n  FROM chained{grouped}\n),\n\
         done AS (\n  SELECT {}\n  FROM folded\n),\n\
         completed AS (\n  SELECT c.*\n  FROM chained AS c\n  JOIN done AS d ON {}\n)",
        folded.join(",\n    "),
        done.join(", "),
        on.join(" AND "),
    )
}
