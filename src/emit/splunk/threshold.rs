//! A threshold rule's aggregation, after its filter. Windows are the
//! evaluator's: `floor(_time/W)*W` on the epoch (`bin` and `span` of a day
//! or more align on the searching user's midnight). A tstats search first
//! counts in buckets of `span=S`, S dividing both W and 15 minutes: every
//! time zone's offset today is a multiple of 15 minutes, so S-buckets start
//! on multiples of S since the epoch, each lies inside one window, and the
//! window of a bucket is exact. Groups and distinct values are keyed by
//! lowered text, an `int` field's integers by their digits; `dc()` is
//! exact (never `estdc()`). The first spelling of a group is `earliest()`
//! of its rows, each row timed by its earliest event (`min(_time)`).
//! Hopping windows and `first seen` are raw searches of the same shape:
//! rows per window (per event time for `first seen`) and group, then
//! `streamstats` for each group's previous row.

use crate::emit::Input;
use crate::emit::query::Refusal;
use crate::ir::{self, Aggregate, FieldType};

use super::eval::eval_name;
use super::settings::duration;
use super::{SPLUNK, field_name, integer};

/// One field a threshold groups or counts on.
pub struct Keyed {
    /// The CIM name.
    name: String,
    int: bool,
    /// `cased`: keyed by its exact text (`int` wins: integers by number).
    cased: bool,
}

impl Keyed {
    /// The key of one value `x` (the field, or an `mvmap` variable).
    fn key(&self, x: &str) -> String {
        if self.int {
            integer::key(x)
        } else if self.cased {
            format!("tostring({x})")
        } else {
            format!("lower({x})")
        }
    }
}

/// What a `having` rule's aggregation computes besides `count`.
struct Aggregates {
    /// `dc(tl_dI) AS column` for each.
    distinct: Vec<(Keyed, String)>,
    /// `tl_fI`, each event's 0/1 flag (`having`).
    flags: Vec<String>,
}

/// What a threshold rule groups and counts.
pub struct Grouping {
    by: Vec<Keyed>,
    /// The context fields the alert samples (CIM names).
    context: Vec<String>,
    distinct: Option<Keyed>,
    /// A `having` condition beyond version 1's one comparison.
    having: Option<Aggregates>,
    /// W, or a first-seen rule's horizon D.
    window: u64,
    /// `step H` of hopping windows.
    step: Option<u64>,
    /// `first seen`: rows per event time and combination, not windows.
    first_seen: bool,
    /// The run's slot (`every`), in seconds.
    every: u64,
    /// `count>=20`.
    condition: String,
}

