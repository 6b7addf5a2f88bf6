//! `first seen FIELDS in D` as SQL: the events passing `where`, keyed as
//! threshold groups are (`group`), each given the time of the event of
//! its combination just before it (`lag()` in time order, ties in the
//! query's tie order); an event alerts when there is none or it is more
//! than D before, as the evaluator's last-time table decides. One row per
//! alert: `window_start` (the event's second minus D), the fields' values
//! as the event spells them, and `events` (1), as `tripline eval` reports.

use crate::emit::query::Refusal;
use crate::ir::FirstSeen;

use super::dialect::Sql;
use super::group::Group;

/// The alert's count column, named as `tripline eval` names it.
pub const RESULT: &str = "events";

/// The query's header lines: the history a run needs.
pub fn notes(first: &FirstSeen) -> Vec<String> {
    vec![
        format!(
            "An event alerts when its combination was not seen in the {} s before it:",
            first.horizon
        ),
        format!(
            "give the query the {} s of events before the range whose alerts you keep,",
            first.horizon
        ),
        "and keep the alerts whose window ends (at the event's second) in that range.".to_string(),
    ]
}

/// The query's steps after `matched`; `order` is the tie order.
pub fn steps(writer: &Sql, first: &FirstSeen, order: &str) -> Result<String, Refusal> {
    let flavor = writer.flavor;
    let time = flavor.ident("@timestamp");
    let group = Group::new(writer, &first.fields)?;
    let micros = flavor.epoch_micros(&time);
    let horizon = first.horizon.saturating_mul(1_000_000);
    let mut present = vec![format!("{time} IS NOT NULL")];
    present.extend(group.present.iter().cloned());
    let start = format!(
        "(CAST(floor({micros} / 1000000) AS BIGINT) - {})",
        first.horizon
    );
    let mut shown = vec![format!("{} AS window_start", flavor.from_epoch(&start))];
    shown.extend(group.shown.iter().cloned());
    shown.push(format!("1 AS {}", flavor.ident(RESULT)));
    Ok(format!(
        "keyed AS (\n  SELECT\n    *,\n    {}\n  FROM matched\n  WHERE {}\n),\n\
         previous AS (\n  SELECT\n    *,\n    lag({micros}) {} AS tl_before\n  FROM keyed\n)\n\
         SELECT\n  {}\nFROM previous\nWHERE tl_before IS NULL\n  OR {micros} - tl_before > {horizon}",
        group.select.join(",\n    "),
        present.join("\n    AND "),
        group.over(order),
        shown.join(",\n  "),
    ))
}
