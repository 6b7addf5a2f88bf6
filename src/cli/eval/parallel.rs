//! `eval --threads N`: N long-lived workers, each with a shard of the
//! engine. The main thread reads the input in batches and hands each batch
//! to every worker; a worker parses and matches its share of the batch's
//! lines (`Matcher` is read-only), waits for the others, then runs every
//! line of the batch, in input order, through its shard: the threshold,
//! sequence and first-seen rules it owns (rules are dealt to the shards in
//! turn). A worker also writes the match lines of its share (the rules no
//! shard counts) and the alert lines of its rules, so the main thread,
//! which reads, only copies them out: it prints a batch once every shard
//! is done with it, line by line: the matches, then the alerts the shards
//! closed on that line, merged in the order one engine gives them (windows by end then rule,
//! then sequences and first sightings by time then rule), while the
//! workers go on with the next batches. A batch, with what the workers
//! wrote into it, is used again once printed: its allocations stay with
//! the threads that fill them.
//!
//! Each shard sees every line's time, so its clock, its event numbers and
//! the lines it finds late are those of one engine; a window closes on the
//! line where one engine would close it (closing never touches a window
//! that is not yet due). So the output is the same, byte for byte, as one
//! thread's.

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::thread;

use super::input::{Input, Next, next_line};
use super::print::Printer;
use super::{Line, Run, Sorted, Stop};
use crate::eval::ordered::OrderedHeld;
use crate::eval::threshold::Held;
use crate::eval::{Alert, Engine, LineReport, Matcher, Output, Prepared, Scratch};

/// Lines a batch holds at most, and bytes (lines are not cut).
const BATCH_LINES: usize = 1024;
const BATCH_BYTES: usize = 4 << 20;
/// Batches handed to the workers and not yet printed, at most.
const IN_FLIGHT: usize = 4;

/// One batch as the workers share it: the lines' bytes end to end, where
/// each line is, and what each worker made of them.
struct Batch {
    /// The number of its first line.
    first: u64,
    bytes: Vec<u8>,
    lines: Vec<Entry>,
    /// Worker `w`'s share of the lines, matched (written in its first
    /// step, read by every worker in the second).
    matched: Vec<RwLock<Share>>,
    /// What worker `w`'s shard did with every line (its second step).
    counted: Vec<Mutex<ShardOut>>,
}

enum Entry {
    TooLong(u64),
    Read(Range<usize>),
}

/// A worker's share of a batch: each line sorted out and matched, and
/// the match lines of the rules no shard counts, rendered.
#[derive(Default)]
struct Share {
    sorted: Vec<Sorted>,
    /// Kept from batch to batch (their allocations reused); only the
    /// first `sorted.len()` are this batch's, and only those of events
    /// were matched.
    prepared: Vec<Prepared>,
    rendered: Vec<u8>,
    /// Each line's match lines in `rendered`, and how many there are.
    matches: Vec<(Range<usize>, u64)>,
}

impl Batch {
    fn new(workers: usize) -> Batch {
        Batch {
            first: 0,
            bytes: Vec::new(),
            lines: Vec::new(),
            matched: (0..workers).map(|_| RwLock::default()).collect(),
            counted: (0..workers).map(|_| Mutex::default()).collect(),
        }
    }

    /// Empties the batch, keeping its allocations (those of the workers'
    /// shares too: each worker clears its own).
    fn clear(&mut self) {
        self.bytes.clear();
        self.lines.clear();
    }

    fn line(&self, index: usize) -> Option<Line<'_>> {
        Some(match self.lines.get(index)? {
            Entry::TooLong(length) => Line::TooLong(*length),
            Entry::Read(range) => Line::Read(self.bytes.get(range.clone())?),
        })
    }

    /// The lines each worker matches.
    fn share(&self) -> usize {
        self.lines.len().div_ceil(self.matched.len().max(1)).max(1)
    }

    /// Every worker's share, to read once all have written theirs.
    fn shares(&self) -> Vec<RwLockReadGuard<'_, Share>> {
        (self.matched.iter())
            .map(|share| share.read().unwrap_or_else(|poison| poison.into_inner()))
            .collect()
    }
}

