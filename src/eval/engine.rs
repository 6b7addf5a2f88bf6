//! The engine: a pack compiled once, then fed JSON lines. Each line is
//! parsed once (keeping only the paths the pack reads), routed to the rules
//! of its source (language.md 1.2, 1.4), matched against each rule's
//! `where`, and counted into threshold windows, which are closed at the end
//! or, with a lateness allowed (`limits`), as soon as the stream's clock is
//! past their end plus that lateness.

use super::event::{
    self, FieldPath, Fields, Malformed, Object, Parsed, PathTrie, SlotCell, Value, recycle,
};
use super::fold::{eq_folded, fold};
use super::limits::{Clock, Lateness, Limits, Tick};
use super::ordered::{Ordered, OrderedHeld};
use super::predicate::Condition;
use super::reach::{self, Conditions, Reach};
use super::shared::{Memo, Shared};
use super::threshold::cohort::{Cohorts, Counted};
use super::threshold::{Aggregator, Alert, Held, TooManyCombinations};
use super::timestamp::{self, Nanos};
use crate::ir;
use std::sync::Arc;

/// Why a pack cannot be run (the checker should have refused it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}`: {message}")]
pub struct CompileError {
    pub rule: String,
    pub message: String,
}

/// How events find their source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// By the value of the first of `paths` that has one (`event.dataset`,
    /// then `data_stream.dataset`), compared ignoring case with the known
    /// sources, then with the names `routes` gives a source
    /// (`zeek.dns` → `dns`). An event of a dataset that `codes` names is
    /// routed first by its `event.code` (`windows.security` with code
    /// `4688` → `process`): `codes` holds (dataset, code, source).
    Field {
        paths: Vec<String>,
        sources: Vec<String>,
        routes: Vec<(String, String)>,
        codes: Vec<(String, String, String)>,
    },
    /// Every event is of this source (`--source`, and tests).
    Fixed(String),
}

impl Routing {
    pub const DEFAULT_FIELD: &'static str = "event.dataset";
    /// The fields read when `--source-field` does not name one: where
    /// Filebeat and Elastic Agent write a dataset's name.
    pub const DEFAULT_FIELDS: [&'static str; 2] = ["event.dataset", "data_stream.dataset"];

    /// Routing by one field to `sources`, without other names.
    pub fn by_field(path: &str, sources: Vec<String>) -> Routing {
        Routing::Field {
            paths: vec![path.to_string()],
            sources,
            routes: Vec::new(),
            codes: Vec::new(),
        }
    }

    /// Where `event.code` says an event of a dataset belongs.
    pub const CODE_FIELD: &'static str = "event.code";
}

/// Which rules see an event: all, those of one source (an index into
/// the engine's sources, as `Matcher::by_source`), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    All,
    Source(usize),
    Unrouted,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub name: String,
    pub id: String,
    pub title: String,
    /// The source, folded.
    pub source: String,
    /// The further sources of `from a, b`, folded.
    pub more_sources: Vec<String>,
    /// A threshold rule's aggregation as compiled, before any event: the
    /// engine counts in its cohort's (`Cohorts`).
    aggregator: Option<Aggregator>,
    /// A `sequence` or `first seen` rule's matcher.
    ordered: Option<Ordered>,
}

impl CompiledRule {
    /// Compiles a rule, adding the paths it reads to `trie` and its
    /// predicates to the pack's `shared` table.
    pub fn new(
        rule: &ir::Rule,
        trie: &mut PathTrie,
        shared: &mut Shared,
        limits: &Limits,
    ) -> Result<(CompiledRule, Condition), CompileError> {
        let error = |message| CompileError {
            rule: rule.name.clone(),
            message,
        };
        let condition = Condition::compile_shared(&rule.condition, trie, shared).map_err(error)?;
        let lateness = limits.lateness_of(rule.schedule.delay);
        let ordered = Ordered::new(rule, trie, limits.max_fanout, lateness).map_err(error)?;
        let compiled = CompiledRule {
            name: rule.name.clone(),
            id: rule.meta.id.clone(),
            title: rule.meta.title.clone(),
            source: fold(&rule.source).into_owned(),
            more_sources: rule
                .more_sources
                .iter()
                .map(|s| fold(s).into_owned())
                .collect(),
            aggregator: rule.threshold().map(|t| {
                let mut aggregator = Aggregator::new(t, &rule.alert, trie, limits.max_fanout);
                aggregator.lateness = limits.lateness_of(rule.schedule.delay);
                aggregator
            }),
            ordered,
        };
        Ok((compiled, condition))
    }