impl Grouping {
    pub fn new(
        input: &Input,
        rule: &ir::Rule,
        threshold: &ir::Threshold,
    ) -> Result<Self, Vec<Refusal>> {
        let keyed = |field: &ir::Field| -> Result<Keyed, Refusal> {
            Ok(Keyed {
                name: field_name(input, rule, field)?.to_string(),
                int: field.ty == FieldType::Int,
                cased: field.cased,
            })
        };
        let mut refusals = Vec::new();
        let mut by: Vec<Keyed> = Vec::new();
        for field in &threshold.by {
            match keyed(field) {
                Ok(k) if by.iter().any(|b| b.name == k.name) => refusals.push(Refusal::new(
                    SPLUNK,
                    field.span,
                    format!("a second `by` field named `{}` in Splunk", k.name),
                    "an alert row has one column per name; group by the field once",
                )),
                Ok(k) => by.push(k),
                Err(refusal) => refusals.push(refusal),
            }
        }
        let single = threshold.single();
        let distinct = match single.map(|s| s.aggregate) {
            Some(Aggregate::Distinct(field)) => keyed(field).map_err(|r| refusals.push(r)).ok(),
            _ => None,
        };
        let mut having = None;
        let mut condition = String::new();
        if single.is_none() {
            let mut name = |f: &ir::Field| field_name(input, rule, f).map(str::to_string);
            match super::having::write(&threshold.having, &mut name) {
                Ok(written) => {
                    let distinct = written
                        .distinct
                        .into_iter()
                        .map(|(name, int, cased)| {
                            let column = super::having::distinct_column(&name, cased);
                            (Keyed { name, int, cased }, column)
                        })
                        .collect();
                    having = Some(Aggregates {
                        distinct,
                        flags: written.flags,
                    });
                    condition = written.condition;
                }
                Err(r) => refusals.extend(r),
            }
        }
        let mut context: Vec<String> = Vec::new();
        for field in crate::emit::common::sampled_fields(input, rule, threshold) {
            add_context(input, rule, field, &mut context, &mut refusals);
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        let output = if distinct.is_some() {
            "distinct_count"
        } else {
            "count"
        };
        if let Some(single) = single {
            condition = format!("{output}{}{}", single.comparison.symbol(), single.value);
        }
        Ok(Grouping {
            by,
            context,
            distinct,
            having,
            window: threshold.window,
            step: threshold.step,
            first_seen: false,
            every: rule.schedule.every,
            condition,
        })
    }

    /// `first seen FIELDS in D`: keyed and spelled as `by` fields, one row
    /// per event time and combination (see [`Grouping::first_seen_tail`]).
    pub fn first_seen(
        input: &Input,
        rule: &ir::Rule,
        first: &ir::FirstSeen,
    ) -> Result<Self, Vec<Refusal>> {
        let mut refusals = Vec::new();
        let mut by: Vec<Keyed> = Vec::new();
        for field in &first.fields {
            match field_name(input, rule, field) {
                Ok(name) if by.iter().any(|b| b.name == name) => refusals.push(Refusal::new(
                    SPLUNK,
                    field.span,
                    format!("a second `first seen` field named `{name}` in Splunk"),
                    "an alert row has one column per name; name the field once",
                )),
                Ok(name) => by.push(Keyed {
                    name: name.to_string(),
                    int: field.ty == FieldType::Int,
                    cased: field.cased,
                }),
                Err(refusal) => refusals.push(refusal),
            }
        }
        // The context fields the source maps (an unmapped one the alert
        // needs is refused with the alert's settings).
        let mut context: Vec<String> = Vec::new();
        for field in &rule.alert.context {
            if first.fields.iter().any(|f| f.path == field.path)
                || input.mapping.field(&rule.source, &field.path).is_none()
            {
                continue;
            }
            add_context(input, rule, field, &mut context, &mut refusals);
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        Ok(Grouping {
            by,
            context,
            distinct: None,
            having: None,
            window: first.horizon,
            step: None,
            first_seen: true,
            every: rule.schedule.every,
            condition: String::new(),
        })
    }

    fn output(&self) -> &'static str {
        if self.distinct.is_some() {
            "distinct_count"
        } else {
            "count"
        }
    }

    /// The windows that end in the run's slot (`addinfo`: the slot ends at
    /// `info_max_time`, the dispatch's latest time) and satisfy the
    /// condition, then `_time` back to the window and the alert's columns.
    fn tail(&self, lines: &mut Vec<String>) {
        let start = self.window_column();
        let (w, every) = (self.window, self.every);
        if self.first_seen {
            self.first_seen_tail(lines);
        } else {
            lines.push("| addinfo".to_string());
        }
        match self.step {
            None if self.first_seen => {}
            None => lines.push(format!(
                "| where {start}+{w}>info_max_time-{every} AND {start}+{w}<=info_max_time AND {}",
                self.condition
            )),
            Some(step) => self.first_of_runs(step, lines),
        }
        let mut columns = vec!["_time".to_string()];
        columns.extend(self.by.iter().map(|b| eval_name(&b.name)));
        match &self.having {
            Some(having) => {
                columns.push("count".to_string());
                columns.extend(having.distinct.iter().map(|(_, c)| c.clone()));
            }
            None if self.first_seen => {}
            None => columns.push(self.output().to_string()),
        }
        columns.push("firstTime lastTime".to_string());
        // The sample: the first values in `values()` order, `""` left out.
        let mut assignments = Vec::new();
        if start == "tl_w" {
            assignments.push("_time=tl_w".to_string());
        }
        for name in &self.context {
            let name = eval_name(name);
            assignments.push(format!(
                "{name}=mvindex(mvfilter({name}!=\"\"), 0, {})",
                ir::CONTEXT_SAMPLE - 1
            ));
            columns.push(name);
        }
        if !assignments.is_empty() {
            lines.push(format!("| eval {}", assignments.join(", ")));
        }
        lines.push(format!("| table {}", columns.join(" ")));
    }

    /// `stats` functions and `BY` keys of the final aggregation. `spelled`:
    /// each event carries its spellings by key (`tl_sI`, see [`raw`]), else
    /// each row holds one value of each `by` field (tstats). `last` is the
    /// column of each row's latest event time, `values(column)` a context
    /// field's values (the field itself on raw events).
    fn stats(
        &self,
        count: &str,
        spelled: bool,
        last: &str,
        values: impl Fn(usize, &str) -> String,
    ) -> String {
        let mut functions = vec![match &self.distinct {
            Some(_) => "dc(tl_d) AS distinct_count".to_string(),
            None => count.to_string(),
        }];
        if let Some(having) = &self.having {
            for (i, (_, column)) in having.distinct.iter().enumerate() {
                functions.push(format!("dc(tl_d{i}) AS {column}"));
            }
            for i in 0..having.flags.len() {
                functions.push(format!("max(tl_f{i}) AS tl_f{i}"));
            }
        }
        functions.push(format!("min(tl_t) AS firstTime max({last}) AS lastTime"));
        for (i, name) in self.context.iter().enumerate() {
            let name = eval_name(name);
            functions.push(format!("values({}) AS {name}", values(i, &name)));
        }
        let mut keys = Vec::new();
        for (i, b) in self.by.iter().enumerate() {
            keys.push(format!("tl_k{i}"));
            let name = match spelled {
                true if b.cased && !b.int => continue,
                true => format!("tl_s{i}"),
                false => eval_name(&b.name),
            };
            functions.push(format!("earliest({name}) AS {name}"));
        }
        keys.insert(0, self.window_column().to_string());
        format!("| stats {} BY {}", functions.join(" "), keys.join(" "))
    }

    /// The column of an aggregated row's window start: `_time` itself for
    /// tumbling windows of one group (version 1's search), else `tl_w`.
    fn window_column(&self) -> &'static str {
        if self.by.is_empty() && self.step.is_none() && !self.first_seen {
            "_time"
        } else {
            "tl_w"
        }
    }