/// The `index`th line of a batch among the shares: the share and the
/// line's place in it.
fn place<'s>(
    shares: &'s [RwLockReadGuard<'_, Share>],
    share: usize,
    index: usize,
) -> Option<(&'s Share, usize)> {
    let share_of = shares.get(index / share)?;
    Some((share_of, index % share))
}

/// What a shard did with each line of a batch: its report, and the alerts
/// it closed on that line (`alerts[range]`), each with its place among
/// alerts closed at once (`alert_order`) and its line in `rendered`.
#[derive(Default)]
struct ShardOut {
    lines: Vec<(LineReport, Range<usize>)>,
    alerts: Vec<((bool, i128, usize), Range<usize>)>,
    rendered: Vec<u8>,
}

impl ShardOut {
    fn clear(&mut self) {
        self.lines.clear();
        self.alerts.clear();
        self.rendered.clear();
    }
}

/// A batch handed out and not yet printed.
struct InFlight {
    number: u64,
    batch: Arc<Batch>,
    /// The input ended (`Some(None)`) or failed (`Some(Some)`) after it.
    end: Option<Option<Stop>>,
    /// The workers done with it.
    done: Vec<bool>,
}

/// The engines of a threaded run: one shard per worker, each holding the
/// windows of its rules, and the most entries they held together.
pub(super) struct Shards {
    engines: Vec<Engine>,
    peak: u64,
}