    /// Whether the rule reads event times (threshold, sequence, first seen).
    pub fn is_threshold(&self) -> bool {
        self.aggregator.is_some() || self.ordered.is_some()
    }

    /// Whether the rule is a `sequence` or `first seen` rule (whose alerts
    /// follow the windows' when several close at once).
    pub fn is_ordered(&self) -> bool {
        self.ordered.is_some()
    }
}

/// What the engine reports, in input order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<'l> {
    /// Rule `rule` (an index into `Engine::rules`) matched `line`.
    Match {
        rule: usize,
        line: &'l str,
    },
    Alert {
        rule: usize,
        alert: Alert,
    },
}

/// What went wrong with one line (all false / `None` for a clean line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineReport {
    pub malformed: Option<Malformed>,
    /// Its source is another word or not a string: no rule saw it.
    pub unrouted: bool,
    /// What the routing field held when unrouted: the text of a string,
    /// else the JSON kind in angle brackets (`<number>`).
    pub unrouted_as: Option<String>,
    /// A threshold rule saw it but its `@timestamp` is missing or unusable.
    pub bad_timestamp: bool,
    /// A threshold rule saw it after closing the window it falls in.
    pub late: bool,
    /// Its time is too far in the future to move the stream's clock.
    pub future: bool,
    /// A threshold rule (its index) did not count it: its arrays make too
    /// many groups.
    pub too_many: Option<(usize, TooManyCombinations)>,
    /// After it, the open windows hold more entries than allowed.
    pub over_group_limit: bool,
    /// The threshold windows' entries once it was counted (before windows
    /// closed), then after it, and the entries the sequence and first-seen
    /// rules hold after it: what `--stats` and `--max-groups` look at. All
    /// 0 when no rule saw it.
    pub counted: u64,
    pub windows: u64,
    pub ordered: u64,
}

#[derive(Debug, Clone)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    /// Parsing, routing and the rules' `where`: read-only, shared with
    /// the threads that prepare lines ahead.
    matcher: Arc<Matcher>,
    /// The stream's clock.
    clock: Clock,
    /// No window closes before the clock is past this (`None`: no window
    /// is open), so most events need not look at every rule's windows.
    due: Option<Nanos>,
    /// Entries (groups and distinct values) in open windows, the most
    /// seen, and the limit.
    entries: u64,
    peak: u64,
    max_groups: u64,
    seq: u64,
    scratch: Scratch,
    /// The threshold rules' windows, shared by rules that aggregate alike.
    cohorts: Cohorts,
    /// The `sequence` and `first seen` rules (indices): what they hold is
    /// summed after every event, without walking every rule.
    ordered_rules: Vec<usize>,
}

/// What does not change while events flow: the paths to read, the routing,
/// and every rule's `where` over the pack's shared predicates.
#[derive(Debug, Clone)]
pub struct Matcher {
    conditions: Conditions,
    /// Per rule, whether it counts events (threshold, sequence, first
    /// seen) and so reads them after matching (`prepare` then hands the
    /// event on). `CompiledRule::is_threshold`, copied: the rules stay
    /// with the engine, whose windows change with every event, while the
    /// matcher is shared read-only with the threads that match ahead.
    counts: Vec<bool>,
    /// `Routing::Field`: the names an event's source may have, folded (the
    /// routing's sources, then the other names of `routes`), each with its
    /// source as an index into `by_source`. `Routing::Fixed`: its one source.
    routed: Vec<(String, usize)>,
    /// Per name in `routed`, the code routes of that dataset
    /// (`Routing::Field`'s `codes`): an `event.code` and its source (an
    /// index into `by_source`). Empty for most names.
    codes: Vec<Vec<(String, usize)>>,
    /// `event.code`, when some name has code routes.
    code_field: Option<FieldPath>,
    /// The rules each source in `folded` reaches.
    by_source: Vec<Reach>,
    /// Every rule, for events without a source.
    everyone: Reach,
    trie: PathTrie,
    /// The pack's predicates.
    shared: Shared,
    timestamp: FieldPath,
    routing: Routing,
    routing_fields: Vec<FieldPath>,
    /// Whether a rule closes windows by the stream's clock (so every
    /// event's time is read).
    watermarked: bool,
}

