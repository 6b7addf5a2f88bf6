//! The checked pack: what the evaluator and every target read. Names are
//! resolved (lists inlined, fields typed from the taxonomy, techniques looked
//! up in the ATT&CK catalogue), defaults filled in, and `!=` / `not in` /
//! `not in cidr` lowered to `Not`. Spans remain only where a later stage
//! reports on the rule (target refusals, test failures).

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::source::FileId;
use crate::syntax::{Span, Spanned};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pack {
    /// In the order the files were given, then written order.
    pub rules: Vec<Rule>,
    pub settings: PackSettings,
}

/// What the pack as a whole says (its manifest, `tripline.toml`); the
/// defaults hold for files checked without one.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PackSettings {
    /// Globs of rule names (`dns_*`, `*`) that the SIEMs get enabled; every
    /// other rule installs disabled.
    pub enabled: Vec<String>,
    /// The pack's name (`[pack] name`), when it has a manifest.
    pub name: Option<String>,
    /// The Splunk app's id, when the manifest or site sets it (else the
    /// Splunk target folder's `app.yaml`).
    pub splunk_app: Option<String>,
    /// The Splunk app's version (`X.Y.Z`); without one, tripline's.
    pub splunk_version: Option<String>,
    /// The definitions a site gives rules' Splunk `<rule>_filter` macros,
    /// by rule name; a rule not listed keeps `search *`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub splunk_filters: std::collections::BTreeMap<String, String>,
    /// Each rule's content version (`X.Y.Z`) by rule name, as `build` fixed
    /// it from `tripline.lock`; a rule not listed is at `1.0.0`.
    pub rule_versions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub name: String,
    #[serde(skip)]
    pub file: FileId,
    /// The rule file's path (`events` paths are relative to it).
    pub path: PathBuf,
    /// The span of the rule's name.
    #[serde(skip)]
    pub span: Span,
    pub meta: Meta,
    /// The taxonomy source (`dns`, `network`, ...); the first of `from a, b`.
    pub source: String,
    /// The further sources of `from a, b, ...` (each once, not `source`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more_sources: Vec<String>,
    pub condition: Condition,
    /// What alerts: each event, an aggregation, a sequence or a first sighting.
    pub detection: Detection,
    pub schedule: Schedule,
    pub playbook: Playbook,
    /// How the SIEMs raise and show its alerts (`alert { }` and defaults).
    pub alert: Alert,
    pub tests: Vec<Test>,
}

impl Rule {
    /// The rule's aggregation, if it is a `threshold` rule.
    pub fn threshold(&self) -> Option<&Threshold> {
        self.detection.threshold()
    }
}

/// What an alert says and raises, every default filled in (docs/language.md
/// "Alerts").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The alert's title: text and field tokens, in order.
    pub title: Vec<TitlePart>,
    /// ES risk objects; Sentinel entities come from the same fields.
    pub risk: Vec<RiskObject>,
    pub threats: Vec<ThreatObject>,
    /// The fields an analyst sees: each alert row carries them (a threshold
    /// alert: a sorted sample of the group's distinct values).
    pub context: Vec<Field>,
    /// Also a notable (Splunk) / an incident (Sentinel); otherwise risk only.
    pub notable: bool,
}

impl Alert {
    /// Every field the alert shows: title tokens, risk, threat and context
    /// fields, each once, in that order.
    pub fn fields(&self) -> Vec<&Field> {
        let mut fields: Vec<&Field> = Vec::new();
        let title = self.title.iter().filter_map(|p| match p {
            TitlePart::Field(f) => Some(f),
            TitlePart::Text(_) => None,
        });
        let all = title
            .chain(self.risk.iter().map(|r| &r.field))
            .chain(self.threats.iter().map(|t| &t.field))
            .chain(&self.context);
        for field in all {
            if !fields.iter().any(|f| f.path == field.path) {
                fields.push(field);
            }
        }
        fields
    }

    /// The context fields that are not `by` fields of `threshold` (those a
    /// threshold alert samples).
    pub fn sampled<'a>(&'a self, threshold: &'a Threshold) -> impl Iterator<Item = &'a Field> {
        self.context
            .iter()
            .filter(|f| !threshold.by.iter().any(|b| b.path == f.path))
    }
}