/// What holds a run's windows: one engine, or the shards of a threaded run.
pub(super) trait Windows {
    /// What the open windows hold, and the most entries they held.
    fn held(&self) -> (Held, u64);
    fn ordered_held(&self) -> Option<OrderedHeld>;
    /// Closes every window; the alerts in one engine's order.
    fn finish(&mut self, emit: &mut dyn FnMut(Output<'static>));
}

impl Windows for Engine {
    fn held(&self) -> (Held, u64) {
        Engine::held(self)
    }

    fn ordered_held(&self) -> Option<OrderedHeld> {
        Engine::ordered_held(self)
    }

    fn finish(&mut self, emit: &mut dyn FnMut(Output<'static>)) {
        Engine::finish(self, emit);
    }
}

impl Windows for Shards {
    fn held(&self) -> (Held, u64) {
        let mut total = Held::default();
        for (held, _) in self.engines.iter().map(Engine::held) {
            total.windows += held.windows;
            total.groups += held.groups;
            total.entries += held.entries;
            total.bytes += held.bytes;
        }
        (total, self.peak)
    }

    fn ordered_held(&self) -> Option<OrderedHeld> {
        let mut total: Option<OrderedHeld> = None;
        for held in self.engines.iter().filter_map(Engine::ordered_held) {
            *total.get_or_insert_with(OrderedHeld::default) += held;
        }
        total
    }

    fn finish(&mut self, emit: &mut dyn FnMut(Output<'static>)) {
        let mut alerts = Vec::new();
        for engine in &mut self.engines {
            engine.finish(&mut |output| {
                if let Output::Alert { rule, alert } = output {
                    alerts.push((rule, alert));
                }
            });
        }
        let Some(kinds) = self.engines.first().map(Kinds::of) else {
            return;
        };
        alerts.sort_by_key(|(rule, alert)| alert_order(&kinds.ordered, *rule, alert));
        for (rule, alert) in alerts {
            emit(Output::Alert { rule, alert });
        }
    }
}

/// Where an alert goes among those closed at once (`Engine::close`): the
/// windows' by end, then rule; then the sequences' and first sightings' by
/// the time of their last event, then rule. One rule's alerts keep their
/// order (the sort is stable).
fn alert_order(ordered: &[bool], rule: usize, alert: &Alert) -> (bool, i128, usize) {
    match ordered.get(rule) {
        Some(true) => (true, alert.last_time, rule),
        _ => (false, alert.end, rule),
    }
}

/// What each rule is: counted by a shard (threshold, sequence, first
/// seen), and among those, a sequence or first-seen rule.
struct Kinds {
    counted: Vec<bool>,
    ordered: Vec<bool>,
}

impl Kinds {
    fn of(engine: &Engine) -> Kinds {
        Kinds {
            counted: engine.rules().iter().map(|r| r.is_threshold()).collect(),
            ordered: engine.rules().iter().map(|r| r.is_ordered()).collect(),
        }
    }
}

/// Runs the input through `run` with `threads` workers; the shards hold
/// the windows left open.
pub(super) fn lines(
    run: &mut Run<'_>,
    input: &mut dyn Input,
    threads: usize,
) -> io::Result<(Option<Stop>, Shards)> {
    let threads = threads.max(1);
    // Threshold, sequence and first-seen rules dealt to the shards in
    // turn, a class of threshold rules that share windows as one (their
    // windows are counted once); the other rules only match, and the main
    // thread prints them.
    let keys = run.engine.counting_keys();
    let mut owner = vec![usize::MAX; keys.len()];
    let mut dealt_keys: Vec<usize> = Vec::new();
    for (rule, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        let turn = match dealt_keys.iter().position(|k| k == key) {
            Some(turn) => turn,
            None => {
                dealt_keys.push(*key);
                dealt_keys.len() - 1
            }
        };
        owner[rule] = turn % threads;
    }
    let dealt = dealt_keys.len();
    let owner = &owner;
    let matcher = run.engine.matcher();
    let matcher: &Matcher = &matcher;
    // Shards wait for every line of a batch to be matched; without rules
    // that count, the workers only match, each on its own.
    let barrier = Barrier::new(threads);
    let barrier = (dealt > 0).then_some(&barrier);
    let kinds = Kinds::of(run.engine);
    let (done, results) = channel();
    thread::scope(|scope| {
        let mut jobs = Vec::new();
        let mut workers = Vec::new();
        for shard in 0..threads {
            let (job, inbox) = channel();
            jobs.push(job);
            let worker = Worker {
                shard,
                owns_rules: owner.contains(&shard),
                owner,
                matcher,
                printer: run.printer,
                kinds: &kinds,
                engine: {
                    let mut engine = run.engine.clone();
                    engine.keep_counting(&|rule| owner.get(rule) == Some(&shard));
                    engine
                },
                barrier,
                done: done.clone(),
            };
            // A worker that panicked would leave the others waiting at
            // the barrier for ever: end the run as a panic ends it (the
            // message is already printed).
            workers.push(scope.spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| worker.run(&inbox));
                std::panic::catch_unwind(run).unwrap_or_else(|_| std::process::exit(101))
            }));
        }
        drop(done);
        let stop = drive(run, input, &jobs, &results, threads);
        drop(jobs);
        let mut engines = Vec::new();
        for worker in workers {
            engines.push(
                worker
                    .join()
                    .map_err(|_| io::Error::other("a worker thread failed"))?,
            );
        }
        let (stop, peak) = stop?;
        Ok((stop, Shards { engines, peak }))
    })
}

/// A worker: matches its share of each batch and writes its match lines,
/// then runs every line through its shard of the engine.
struct Worker<'w> {
    shard: usize,
    owns_rules: bool,
    owner: &'w [usize],
    matcher: &'w Matcher,
    printer: &'w Printer,
    /// The rules some shard counts (their matches are not printed), and
    /// the sequence and first-seen rules among them.
    kinds: &'w Kinds,
    engine: Engine,
    barrier: Option<&'w Barrier>,
    done: Sender<(u64, usize)>,
}