/// What matching found for one line: enough for `Engine::process_prepared`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    pub malformed: Option<Malformed>,
    unrouted: bool,
    /// See `LineReport::unrouted_as`.
    unrouted_as: Option<String>,
    bad_timestamp: bool,
    time: Option<Nanos>,
    /// The rules (indices) whose `where` holds, in rule order.
    matched: Vec<u32>,
    /// The event, when one of them counts it (threshold, sequence, first
    /// seen): the threads that count need not parse the line again. Made
    /// also when the thread that matched is the one that counts: its own
    /// parse is gone by then, and the copy costs about a third of parsing
    /// the line again.
    event: Option<Arc<Parsed<'static>>>,
}

impl Prepared {
    /// The rules (indices) whose `where` holds, in rule order.
    pub fn matched(&self) -> &[u32] {
        &self.matched
    }

    /// What the line's report says before any rule counts it: malformed,
    /// unrouted, without a usable time.
    pub fn report(&self) -> LineReport {
        LineReport {
            malformed: self.malformed.clone(),
            unrouted: self.unrouted,
            unrouted_as: self.unrouted_as.clone(),
            bad_timestamp: self.bad_timestamp && !self.unrouted,
            ..LineReport::default()
        }
    }

    /// A copy of `self` whose matches are only the rules `keep` accepts
    /// (`into`'s allocations reused).
    pub fn keep_into(&self, keep: impl Fn(usize) -> bool, into: &mut Prepared) {
        into.malformed.clone_from(&self.malformed);
        into.unrouted = self.unrouted;
        into.unrouted_as.clone_from(&self.unrouted_as);
        into.bad_timestamp = self.bad_timestamp;
        into.time = self.time;
        into.matched.clear();
        (into.matched).extend(self.matched.iter().filter(|&&rule| keep(rule as usize)));
        into.event.clone_from(&self.event);
    }
}

/// Allocations reused from line to line by one thread.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    memo: Memo,
    /// See `event::recycle`.
    slots: Vec<SlotCell<'static, 'static>>,
    /// The allocation of the last line's slot values (`parse_event_in`).
    values: Vec<Option<Value<'static>>>,
    /// `Engine::process`'s matches.
    prepared: Prepared,
}

impl Scratch {
    /// Parses `line` (keeping `trie`'s paths) into these buffers and runs
    /// `run` on the event, its fields and the memo; the buffers are kept
    /// for the next line.
    fn with_fields<R>(
        &mut self,
        line: &str,
        trie: &PathTrie,
        run: impl FnOnce(&Parsed<'_>, &Fields<'_, '_>, &mut Memo) -> R,
    ) -> Result<R, Malformed> {
        let values = recycle(std::mem::take(&mut self.values));
        let event = event::parse_event_in(line, trie, values)?;
        let result = self.with_fields_of(&event, trie.slot_count(), |fields, memo| {
            run(&event, fields, memo)
        });
        if let Parsed::Slots(values) = event {
            self.values = recycle(values);
        }
        Ok(result)
    }

    /// Runs `run` on the fields of an event already parsed (`slots`: the
    /// trie's slot count), in these buffers.
    fn with_fields_of<R>(
        &mut self,
        event: &Parsed<'_>,
        slots: usize,
        run: impl FnOnce(&Fields<'_, '_>, &mut Memo) -> R,
    ) -> R {
        let buffer = recycle(std::mem::take(&mut self.slots));
        let fields = Fields::new(event, slots, buffer);
        let result = run(&fields, &mut self.memo);
        self.slots = recycle(fields.into_buffer());
        result
    }
}

impl Engine {
    /// Compiles `rules`; windows close at the end of input, or, with a
    /// `lateness` (seconds), once the newest time is that far past them.
    pub fn new(
        rules: &[ir::Rule],
        routing: Routing,
        lateness: Option<u64>,
    ) -> Result<Engine, CompileError> {
        let limits = Limits {
            lateness: lateness.map_or(Lateness::Unbounded, Lateness::Seconds),
            ..Limits::UNBOUNDED
        };
        Engine::with_limits(rules, routing, &limits)
    }