    /// The start of each window holding the event: one, or with `step H`
    /// the W / H windows of the event's slot of H and the slots before it
    /// (`mvrange()` ends before its second argument), a multivalue that
    /// `stats ... BY` splits into one row per window.
    fn window(&self) -> String {
        let w = self.window;
        if self.first_seen {
            return "_time".to_string();
        }
        let Some(h) = self.step else {
            return format!("floor(_time/{w})*{w}");
        };
        let slot = format!("floor(_time/{h})*{h}");
        let first = match w - h {
            0 => slot.clone(),
            back => format!("{slot}-{back}"),
        };
        format!("mvrange({first}, {slot}+{h}, {h})")
    }

    /// First seen: the rows (one per event time and combination, `tl_w`
    /// the time) in time order, each given the time of its combination's
    /// previous row (`streamstats current=f window=1 global=f`); a row in
    /// the run's slot alerts when there is none or it lies more than D
    /// before. The run reads D before its slot, so every row within D of a
    /// row in the slot is read. Events of one combination at one time are
    /// one row: the evaluator alerts on the first of them only.
    fn first_seen_tail(&self, lines: &mut Vec<String>) {
        let (horizon, every) = (self.window, self.every);
        let keys: String = (0..self.by.len()).map(|i| format!(" tl_k{i}")).collect();
        lines.push("| sort 0 tl_w".to_string());
        lines.push(match keys.is_empty() {
            true => "| streamstats current=f window=1 last(tl_w) AS tl_pw".to_string(),
            false => {
                format!("| streamstats current=f window=1 global=f last(tl_w) AS tl_pw BY{keys}")
            }
        });
        lines.push("| addinfo".to_string());
        lines.push(format!(
            "| where tl_w>=info_max_time-{every} AND tl_w<info_max_time AND (isnull(tl_pw) OR tl_w-tl_pw>{horizon})"
        ));
    }

    /// Hopping windows: the windows ending in the slot and those H before
    /// them (all read whole) that satisfy the condition, in order of their
    /// start; a window ending in the slot alerts when the group's previous
    /// satisfying window (`streamstats current=f window=1 global=f`: the
    /// row before it in its group) does not start H before it: the first
    /// window of a run. A predecessor without counted events does not
    /// satisfy, as in the evaluator.
    fn first_of_runs(&self, step: u64, lines: &mut Vec<String>) {
        let (w, every) = (self.window, self.every);
        let reach = every.saturating_add(step);
        lines.push(format!(
            "| where tl_w+{w}>info_max_time-{reach} AND tl_w+{w}<=info_max_time AND {}",
            self.condition
        ));
        lines.push("| sort 0 tl_w".to_string());
        let keys: String = (0..self.by.len()).map(|i| format!(" tl_k{i}")).collect();
        lines.push(match keys.is_empty() {
            true => "| streamstats current=f window=1 last(tl_w) AS tl_pw".to_string(),
            false => {
                format!("| streamstats current=f window=1 global=f last(tl_w) AS tl_pw BY{keys}")
            }
        });
        lines.push(format!(
            "| where tl_w+{w}>info_max_time-{every} AND tl_w+{w}<=info_max_time AND (isnull(tl_pw) OR tl_pw!=tl_w-{step})"
        ));
    }
}