impl Worker<'_> {
    fn run(mut self, inbox: &Receiver<(u64, Arc<Batch>)>) -> Engine {
        let mut matching = Scratch::default();
        let mut parsing = Scratch::default();
        let mut mine = Prepared::default();
        while let Ok((number, batch)) = inbox.recv() {
            if let Some(share) = batch.matched.get(self.shard) {
                let mut share = share.write().unwrap_or_else(|poison| poison.into_inner());
                self.match_share(&batch, &mut share, &mut matching);
            }
            if let Some(barrier) = self.barrier {
                barrier.wait();
            }
            if self.owns_rules
                && let Some(out) = batch.counted.get(self.shard)
            {
                let mut out = out.lock().unwrap_or_else(|poison| poison.into_inner());
                self.apply(&batch, &mut mine, &mut parsing, &mut out);
            }
            // Given back before saying so, for the main thread to use again.
            drop(batch);
            // The main thread gone, there is nobody to tell.
            let _ = self.done.send((number, self.shard));
        }
        self.engine
    }

    /// Sorts out, matches and renders this worker's share of the batch.
    fn match_share(&self, batch: &Batch, share: &mut Share, scratch: &mut Scratch) {
        let size = batch.share();
        let start = (self.shard * size).min(batch.lines.len());
        let end = (start + size).min(batch.lines.len());
        share.sorted.clear();
        share.rendered.clear();
        share.matches.clear();
        for (at, index) in (start..end).enumerate() {
            if share.prepared.len() <= at {
                share.prepared.push(Prepared::default());
            }
            let Some(line) = batch.line(index) else {
                continue;
            };
            let (sorted, text) = Sorted::of(line);
            share.sorted.push(sorted);
            let from = share.rendered.len();
            let mut matches = 0;
            if let (Some(text), Some(prepared)) = (text, share.prepared.get_mut(at)) {
                self.matcher.prepare(text, scratch, prepared);
                let report = prepared.report();
                if report.malformed.is_none() && !report.unrouted {
                    let number = batch.first + index as u64;
                    for &rule in prepared.matched() {
                        let rule = rule as usize;
                        if self.kinds.counted.get(rule) == Some(&false) {
                            matches += 1;
                            // Writing into a vector cannot fail.
                            let _ =
                                (self.printer).write_match(rule, number, text, &mut share.rendered);
                        }
                    }
                }
            }
            share.matches.push((from..share.rendered.len(), matches));
        }
    }

    /// Runs the batch's lines, in order, through this shard's rules.
    fn apply(
        &mut self,
        batch: &Batch,
        mine: &mut Prepared,
        parsing: &mut Scratch,
        out: &mut ShardOut,
    ) {
        out.clear();
        let (shard, owner) = (self.shard, self.owner);
        let shares = batch.shares();
        let size = batch.share();
        for index in 0..batch.lines.len() {
            let start = out.alerts.len();
            let text = match batch.line(index) {
                Some(line) => Sorted::of(line).1,
                None => None,
            };
            let prepared =
                place(&shares, size, index).and_then(|(share, at)| share.prepared.get(at));
            let (Some(text), Some(prepared)) = (text, prepared) else {
                out.lines.push((LineReport::default(), start..start));
                continue;
            };
            prepared.keep_into(|rule| owner.get(rule) == Some(&shard), mine);
            let (alerts, rendered) = (&mut out.alerts, &mut out.rendered);
            let (printer, ordered) = (self.printer, &self.kinds.ordered);
            let report = self
                .engine
                .process_prepared(text, mine, parsing, &mut |output| {
                    if let Output::Alert { rule, alert } = output {
                        let from = rendered.len();
                        printer.write_alert(rule, &alert, rendered);
                        let order = alert_order(ordered, rule, &alert);
                        alerts.push((order, from..rendered.len()));
                    }
                });
            out.lines.push((report, start..out.alerts.len()));
        }
    }
}