    /// Compiles `rules` to run within `limits`.
    pub fn with_limits(
        rules: &[ir::Rule],
        routing: Routing,
        limits: &Limits,
    ) -> Result<Engine, CompileError> {
        let mut trie = PathTrie::default();
        let mut shared = Shared::default();
        let (rules, conditions): (Vec<_>, Vec<_>) = rules
            .iter()
            .map(|rule| CompiledRule::new(rule, &mut trie, &mut shared, limits))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        shared.finish().map_err(|message| CompileError {
            rule: String::new(),
            message,
        })?;
        let watermarked = rules.iter().any(|r| {
            r.aggregator.as_ref().is_some_and(|a| a.lateness.is_some())
                || (r.ordered.is_some() && limits.lateness_of(0).is_some())
        });
        let timestamp = FieldPath::new("@timestamp", &mut trie);
        let routing_fields = match &routing {
            Routing::Field { paths, .. } => paths
                .iter()
                .map(|path| FieldPath::new(path, &mut trie))
                .collect(),
            Routing::Fixed(_) => Vec::new(),
        };
        let mut folded: Vec<String> = Vec::new();
        let mut intern = |name: &str| {
            let name = fold(name);
            match folded.iter().position(|known| *known == name) {
                Some(index) => index,
                None => {
                    folded.push(name.into_owned());
                    folded.len() - 1
                }
            }
        };
        let mut routed: Vec<(String, usize)> = Vec::new();
        let mut codes_of: Vec<Vec<(String, usize)>> = Vec::new();
        match &routing {
            Routing::Field {
                sources,
                routes,
                codes,
                ..
            } => {
                for source in sources {
                    routed.push((fold(source).into_owned(), intern(source)));
                }
                // A name routes to a source the routing knows (the caller
                // checked the names; an unknown one is left out).
                for (name, source) in routes {
                    let known = sources.iter().any(|s| eq_folded(source, &fold(s)));
                    let name = fold(name).into_owned();
                    if known && !routed.iter().any(|(n, _)| *n == name) {
                        routed.push((name, intern(source)));
                    }
                }
                codes_of.resize_with(routed.len(), Vec::new);
                for (dataset, code, source) in codes {
                    let known = sources.iter().any(|s| eq_folded(source, &fold(s)));
                    let dataset = fold(dataset);
                    let at = routed.iter().position(|(n, _)| *n == dataset);
                    if let (true, Some(routes)) = (known, at.and_then(|at| codes_of.get_mut(at))) {
                        routes.push((code.clone(), intern(source)));
                    }
                }
            }
            Routing::Fixed(source) => routed.push((fold(source).into_owned(), intern(source))),
        }
        let code_field = (codes_of.iter().any(|routes| !routes.is_empty()))
            .then(|| FieldPath::new(Routing::CODE_FIELD, &mut trie));
        // Each rule once in the list of each of its sources: an event is
        // routed to one source, so a rule sees it once.
        let rule_sources: Vec<Vec<usize>> = rules
            .iter()
            .map(|r| {
                let mut sources = vec![intern(&r.source)];
                for more in &r.more_sources {
                    let index = intern(more);
                    if !sources.contains(&index) {
                        sources.push(index);
                    }
                }
                sources
            })
            .collect();
        let conditions = Conditions::new(conditions, &mut shared);
        let guards = reach::guards(&conditions, rules.len(), &shared);
        let reach = |sees: &dyn Fn(usize) -> bool| {
            let list: Vec<usize> = (0..rules.len()).filter(|&i| sees(i)).collect();
            let threshold = list.iter().any(|&i| rules[i].is_threshold());
            Reach::new(&list, &guards, threshold)
        };
        let by_source = (0..folded.len())
            .map(|source| reach(&|i| rule_sources[i].contains(&source)))
            .collect();
        let everyone = reach(&|_| true);
        let matcher = Matcher {
            counts: rules.iter().map(CompiledRule::is_threshold).collect(),
            conditions,
            routed,
            codes: codes_of,
            code_field,
            by_source,
            everyone,
            trie,
            shared,
            timestamp,
            routing,
            routing_fields,
            watermarked,
        };
        let cohorts = cohorts_of(&rules, true, &|_| true);
        let ordered_rules = (0..rules.len())
            .filter(|&i| rules[i].ordered.is_some())
            .collect();
        Ok(Engine {
            rules,
            cohorts,
            ordered_rules,
            matcher: Arc::new(matcher),
            clock: Clock::new(limits),
            due: None,
            entries: 0,
            peak: 0,
            max_groups: limits.max_groups,
            seq: 0,
            scratch: Scratch::default(),
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Per rule that counts (threshold, sequence, first seen), a key
    /// equal for rules that should be counted on one thread: threshold
    /// rules that may share windows have their class's.
    pub fn counting_keys(&self) -> Vec<Option<usize>> {
        let classes: Vec<Option<usize>> = (0..self.rules.len())
            .map(|i| self.cohorts.class_of(i))
            .collect();
        // Past every class: a key of its own for each sequence and
        // first-seen rule.
        let own = classes.iter().flatten().max().map_or(0, |c| c + 1);
        (classes.into_iter().zip(&self.rules).enumerate())
            .map(|(i, (class, rule))| class.or(rule.ordered.is_some().then_some(own + i)))
            .collect()
    }

    /// The same engine counting only the threshold rules `keep` accepts
    /// (a thread's share): the others' windows are left out of its
    /// cohorts. Before any event.
    pub fn keep_counting(&mut self, keep: &dyn Fn(usize) -> bool) {
        self.cohorts = cohorts_of(&self.rules, true, keep);
    }

    /// The same engine with every threshold rule counting in windows of
    /// its own: what sharing must not change (for tests).
    #[cfg(test)]
    pub(crate) fn unshared(mut self) -> Engine {
        self.cohorts = cohorts_of(&self.rules, false, &|_| true);
        self
    }

    /// How many sets of rules count in windows of their own now.
    #[cfg(test)]
    pub(crate) fn cohorts(&self) -> usize {
        self.cohorts.len()
    }

    /// Parses a line as the engine would (for callers that inspect events).
    pub fn parse<'l>(&self, line: &'l str) -> Result<Object<'l>, Malformed> {
        event::parse(line, &self.matcher.trie)
    }

    /// Runs every rule on one line; `emit` gets its matches, then the alerts
    /// of the windows it closed.
    pub fn process<'l>(&mut self, line: &'l str, emit: &mut dyn FnMut(Output<'l>)) -> LineReport {
        let mut report = LineReport::default();
        let matcher = Arc::clone(&self.matcher);
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut prepared = std::mem::take(&mut scratch.prepared);
        let ran = scratch.with_fields(line, &matcher.trie, |_, fields, memo| {
            matcher.prepare_fields(fields, memo, &mut prepared);
            self.apply(&prepared, Some(fields), line, &mut report, emit);
        });
        if let Err(malformed) = ran {
            report.malformed = Some(malformed);
        }
        scratch.prepared = prepared;
        self.scratch = scratch;
        report
    }

    /// The matching half of the engine, shared with threads that run
    /// `Matcher::prepare` on lines ahead of `process_prepared`.
    pub fn matcher(&self) -> Arc<Matcher> {
        Arc::clone(&self.matcher)
    }

    /// `process` for a line whose matching `Matcher::prepare` already did
    /// (on any thread): the same outputs and report, byte for byte. The
    /// line is parsed again only when a threshold, sequence or first-seen
    /// rule matched it (`scratch`: this thread's buffers).
    pub fn process_prepared<'l>(
        &mut self,
        line: &'l str,
        prepared: &Prepared,
        scratch: &mut Scratch,
        emit: &mut dyn FnMut(Output<'l>),
    ) -> LineReport {
        let mut report = LineReport::default();
        if let Some(malformed) = &prepared.malformed {
            report.malformed = Some(malformed.clone());
            return report;
        }
        let reads_event = prepared.matched.iter().any(|&index| {
            self.rules
                .get(index as usize)
                .is_some_and(CompiledRule::is_threshold)
        });
        if !reads_event {
            self.apply(prepared, None, line, &mut report, emit);
            return report;
        }
        let matcher = Arc::clone(&self.matcher);
        let mut apply = |fields: &Fields<'_, '_>| {
            self.apply(prepared, Some(fields), line, &mut report, emit);
        };
        let ran = match &prepared.event {
            Some(event) => {
                scratch.with_fields_of(event, matcher.trie.slot_count(), |fields, _| apply(fields));
                Ok(())
            }
            None => scratch.with_fields(line, &matcher.trie, |_, fields, _| apply(fields)),
        };
        if let Err(malformed) = ran {
            report.malformed = Some(malformed);
        }
        report
    }

    /// The rules' effects of one prepared event: matches, counts into
    /// windows, sequences; then windows closed by its time. `event` is
    /// needed when a threshold, sequence or first-seen rule matched.
    fn apply<'l>(
        &mut self,
        prepared: &Prepared,
        event: Option<&Fields<'_, '_>>,
        line: &'l str,
        report: &mut LineReport,
        emit: &mut dyn FnMut(Output<'l>),
    ) {
        self.seq += 1;
        if prepared.unrouted {
            report.unrouted = true;
            report.unrouted_as = prepared.unrouted_as.clone();
            return;
        }
        let time = prepared.time;
        report.bad_timestamp = prepared.bad_timestamp;
        let newest = self.clock.newest;
        if event.is_some() && time.is_some() {
            self.cohorts.tally(self.seq, &prepared.matched);
        }
        for &index in &prepared.matched {
            let index = index as usize;
            // A threshold rule counts in its cohort's windows (`Cohorts`),
            // without reading the rule.
            if self.cohorts.counts(index) {
                let (Some(event), Some(time)) = (event, time) else {
                    continue;
                };
                match self
                    .cohorts
                    .count(index, event, time, newest, &mut self.due)
                {
                    None => {}
                    Some(Counted::Late) => report.late = true,
                    Some(Counted::Added(Ok(added))) => self.entries += added,
                    Some(Counted::Added(Err(too_many))) => {
                        report.too_many.get_or_insert((index, too_many));
                    }
                }
                continue;
            }
            let Some(rule) = self.rules.get_mut(index) else {
                continue;
            };
            if rule.is_threshold() && event.is_none() {
                continue;
            }
            let Some(event) = event.filter(|_| rule.is_threshold()) else {
                emit(Output::Match { rule: index, line });
                continue;
            };
            if let Some(ordered) = &mut rule.ordered {
                let Some(time) = time else { continue };
                if ordered.is_late(time, newest) {
                    report.late = true;
                    continue;
                }
                if let Err(too_many) = ordered.add(event, time, self.seq) {
                    report.too_many.get_or_insert((index, too_many));
                }
                if let Some(due) = ordered.due() {
                    self.due = Some(self.due.map_or(due, |d| d.min(due)));
                }
            }
        }
        self.peak = self.peak.max(self.entries);
        report.counted = self.entries;
        if let Some(time) = time {
            match self.clock.tick(time) {
                Tick::Advanced if self.due.is_some_and(|due| due < time) => {
                    self.close(false, emit);
                }
                Tick::Future => report.future = true,
                Tick::Advanced | Tick::Behind => {}
            }
        }
        report.windows = self.entries;
        report.ordered = self.ordered_entries();
        report.over_group_limit = report.windows + report.ordered > self.max_groups;
    }

    /// What the `sequence` and `first seen` rules hold (counted with the
    /// threshold windows' entries against `max_groups`).
    pub fn ordered_entries(&self) -> u64 {
        self.ordered_rules
            .iter()
            .filter_map(|&i| self.rules.get(i)?.ordered.as_ref())
            .map(Ordered::entries)
            .sum()
    }

    /// What the `sequence` and `first seen` rules hold, summed; `None`
    /// when the engine has no such rule.
    pub fn ordered_held(&self) -> Option<OrderedHeld> {
        let mut total: Option<OrderedHeld> = None;
        for ordered in self.rules.iter().filter_map(|r| r.ordered.as_ref()) {
            *total.get_or_insert_with(OrderedHeld::default) += ordered.held();
        }
        total
    }

    /// Closes every window and emits the remaining alerts.
    pub fn finish<'l>(&mut self, emit: &mut dyn FnMut(Output<'l>)) {
        self.close(true, emit);
    }