/// How many distinct values of a context field a threshold alert carries.
pub const CONTEXT_SAMPLE: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TitlePart {
    Text(String),
    Field(Field),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskObject {
    pub field: Field,
    pub kind: RiskKind,
    /// 1..=100.
    pub score: u8,
}

/// Enterprise Security's risk object types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskKind {
    System,
    User,
    Other,
}

impl RiskKind {
    pub fn name(self) -> &'static str {
        match self {
            RiskKind::System => "system",
            RiskKind::User => "user",
            RiskKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatObject {
    pub field: Field,
    /// An Enterprise Security threat object type (`ip_address`, `domain`).
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meta {
    pub title: String,
    /// As written (either case); compare ignoring case.
    pub id: String,
    pub status: Status,
    pub level: Level,
    /// In written order, without repeats.
    pub techniques: Vec<Technique>,
    /// The tactics of all techniques, in the catalogue's tactic order.
    pub tactics: Vec<Tactic>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    /// The least content version the rule ships as (`version "2.0.0"`).
    pub version: Option<String>,
    pub description: String,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Experimental,
    Test,
    Stable,
    Deprecated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Technique {
    /// `T1590` or `T1590.002`.
    pub id: String,
    pub name: String,
    /// Tactic shortnames (`reconnaissance`).
    pub tactics: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tactic {
    /// `TA0043`
    pub id: String,
    /// `reconnaissance`
    pub shortname: String,
    /// `Reconnaissance`
    pub name: String,
}

/// When the SIEM runs the rule, in seconds. Runs are scheduled on the
/// grid of `every` (F) since the epoch; each reports one slot of F that
/// ended `settle()` before its scheduled time, so that events up to `delay`
/// (D) late have arrived, and every match or window end belongs to
/// exactly one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub every: u64,
    /// Where `every` is written (refusals of the schedule point there);
    /// `None` when it comes from the pack's defaults.
    #[serde(skip)]
    pub every_span: Option<crate::syntax::Span>,
    /// How far back a run reads from its scheduled time: at least
    /// [`Schedule::minimum_lookback`].
    pub lookback: u64,
    pub delay: u64,
}

impl Schedule {
    /// The delay rounded up to whole `every`: how long before its scheduled
    /// time a run's slot ends (so the slot stays on the grid).
    pub fn settle(&self) -> u64 {
        settle(self.every, self.delay)
    }

    /// The shortest look-back that sees every window ending in the slot
    /// whole: the window, the slot (`every`) and the settle time.
    pub fn minimum_lookback(every: u64, delay: u64, window: u64) -> u64 {
        window
            .saturating_add(every)
            .saturating_add(settle(every, delay))
    }
}

/// `delay` rounded up to whole `every`.
pub fn settle(every: u64, delay: u64) -> u64 {
    delay.div_ceil(every.max(1)).saturating_mul(every)
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Playbook {
    pub questions: Vec<String>,
    pub escalate: Vec<String>,
    pub triage: Vec<String>,
    pub investigate: Vec<String>,
    pub contain: Vec<String>,
}

impl Playbook {
    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
            && self.escalate.is_empty()
            && self.triage.is_empty()
            && self.investigate.is_empty()
            && self.contain.is_empty()
    }
}

/// The `where` expression. `And` and `Or` are flattened (no `And` directly
/// inside an `And`); parentheses are gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `exists(f)`: present and not null, `""`, `[]` or `{}`.
    Exists(Field),
    Predicate(Predicate),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The taxonomy (ECS) path, `source.ip`.
    pub path: String,
    pub ty: FieldType,
    #[serde(skip)]
    pub span: Span,
    /// `cased`: a predicate on the field compares its text exactly, and a
    /// `by` or `distinct` field groups or counts its exact text.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cased: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Int,
    Ip,
    /// `@timestamp`: only `exists()` may test it.
    Time,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predicate {
    pub field: Field,
    /// `len(f)`: the operation (typed as on an `int` field) compares the
    /// number of Unicode scalar values of each of the field's values.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub length: bool,
    pub operation: Operation,
    /// From the field to the end of the operand (for refusals).
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Operation {
    /// `==` (one value) or `in` (any of the values). Strings compare ignoring
    /// case; on an `int` field the values are integers and compare as numbers.
    Equals {
        values: Vec<Literal>,
        list: Option<String>,
    },
    /// `<`, `<=`, `>`, `>=` on an `int` field.
    Compare { op: Ordering, value: i64 },
    /// `contains`, `startswith`, `endswith`, `like`, ignoring case: any value
    /// matches, or every value when `all`. Never empty.
    Text {
        op: TextOp,
        values: Vec<String>,
        all: bool,
        list: Option<String>,
    },
    /// `matches`: `pattern` without the leading `(?i)`, which sets `case_insensitive`.
    Regex {
        pattern: String,
        case_insensitive: bool,
    },
    /// `in cidr`: the value parses as an address inside any block.
    Cidr {
        blocks: Vec<IpBlock>,
        list: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Literal {
    String(String),
    Int(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ordering {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Ordering {
    /// `<`, `<=`, `>`, `>=`: the same in every query language tripline writes.
    pub fn symbol(self) -> &'static str {
        match self {
            Ordering::Lt => "<",
            Ordering::Le => "<=",
            Ordering::Gt => ">",
            Ordering::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
    Like,
}

/// A CIDR block in canonical form: host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IpBlock {
    pub network: IpAddr,
    pub prefix: u8,
}

impl IpBlock {
    /// Whether `addr` (of the same family) lies inside the block.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// What a rule raises alerts on, beyond its `where`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Detection {
    /// Every event that passes `where` alerts.
    Match,
    /// `threshold`: a condition over aggregates per group and window.
    Aggregation(Threshold),
    /// `sequence by F within W { ... then ... }`.
    Sequence(Sequence),
    /// `first seen F in D`.
    FirstSeen(FirstSeen),
}

impl Detection {
    pub fn threshold(&self) -> Option<&Threshold> {
        match self {
            Detection::Aggregation(threshold) => Some(threshold),
            _ => None,
        }
    }

    /// The fields an alert is grouped by (empty for a match rule).
    pub fn group_by(&self) -> &[Field] {
        match self {
            Detection::Match => &[],
            Detection::Aggregation(threshold) => &threshold.by,
            Detection::Sequence(sequence) => &sequence.by,
            Detection::FirstSeen(first) => &first.fields,
        }
    }
}

/// Steps matched by distinct events of one group, in time order, the last
/// no later than `within` after the first (language "Sequences").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    /// Possibly empty: one group for all events.
    pub by: Vec<Field>,
    /// Seconds from the first step's first event to the last step's event.
    pub within: u64,
    /// At least two.
    pub steps: Vec<Step>,
    /// The `sequence` statement (for refusals).
    #[serde(skip)]
    pub span: Span,
}

/// `[N] where EXPR` in a sequence: N distinct events passing the rule's
/// `where` and this condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub count: u64,
    pub condition: Condition,
    #[serde(skip)]
    pub span: Span,
}

/// `first seen FIELDS in D`: an event alerts when the combination of its
/// FIELDS values was not seen, in events passing `where`, during the D
/// before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstSeen {
    pub fields: Vec<Field>,
    /// D, in seconds.
    pub horizon: u64,
    /// The `first seen` statement (for refusals).
    #[serde(skip)]
    pub span: Span,
}

/// An aggregation: per group and window, a condition over aggregates.
/// Version 1's `threshold AGG by F over W op N` is the condition `AGG op N`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// Possibly empty: one group for all events.
    pub by: Vec<Field>,
    /// Window length in seconds, aligned on the epoch.
    pub window: u64,
    /// `step H`: windows of length `window` start at every multiple of H
    /// (which divides `window`); `None`: they tumble.
    pub step: Option<u64>,
    /// `over W step H` as written (for refusals); empty without `step`.
    #[serde(skip)]
    pub step_span: Span,
    /// The condition a (group, window) must satisfy to alert.
    pub having: Having,
    /// The `threshold` statement's value (for refusals).
    #[serde(skip)]
    pub span: Span,
}

/// A condition over aggregates; `And` and `Or` are flattened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Having {
    And(Vec<Having>),
    Or(Vec<Having>),
    Not(Box<Having>),
    /// `AGG op N`.
    Compare {
        aggregate: Aggregate,
        comparison: Comparison,
        value: i64,
        /// From the aggregate to the integer (for refusals).
        #[serde(skip)]
        span: Span,
    },
}

/// A version 1 threshold: one comparison of `count()` or `distinct(f)`,
/// tumbling windows. What every target writes today.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Single<'a> {
    pub aggregate: &'a Aggregate,
    pub comparison: Comparison,
    pub value: i64,
}

impl Threshold {
    /// The version 1 shape of this threshold, if it has one.
    pub fn single(&self) -> Option<Single<'_>> {
        match &self.having {
            Having::Compare {
                aggregate: aggregate @ (Aggregate::Count | Aggregate::Distinct(_)),
                comparison,
                value,
                ..
            } if self.step.is_none() => Some(Single {
                aggregate,
                comparison: *comparison,
                value: *value,
            }),
            _ => None,
        }
    }

    /// The aggregates the condition reads, each once, in written order.
    pub fn aggregates(&self) -> Vec<&Aggregate> {
        fn walk<'a>(having: &'a Having, out: &mut Vec<&'a Aggregate>) {
            match having {
                Having::And(parts) | Having::Or(parts) => {
                    parts.iter().for_each(|p| walk(p, out));
                }
                Having::Not(inner) => walk(inner, out),
                Having::Compare { aggregate, .. } => {
                    if !out.iter().any(|a| a.same_as(aggregate)) {
                        out.push(aggregate);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.having, &mut out);
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Aggregate {
    Count,
    Distinct(Field),
    /// `sum(f)`, `min(f)`, `max(f)` on an `int` field: over the events whose
    /// `f` reads as an integer.
    Sum(Field),
    Min(Field),
    Max(Field),
}

impl Aggregate {
    /// As written: `count()`, `distinct(f)`, `sum(f)`.
    /// Whether two aggregates count the same thing (wherever written).
    pub fn same_as(&self, other: &Aggregate) -> bool {
        self.written() == other.written()
    }

    pub fn written(&self) -> String {
        match self {
            Aggregate::Count => "count()".to_string(),
            Aggregate::Distinct(f) if f.cased => format!("distinct(cased {})", f.path),
            Aggregate::Distinct(f) => format!("distinct({})", f.path),
            Aggregate::Sum(f) => format!("sum({})", f.path),
            Aggregate::Min(f) => format!("min({})", f.path),
            Aggregate::Max(f) => format!("max({})", f.path),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparison {
    Gt,
    Ge,
    Eq,
    Lt,
    Le,
}

impl Comparison {
    pub fn holds<T: Ord>(self, left: T, right: T) -> bool {
        match self {
            Comparison::Gt => left > right,
            Comparison::Ge => left >= right,
            Comparison::Eq => left == right,
            Comparison::Lt => left < right,
            Comparison::Le => left <= right,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::Eq => "==",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    /// The events in written order.
    pub inputs: Vec<TestInput>,
    /// Every one must hold.
    pub expects: Vec<Spanned<Expect>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TestInput {
    /// One `event { }`, its nested objects flattened to dotted keys.
    Event {
        event: serde_json::Map<String, serde_json::Value>,
        #[serde(skip)]
        span: Span,
    },
    /// `repeat N every D { }`: N copies whose `@timestamp` steps by `every`
    /// seconds (from the event's own `@timestamp`, or the generated one).
    Repeat {
        count: u64,
        every: u64,
        event: serde_json::Map<String, serde_json::Value>,
        #[serde(skip)]
        span: Span,
    },
    /// `events "path"`: JSON Lines, `path` resolved against the rule file's folder.
    File {
        path: PathBuf,
        #[serde(skip)]
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Expect {
    /// Every event matches (rules without `threshold`).
    Match,
    /// No event matches.
    NoMatch,
    /// Exactly N alerts.
    AlertCount(u64),
    /// At least one alert whose group has these values (each field a `by` field).
    Alert(Vec<(Field, serde_json::Value)>),
}