/// Reads batches, hands them to the workers and prints them in order;
/// the most entries the windows held together.
fn drive(
    run: &mut Run<'_>,
    input: &mut dyn Input,
    jobs: &[Sender<(u64, Arc<Batch>)>],
    results: &Receiver<(u64, usize)>,
    workers: usize,
) -> io::Result<(Option<Stop>, u64)> {
    let mut flights: VecDeque<InFlight> = VecDeque::new();
    // Batches printed and given back by the workers, to fill again.
    let mut spare: Vec<Batch> = Vec::new();
    let mut line = Vec::new();
    let mut peak = 0;
    let mut numbered = 0u64;
    // Lines read so far (the printed ones are counted by `run`).
    let mut read_lines = 0u64;
    loop {
        let mut batch = spare.pop().unwrap_or_else(|| Batch::new(workers));
        batch.first = read_lines + 1;
        let (end, stop) = read(run, input, &mut batch, &mut line, !flights.is_empty())?;
        if let Some(stop) = stop {
            return Ok((Some(stop), peak));
        }
        read_lines += batch.lines.len() as u64;
        if batch.lines.is_empty() && end.is_none() {
            // The input waits: print what is in flight first.
            while let Some(flight) = flights.pop_front() {
                if let Some(stop) =
                    print(run, flight, results, &mut flights, &mut peak, &mut spare)?
                {
                    return Ok((Some(stop), peak));
                }
            }
            spare.push(batch);
            continue;
        }
        let ended = end.is_some();
        let batch = Arc::new(batch);
        numbered += 1;
        for job in jobs {
            if job.send((numbered, Arc::clone(&batch))).is_err() {
                return Err(io::Error::other("a worker thread stopped"));
            }
        }
        flights.push_back(InFlight {
            number: numbered,
            batch,
            end,
            done: vec![false; workers],
        });
        while flights.len() > IN_FLIGHT || (ended && !flights.is_empty()) {
            let Some(flight) = flights.pop_front() else {
                break;
            };
            let end = flight.end.is_some();
            if let Some(stop) = print(run, flight, results, &mut flights, &mut peak, &mut spare)? {
                return Ok((Some(stop), peak));
            }
            if end {
                break;
            }
        }
        if ended {
            return Ok((None, peak));
        }
    }
}

/// Waits for every shard to be done with `flight`, then prints its lines.
fn print(
    run: &mut Run<'_>,
    mut flight: InFlight,
    results: &Receiver<(u64, usize)>,
    later: &mut VecDeque<InFlight>,
    peak: &mut u64,
    spare: &mut Vec<Batch>,
) -> io::Result<Option<Stop>> {
    while flight.done.contains(&false) {
        let Ok((number, shard)) = results.recv() else {
            return Err(io::Error::other("a worker thread stopped"));
        };
        let target = if number == flight.number {
            Some(&mut flight)
        } else {
            later.iter_mut().find(|f| f.number == number)
        };
        if let Some(done) = target.and_then(|f| f.done.get_mut(shard)) {
            *done = true;
        }
    }
    let stop = print_lines(run, &flight.batch, peak)?;
    if let Ok(mut batch) = Arc::try_unwrap(flight.batch) {
        batch.clear();
        spare.push(batch);
    }
    Ok(match stop {
        Some(stop) => Some(stop),
        None => flight.end.unwrap_or(None),
    })
}

/// Prints a batch every worker is done with, line by line.
fn print_lines(run: &mut Run<'_>, batch: &Batch, peak: &mut u64) -> io::Result<Option<Stop>> {
    let shares = batch.shares();
    let outs: Vec<MutexGuard<'_, ShardOut>> = (batch.counted.iter())
        .map(|out| out.lock().unwrap_or_else(|poison| poison.into_inner()))
        .collect();
    let size = batch.share();
    let max_groups = run.options.limits.max_groups;
    let mut alerts = Vec::new();
    for index in 0..batch.lines.len() {
        let Some((share, at)) = place(&shares, size, index) else {
            continue;
        };
        let (Some(&sorted), Some(prepared), Some((rendered, matches))) = (
            share.sorted.get(at),
            share.prepared.get(at),
            share.matches.get(at),
        ) else {
            continue;
        };
        let Some(number) = run.count(sorted)? else {
            continue;
        };
        // The rules' matches, then the alerts, as the workers wrote them.
        run.summary.matches += matches;
        let mut written =
            (run.out).write_all(share.rendered.get(rendered.clone()).unwrap_or_default());
        let merged = Merge {
            prepared,
            shards: &outs,
            index,
            max_groups,
        };
        alerts.clear();
        let report = merged.line(peak, &mut alerts);
        for line in &alerts {
            if written.is_ok() {
                run.summary.alerts += 1;
                written = run.out.write_all(line);
            }
        }
        if let Some(stop) = run.settle(number, &report, written)? {
            return Ok(Some(stop));
        }
    }
    Ok(None)
}

/// One line of a printed batch, with what the shards did with it.
struct Merge<'m> {
    prepared: &'m Prepared,
    shards: &'m [MutexGuard<'m, ShardOut>],
    index: usize,
    max_groups: u64,
}