    /// Closes every window (`all`), or those whose end is further behind
    /// the clock than their rule's lateness, and emits their alerts by
    /// window end, then rule order.
    fn close<'l>(&mut self, all: bool, emit: &mut dyn FnMut(Output<'l>)) {
        let newest = self.clock.newest;
        let (mut alerts, freed) =
            self.cohorts
                .close(&|aggregator| match (all, aggregator.lateness, newest) {
                    (true, _, _) => Some(None),
                    (false, Some(lateness), Some(newest)) => Some(Some(newest - lateness)),
                    (false, _, _) => None,
                });
        self.entries = self.entries.saturating_sub(freed);
        alerts.sort_by_key(|(index, alert)| (alert.end, *index));
        // Sequences and first sightings after the windows, by the time of
        // their last event, then rule order.
        let mut ordered = Vec::new();
        for (index, rule) in self.rules.iter_mut().enumerate() {
            if let Some(matcher) = &mut rule.ordered {
                let released = matcher.release(newest, all);
                ordered.extend(released.into_iter().map(|a| (index, a)));
            }
        }
        ordered.sort_by_key(|(index, alert)| (alert.last_time, *index));
        alerts.extend(ordered);
        let ordered_due = self.rules.iter().filter_map(|r| r.ordered.as_ref()?.due());
        self.due = ordered_due.chain(self.cohorts.due()).min();
        for (rule, alert) in alerts {
            emit(Output::Alert { rule, alert });
        }
    }

    /// What the open windows hold now, and the most entries they held.
    pub fn held(&self) -> (Held, u64) {
        (self.cohorts.held(), self.peak)
    }

    /// The stream's clock: the newest plausible event time.
    pub fn newest(&self) -> Option<Nanos> {
        self.clock.newest
    }
}