/// How far before its scheduled time a run of a threshold rule reads: the
/// rule's look-back, and with hopping windows at least H more, so that the
/// window H before each window ending in the slot is read whole too.
pub fn lookback(rule: &ir::Rule, threshold: &ir::Threshold) -> u64 {
    let lookback = rule.schedule.lookback;
    let Some(step) = threshold.step else {
        return lookback;
    };
    let schedule = &rule.schedule;
    let needed = ir::Schedule::minimum_lookback(schedule.every, schedule.delay, threshold.window)
        .saturating_add(step);
    lookback.max(needed)
}

/// After `| tstats ... {source}` (`FROM ... WHERE ...`): rows per bucket,
/// `by` value and distinct value, folded into windows and groups.
pub fn tstats(grouping: &Grouping, source: &str, prefix: &str) -> Vec<String> {
    let span = duration(gcd(grouping.window, 900));
    let mut by: Vec<String> = grouping
        .by
        .iter()
        .map(|b| format!("{prefix}.{}", b.name))
        .collect();
    if let Some(d) = &grouping.distinct
        && !grouping.by.iter().any(|b| b.name == d.name)
    {
        by.push(format!("{prefix}.{}", d.name));
    }
    // Rows keep their earliest event's time for `earliest()` spellings
    // and the alert's first time, their latest for its last time.
    let mut function = if grouping.by.is_empty() {
        "count min(_time) AS tl_t".to_string()
    } else {
        "min(_time) AS tl_t".to_string()
    };
    function.push_str(" max(_time) AS tl_l");
    for (i, name) in grouping.context.iter().enumerate() {
        function.push_str(&format!(" values({prefix}.{name}) AS tl_c{i}"));
    }
    let mut lines = vec![format!(
        "| tstats `tripline_summariesonly` {function} {source} BY _time span={span}{}",
        by.iter().map(|b| format!(" {b}")).collect::<String>()
    )];
    if !by.is_empty() {
        lines.push(format!("| rename {prefix}.* AS *"));
    }
    let mut assignments = Vec::new();
    if grouping.by.is_empty() {
        assignments.push(format!("_time={}", grouping.window()));
    } else {
        assignments.push(format!("tl_w={}", grouping.window()));
        assignments.push("_time=tl_t".to_string());
    }
    // A row holds one value of each field: `""` becomes null, which
    // `stats ... BY` skips and `dc()` does not count.
    let nonempty = |k: &Keyed| {
        let x = eval_name(&k.name);
        format!("if({x}==\"\", null(), {})", k.key(&x))
    };
    for (i, b) in grouping.by.iter().enumerate() {
        assignments.push(format!("tl_k{i}={}", nonempty(b)));
    }
    if let Some(d) = &grouping.distinct {
        assignments.push(format!("tl_d={}", nonempty(d)));
    }
    lines.push(format!("| eval {}", assignments.join(", ")));
    lines.push(
        grouping.stats("sum(count) AS count", false, "tl_l", |i, _| {
            format!("tl_c{i}")
        }),
    );
    grouping.tail(&mut lines);
    lines
}