impl<'m> Merge<'m> {
    /// The line's report as one engine gives it, and into `alerts` the
    /// lines of the alerts the shards closed on it, merged in one
    /// engine's order (its matches are already written); `peak` follows
    /// the entries the shards' windows hold together.
    fn line(&self, peak: &mut u64, alerts: &mut Vec<&'m [u8]>) -> LineReport {
        let mut report = self.prepared.report();
        if report.malformed.is_some() || report.unrouted {
            return report;
        }
        let mut closed = Vec::new();
        let mut ran = false;
        for shard in self.shards {
            let Some((theirs, range)) = shard.lines.get(self.index) else {
                continue;
            };
            ran = true;
            report.late |= theirs.late;
            report.future |= theirs.future;
            if let Some((rule, too_many)) = &theirs.too_many
                && report
                    .too_many
                    .as_ref()
                    .is_none_or(|(first, _)| rule < first)
            {
                report.too_many = Some((*rule, *too_many));
            }
            report.counted += theirs.counted;
            report.windows += theirs.windows;
            report.ordered += theirs.ordered;
            for (order, line) in shard.alerts.get(range.clone()).unwrap_or_default() {
                closed.push((*order, shard.rendered.get(line.clone()).unwrap_or_default()));
            }
        }
        if ran {
            *peak = (*peak).max(report.counted);
            report.over_group_limit = report.windows + report.ordered > self.max_groups;
        }
        // Stable: one rule's alerts keep their order.
        closed.sort_by_key(|(order, _)| *order);
        alerts.extend(closed.into_iter().map(|(_, line)| line));
        report
    }
}

/// Fills `batch` from the input: up to a batch's size, or what is ready
/// when the input would wait and lines are pending (`pending`, or some
/// already in the batch); with nothing pending, the output is flushed
/// before waiting. Returns whether the input ended or failed after these
/// lines, or why the run must stop now.
fn read(
    run: &mut Run<'_>,
    input: &mut dyn Input,
    batch: &mut Batch,
    line: &mut Vec<u8>,
    pending: bool,
) -> io::Result<(Option<Option<Stop>>, Option<Stop>)> {
    while batch.lines.len() < BATCH_LINES && batch.bytes.len() < BATCH_BYTES {
        if input.idle() {
            if pending || !batch.lines.is_empty() {
                break;
            }
            if let Err(error) = run.out.flush() {
                return Ok((None, Some(Stop::Write(error))));
            }
        }
        match take_lines(input, batch, run.options.max_line) {
            Ok(0) => {}
            Ok(_) => continue,
            Err(error) => return Ok((Some(Some(Stop::of_read(error))), None)),
        }
        match next_line(input, line, run.options.max_line) {
            Ok(Next::End) => return Ok((Some(None), None)),
            Ok(Next::TooLong(length)) => batch.lines.push(Entry::TooLong(length)),
            Ok(Next::Line(bytes, used)) => {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(bytes);
                batch.lines.push(Entry::Read(start..batch.bytes.len()));
                input.consume(used);
            }
            Err(error) => return Ok((Some(Some(Stop::of_read(error))), None)),
        }
    }
    Ok((None, None))
}

/// Takes the whole lines that lie in the input's buffer into `batch`, as
/// far as the batch has room, in one copy; the number of bytes taken (0:
/// the next line is not whole there, or is too long: `next_line` reads
/// it).
fn take_lines(input: &mut dyn Input, batch: &mut Batch, max_line: usize) -> io::Result<usize> {
    let available = input.fill_buf()?;
    let base = batch.bytes.len();
    let mut taken = 0;
    for newline in memchr::memchr_iter(b'\n', available) {
        let end = newline + 1;
        let full = batch.lines.len() >= BATCH_LINES || base + taken >= BATCH_BYTES;
        if full || end - taken > max_line.saturating_add(1) {
            break;
        }
        batch.lines.push(Entry::Read(base + taken..base + end));
        taken = end;
    }
    batch
        .bytes
        .extend_from_slice(available.get(..taken).unwrap_or_default());
    input.consume(taken);
    Ok(taken)
}