impl Matcher {
    /// Parses and matches one line (`scratch`: this thread's buffers).
    pub fn prepare(&self, line: &str, scratch: &mut Scratch, out: &mut Prepared) {
        let ran = scratch.with_fields(line, &self.trie, |event, fields, memo| {
            self.prepare_fields(fields, memo, out);
            let counted =
                (out.matched.iter()).any(|&rule| self.counts.get(rule as usize) == Some(&true));
            out.event = counted.then(|| Arc::new(event.to_static()));
        });
        if let Err(malformed) = ran {
            *out = Prepared {
                malformed: Some(malformed),
                ..Prepared::default()
            }
        }
    }

    /// Routes a parsed event and finds the rules whose `where` holds.
    fn prepare_fields(&self, event: &Fields<'_, '_>, memo: &mut Memo, out: &mut Prepared) {
        out.malformed = None;
        out.matched.clear();
        memo.next_event(
            &self.shared,
            self.conditions.count(),
            self.conditions.families(),
        );
        let reach = match self.route(event) {
            Route::Unrouted => {
                out.unrouted = true;
                out.unrouted_as = Some(self.routing_value(event));
                out.bad_timestamp = false;
                out.time = None;
                return;
            }
            Route::All => &self.everyone,
            Route::Source(source) => self.by_source.get(source).unwrap_or(Reach::NONE),
        };
        out.unrouted = false;
        out.unrouted_as = None;
        out.time = if reach.threshold || self.watermarked {
            self.time(event)
        } else {
            None
        };
        out.bad_timestamp = reach.threshold && out.time.is_none();
        reach.matched(
            event,
            &self.conditions,
            &self.shared,
            memo,
            &mut out.matched,
        );
    }