/// After a raw filter: each event keyed once per distinct lowered value of
/// each `by` field (`mvdedup`), which `stats ... BY` splits into groups.
///
/// The spelling a group reports is a value of its earliest event whose key
/// is the group's: `earliest()` of a multivalue field is not documented per
/// value, and the event's first value may belong to another group. So each
/// event carries its values as one text, `tl_sI` = `#2K#3V` for each value
/// V and its key K (`#` written `#1` inside both, so `#2` and `#3` occur
/// only as separators); `earliest(tl_sI)` keeps the earliest event's, and
/// after `stats` the text after `#2K#3` up to the next `#2` is the spelling
/// of the group's key K ([`spelling`]). No regex reads a value: `split()`,
/// `mvindex()` and `replace()` of the fixed `#1`.
pub fn raw(grouping: &Grouping) -> Vec<String> {
    // The event's own time first: `_time` may become the window's.
    let mut assignments = vec!["tl_t=_time".to_string()];
    assignments.push(format!(
        "{}={}",
        grouping.window_column(),
        grouping.window()
    ));
    let keys = |k: &Keyed, var: &str| {
        let field = eval_name(&k.name);
        [
            format!("{var}=mvfilter({field}!=\"\")"),
            format!("{var}=mvmap({var}, {})", k.key(var)),
        ]
    };
    for (i, b) in grouping.by.iter().enumerate() {
        let var = format!("tl_k{i}");
        let [values, mapped] = keys(b, &var);
        assignments.push(values);
        assignments.push(format!("{var}=mvdedup({})", &mapped[var.len() + 1..]));
        // A `cased` key is its own spelling.
        if b.cased && !b.int {
            continue;
        }
        let s = format!("tl_s{i}");
        assignments.push(format!("{s}=mvfilter({}!=\"\")", eval_name(&b.name)));
        assignments.push(format!(
            "{s}=mvjoin(mvmap({s}, \"#2\" . {} . \"#3\" . {}), \"\") . \"#2\"",
            escaped(&b.key(&s)),
            escaped(&s)
        ));
    }
    if let Some(d) = &grouping.distinct {
        assignments.extend(keys(d, "tl_d"));
    }
    if let Some(having) = &grouping.having {
        for (i, (d, _)) in having.distinct.iter().enumerate() {
            assignments.extend(keys(d, &format!("tl_d{i}")));
        }
        for (i, flag) in having.flags.iter().enumerate() {
            assignments.push(format!("tl_f{i}={flag}"));
        }
    }
    let mut lines = vec![format!("| eval {}", assignments.join(", "))];
    lines.push(grouping.stats("count", true, "tl_t", |_, name| name.to_string()));
    if !grouping.by.is_empty() {
        let spellings: Vec<String> = (0..grouping.by.len())
            .zip(&grouping.by)
            .map(|(i, b)| match b.cased && !b.int {
                true => format!("{}=tl_k{i}", eval_name(&b.name)),
                false => format!("{}={}", eval_name(&b.name), spelling(i)),
            })
            .collect();
        lines.push(format!("| eval {}", spellings.join(", ")));
    }
    grouping.tail(&mut lines);
    lines
}

/// `x` with `#` written `#1`.
fn escaped(x: &str) -> String {
    format!("replace({x}, \"#\", \"#1\")")
}

/// The spelling of group key `tl_kI` in its earliest event's `tl_sI`: the
/// text after `#2K#3` (K escaped) up to the next `#2`, unescaped. `_`
/// before the text keeps the first piece of the split non-empty, and the
/// spelling is never empty, so no piece `split()` returns is empty where
/// it is read.
fn spelling(i: usize) -> String {
    let marker = format!("\"#2\" . {} . \"#3\"", escaped(&format!("tl_k{i}")));
    format!(
        "replace(mvindex(split(mvindex(split(\"_\" . tl_s{i}, {marker}), 1), \"#2\"), 0), \"#1\", \"#\")"
    )
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A context field's Splunk name, once, into `context` (or its refusal).
fn add_context(
    input: &Input,
    rule: &ir::Rule,
    field: &ir::Field,
    context: &mut Vec<String>,
    refusals: &mut Vec<Refusal>,
) {
    match field_name(input, rule, field) {
        Ok(name) if !context.iter().any(|c| c == name) => context.push(name.to_string()),
        Ok(_) => {}
        Err(refusal) => refusals.push(refusal),
    }
}

#[cfg(test)]
mod tests {
    use super::{Keyed, gcd};

    #[test]
    fn keys_fold_case_unless_cased_and_integers_win() {
        let keyed = |int, cased| Keyed {
            name: "user".to_string(),
            int,
            cased,
        };
        assert_eq!(keyed(false, false).key("x"), "lower(x)");
        assert_eq!(keyed(false, true).key("x"), "tostring(x)");
        assert_eq!(keyed(true, true).key("x"), keyed(true, false).key("x"));
    }

    #[test]
    fn spans_divide_the_window_and_a_quarter_hour() {
        assert_eq!(gcd(600, 900), 300);
        assert_eq!(gcd(3600, 900), 900);
        assert_eq!(gcd(86400, 900), 900);
        assert_eq!(gcd(45, 900), 45);
        assert_eq!(gcd(420, 900), 60);
    }
}