    fn time(&self, event: &Fields<'_, '_>) -> Option<Nanos> {
        match only_value(&self.timestamp, event) {
            Some(Some(value)) => timestamp::parse_value(value),
            _ => None,
        }
    }

    fn route(&self, event: &Fields<'_, '_>) -> Route {
        if let Routing::Fixed(_) = self.routing {
            return self
                .routed
                .first()
                .map_or(Route::All, |&(_, s)| Route::Source(s));
        }
        match self.routing_decider(event) {
            None => Route::All,
            Some(Some(Value::Str(s))) => {
                // ASCII text can only equal an ASCII name of its length
                // (`eq_folded`, checked once for the text, not per name).
                let ascii = s.is_ascii();
                let known = self.routed.iter().enumerate().find(|(_, (folded, _))| {
                    if ascii {
                        folded.len() == s.len()
                            && folded.is_ascii()
                            && s.as_bytes().eq_ignore_ascii_case(folded.as_bytes())
                    } else {
                        eq_folded(s, folded)
                    }
                });
                match known {
                    Some((at, &(_, source))) => {
                        Route::Source(self.coded_source(at, event).unwrap_or(source))
                    }
                    None => Route::Unrouted,
                }
            }
            Some(_) => Route::Unrouted,
        }
    }

    /// The source that the event's `event.code` gives it among the code
    /// routes of the name `routed[at]`, if one does: the code as text (as
    /// ECS writes it) or as an integer.
    fn coded_source(&self, at: usize, event: &Fields<'_, '_>) -> Option<usize> {
        let routes = self.codes.get(at).filter(|routes| !routes.is_empty())?;
        let value = only_value(self.code_field.as_ref()?, event)??;
        routes
            .iter()
            .find(|(code, _)| match value {
                Value::Str(text) => text == code,
                Value::Int(n) => code.parse::<i64>().ok() == Some(*n),
                _ => false,
            })
            .map(|&(_, source)| source)
    }

    /// The value that decides an event's source: that of the first routing
    /// field holding one (`None`: none does, so every rule sees it;
    /// `Some(None)`: a field with several values).
    fn routing_decider<'e, 'a>(&self, event: &Fields<'e, 'a>) -> Option<Option<&'e Value<'a>>> {
        for field in &self.routing_fields {
            match only_value(field, event) {
                None => return Some(None),
                Some(None | Some(Value::Null)) => {}
                Some(Some(Value::Str(s))) if s.is_empty() => {}
                Some(Some(Value::Array(items))) if items.is_empty() => {}
                Some(Some(value)) => return Some(Some(value)),
            }
        }
        None
    }

    /// How an unrouted event's source reads, for the summary: a string's
    /// text, else its JSON kind.
    fn routing_value(&self, event: &Fields<'_, '_>) -> String {
        match self.routing_decider(event) {
            Some(Some(Value::Str(s))) => s.to_string(),
            Some(Some(Value::Int(_) | Value::Float(_))) => "<number>".into(),
            Some(Some(Value::Bool(_))) => "<boolean>".into(),
            Some(Some(Value::Array(_))) => "<array>".into(),
            Some(Some(Value::Object(_))) => "<object>".into(),
            Some(None) => "<several values>".into(),
            Some(Some(Value::Null)) | None => "<none>".into(),
        }
    }
}

/// The cohorts of the threshold rules `keep` accepts (the others are
/// left out): rules of the same sources and aggregation share windows
/// when `sharing`.
fn cohorts_of(rules: &[CompiledRule], sharing: bool, keep: &dyn Fn(usize) -> bool) -> Cohorts {
    let keyed: Vec<_> = (rules.iter().enumerate())
        .map(|(i, r)| {
            (
                r.aggregator.as_ref().filter(|_| keep(i)),
                (&r.source, &r.more_sources),
            )
        })
        .collect();
    Cohorts::new(&keyed, sharing)
}

/// The field's value when it has at most one: `Some(None)` for none,
/// `Some(Some(v))` for one, `None` for several.
fn only_value<'e, 'a>(field: &FieldPath, event: &Fields<'e, 'a>) -> Option<Option<&'e Value<'a>>> {
    field.only(event)
}

#[cfg(test)]
mod tests {
    use super::{Engine, LineReport, Output, Prepared, Routing, Scratch};
    use crate::eval::tests::kit::{count, eq, rule};
    use crate::ir::Comparison::Ge;

    /// A threshold rule and a plain one, both on `kind` `q`: counted,
    /// without a time, malformed, matched by neither.
    const LINES: [&str; 5] = [
        r#"{"@timestamp":0,"kind":"q","user":{"name":"u"}}"#,
        r#"{"@timestamp":1,"kind":"q","user":{"name":"u"}}"#,
        r#"{"kind":"q","user":{"name":"u"}}"#,
        r#"{"@timestamp":2,"kind":"q""#,
        r#"{"@timestamp":3,"kind":"other","user":{"name":"u"}}"#,
    ];

    /// Each line's outputs and report, then the alerts at the end.
    type Seen = (Vec<(Vec<String>, LineReport)>, Vec<String>);

    /// `LINES` through `process` (`handed`: `None`), or through
    /// `Matcher::prepare` then `process_prepared`, the event handed on
    /// (`Some(true)`) or dropped so that the line is parsed again.
    fn seen(handed: Option<bool>) -> Seen {
        let burst = Some(count(&["user.name"], 60, Ge, 2));
        let rules = [
            rule("burst", "dns", eq("kind", "q"), burst),
            rule("plain", "dns", eq("kind", "q"), None),
        ];
        let Ok(mut engine) = Engine::new(&rules, Routing::Fixed("dns".into()), None) else {
            unreachable!("the rules compile");
        };
        let matcher = engine.matcher();
        let (mut matching, mut parsing) = (Scratch::default(), Scratch::default());
        let mut prepared = Prepared::default();
        let mut lines = Vec::new();
        for line in LINES {
            let mut outputs = Vec::new();
            let mut emit = |out: Output<'_>| outputs.push(format!("{out:?}"));
            let report = match handed {
                None => engine.process(line, &mut emit),
                Some(keep) => {
                    matcher.prepare(line, &mut matching, &mut prepared);
                    let counted = prepared.matched.contains(&0);
                    assert_eq!(prepared.event.is_some(), counted, "{line}");
                    if !keep {
                        prepared.event = None;
                    }
                    engine.process_prepared(line, &prepared, &mut parsing, &mut emit)
                }
            };
            lines.push((outputs, report));
        }
        let mut end = Vec::new();
        engine.finish(&mut |out| end.push(format!("{out:?}")));
        (lines, end)
    }

    #[test]
    fn a_prepared_line_counts_alike_with_its_event_handed_on_or_parsed_again() {
        let one = seen(None);
        let (_, end) = &one;
        assert!(
            end.iter().any(|a| a.starts_with("Alert { rule: 0")),
            "{end:?}"
        );
        assert_eq!(seen(Some(true)), one);
        assert_eq!(seen(Some(false)), one);
    }
}
