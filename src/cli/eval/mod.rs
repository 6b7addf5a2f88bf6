//! `tripline eval`: runs a pack over JSON Lines (a file or stdin) and prints
//! matches and alerts as JSON lines on stdout, in input order (language.md
//! 1.4). Problems with lines (malformed, too long, no usable `@timestamp`,
//! unrouted, late, too far in the future) go to stderr with their line
//! numbers and a summary at the end. A run that cannot read its input to
//! the end (a signal, a closed stdout, the group limit, a read error) says
//! so on stderr and exits 2 after printing what is certain.

mod input;
mod open;
mod parallel;
mod print;
mod summary;

use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;

use self::input::{ChannelInput, Input, Interrupted, Next, next_line};
use self::parallel::Windows;
use self::print::{Printer, Progress};
pub use self::summary::Summary;
use self::summary::{malformed_record, note, stats, unrouted};
use super::{EvalArgs, pipeline};
use crate::eval::input::{Decoder, Format};
use crate::eval::{Engine, Lateness, Limits, LineReport, Output, Routing};
use crate::ir;

pub use self::print::alert_body;

/// `tripline eval [--rules PATH]... [--source NAME | --source-field F] [EVENTS | -]`.
pub fn run(args: &EvalArgs) -> u8 {
    if stdout_was_closed() {
        eprintln!("error: stdout is closed: matches and alerts could not be written");
        return 2;
    }
    let loaded = match pipeline::load_runnable(&args.rules, args.site.as_deref(), &args.taxonomy) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // The sources events are routed to: the bundled ones and those the
    // pack's extensions add (from its manifest or `--taxonomy`).
    let sources: Vec<String> = (loaded.taxonomy.sources().iter())
        .map(|s| s.name.clone())
        .collect();
    let pack_routes = pack_routes(&loaded);
    let mut options = match options(args, &sources, &pack_routes) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let source = match open::open(args.events.as_deref(), &mut options) {
        Ok(source) => source,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let mut input = match ChannelInput::spawn(source) {
        Ok(input) => input,
        Err(err) => {
            eprintln!("error: cannot start reading the input: {err}");
            return 2;
        }
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut err = io::stderr().lock();
    let rules = &loaded.checked.pack.rules;
    match evaluate(rules, &options, &mut input, &mut out, &mut err) {
        Ok(summary) if summary.complete => 0,
        Ok(_) => 2,
        Err(error) => {
            eprintln!("error: {error}");
            2
        }
    }
}

/// The pack's `[eval.routes]` (checked with the pack: each names a source).
fn pack_routes(loaded: &pipeline::Loaded) -> Vec<(String, String)> {
    (loaded.manifest.iter())
        .flat_map(|manifest| &manifest.routes)
        .map(|(name, source)| (name.node.clone(), source.node.clone()))
        .collect()
}

/// Whether the process started with stdout closed (`>&-`). Rust's runtime
/// then opens `/dev/null` on descriptor 1, read-write, and every match
/// would vanish with exit 0; a shell's `>/dev/null` opens it write-only,
/// which is a choice, not a loss. Only Linux shows the access mode
/// (`/proc/self/fdinfo`); elsewhere only a descriptor still closed is seen.
fn stdout_was_closed() -> bool {
    if io::stdout().as_fd().try_clone_to_owned().is_err() {
        return true;
    }
    if !cfg!(target_os = "linux") {
        return false;
    }
    let null = std::fs::read_link("/proc/self/fd/1").is_ok_and(|p| p.as_os_str() == "/dev/null");
    let read_write = || {
        let info = std::fs::read_to_string("/proc/self/fdinfo/1").unwrap_or_default();
        let flags = info
            .lines()
            .find_map(|line| line.strip_prefix("flags:"))
            .and_then(|octal| u32::from_str_radix(octal.trim(), 8).ok());
        // O_ACCMODE is 3, O_RDWR 2.
        flags.is_some_and(|flags| flags & 3 == 2)
    };
    null && read_write()
}

/// How a run routes events, closes windows and bounds its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    pub routing: Routing,
    pub limits: Limits,
    /// `--max-line-size`, in bytes (without the newline).
    pub max_line: usize,
    /// `--stats`: what the open windows held, on stderr at the end.
    pub stats: bool,
    /// Show a progress bar on stderr (when it is a terminal).
    pub progress: bool,
    /// The input's size, when it is a file (the bar then shows a fraction).
    pub input_bytes: Option<u64>,
    /// The input's format, and whether it is to be detected (`run` does).
    pub format: Format,
    pub detect: bool,
    /// The input's name in messages (its path, or `<stdin>`).
    pub label: String,
    /// `--max-evtx-size`, in bytes.
    pub max_evtx: u64,
    /// The year of RFC 3164 syslog times (the current one, UTC).
    pub year: i32,
    /// `--threads`: threads that match lines ahead (1: none).
    pub threads: usize,
}

impl EvalOptions {
    pub const DEFAULT_MAX_LINE: usize = 16 << 20;
    pub const DEFAULT_MAX_EVTX: u64 = 1 << 30;
}

/// Reads the routing, input and limit flags; `sources` are the taxonomy's
/// sources, `pack_routes` the pack's `[eval.routes]` (checked). An error is
/// a usage error (exit 2).
pub fn options(
    args: &EvalArgs,
    sources: &[String],
    pack_routes: &[(String, String)],
) -> Result<EvalOptions, String> {
    let routing = match (&args.source, &args.source_field) {
        (Some(_), Some(_)) => {
            return Err("--source and --source-field cannot be used together".into());
        }
        (Some(source), None) => {
            let known = sources.iter().find(|s| s.eq_ignore_ascii_case(source));
            match known {
                Some(known) => Routing::Fixed(known.clone()),
                None => {
                    let hint = crate::diag::nearest(source, sources.iter().map(String::as_str))
                        .map(|near| format!("did you mean `{near}`? "))
                        .unwrap_or_default();
                    return Err(format!(
                        "--source `{source}` is not a source; {hint}expected one of {}",
                        sources.join(", ")
                    ));
                }
            }
        }
        (None, field) => Routing::Field {
            paths: match field {
                Some(field) => vec![field.clone()],
                None => Routing::DEFAULT_FIELDS.map(String::from).to_vec(),
            },
            sources: sources.to_vec(),
            routes: routes(&args.routes, pack_routes, sources)?,
            codes: crate::eval::input::mapping::default_codes()?,
        },
    };
    let duration = |flag: &str, text: &str| {
        parse_duration(text).ok_or_else(|| {
            format!("{flag} expects a duration like `30s`, `10m`, `1h` or `1d`, found `{text}`")
        })
    };
    let count = |flag: &str, text: &str| match parse_size(text) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} expects a positive number, optionally with K, M or G (1024, 1M), found `{text}`"
        )),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    let mut limits = Limits::streaming(now);
    if let Some(text) = &args.max_lateness {
        limits.lateness = Lateness::Seconds(duration("--max-lateness", text)?);
    }
    if let Some(text) = &args.max_future {
        limits.max_future = Some(duration("--max-future", text)?);
    }
    if let Some(text) = &args.max_groups {
        limits.max_groups = count("--max-groups", text)?;
    }
    if let Some(text) = &args.max_combinations {
        limits.max_fanout = count("--max-combinations", text)?;
    }
    let threads = match &args.threads {
        Some(text) => usize::try_from(count("--threads", text)?).unwrap_or(usize::MAX),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let max_line = match &args.max_line_size {
        Some(text) => usize::try_from(count("--max-line-size", text)?).unwrap_or(usize::MAX),
        None => EvalOptions::DEFAULT_MAX_LINE,
    };
    let format = match args.format.as_deref() {
        None => None,
        Some(name) => Some(Format::parse(name).ok_or_else(|| {
            format!(
                "--format `{name}` is not a format; expected one of {}",
                Format::NAMES.join(", ")
            )
        })?),
    };
    let max_evtx = match &args.max_evtx_size {
        Some(text) => count("--max-evtx-size", text)?,
        None => EvalOptions::DEFAULT_MAX_EVTX,
    };
    let year = match &args.syslog_year {
        Some(text) => match text.parse::<i32>() {
            Ok(year) if (0..=9999).contains(&year) => year,
            _ => {
                return Err(format!(
                    "--syslog-year expects a year from 0 to 9999, found `{text}`"
                ));
            }
        },
        None => now.map_or(1970, |seconds| {
            let text = crate::eval::timestamp::format_seconds(i128::from(seconds));
            text.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970)
        }),
    };
    Ok(EvalOptions {
        routing,
        limits,
        max_line,
        stats: args.stats,
        progress: io::stderr().is_terminal(),
        input_bytes: None,
        format: format.unwrap_or(Format::Jsonl),
        detect: format.is_none(),
        label: "<stdin>".into(),
        max_evtx,
        year,
        threads,
    })
}

/// The routes of a run: the bundled ones, then the pack's, then `--route`
/// (a later name replaces an earlier one).
fn routes(
    flags: &[String],
    pack_routes: &[(String, String)],
    sources: &[String],
) -> Result<Vec<(String, String)>, String> {
    let mut routes = crate::eval::input::mapping::default_routes()?;
    routes.retain(|(_, source)| sources.iter().any(|s| s.eq_ignore_ascii_case(source)));
    let mut add = |name: &str, source: &str| {
        routes.retain(|(known, _)| !known.eq_ignore_ascii_case(name));
        routes.insert(0, (name.to_string(), source.to_string()));
    };
    for (name, source) in pack_routes {
        add(name, source);
    }
    for flag in flags {
        let (name, source) = flag
            .split_once('=')
            .filter(|(name, source)| !name.is_empty() && !source.is_empty())
            .ok_or_else(|| {
                format!("--route expects NAME=SOURCE (`zeek.conn=network`), found `{flag}`")
            })?;
        if !sources.iter().any(|s| s.eq_ignore_ascii_case(source)) {
            return Err(format!(
                "--route `{flag}`: `{source}` is not a source; expected one of {}",
                sources.join(", ")
            ));
        }
        add(name, source);
    }
    Ok(routes)
}

/// `N` followed by `s`, `m`, `h` or `d` (0 allowed: close on the next newer event).
pub fn parse_duration(text: &str) -> Option<u64> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// Digits, optionally followed by `K`, `M` or `G` (binary multiples).
pub fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.as_bytes().last()? {
        b'K' | b'k' => (&text[..text.len() - 1], 1 << 10),
        b'M' | b'm' => (&text[..text.len() - 1], 1 << 20),
        b'G' | b'g' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// Why a run stopped before the end of its input.
enum Stop {
    Interrupted(Interrupted),
    /// Over `--max-groups`: what the threshold windows and the sequence
    /// and first-seen rules held after the line.
    GroupLimit {
        windows: u64,
        ordered: u64,
    },
    Read(io::Error),
    Write(io::Error),
}

impl Stop {
    fn of_read(error: io::Error) -> Stop {
        match Interrupted::of(&error) {
            Some(signal) => Stop::Interrupted(signal),
            None => Stop::Read(error),
        }
    }
}

/// At most this many open windows' alerts are shown on stderr when a run
/// stops early.
const OPEN_SHOWN: usize = 100;

/// Runs `rules` over `input`, writing JSON lines to `out` and problems to
/// `err`. A run stopped before the end of its input (`Summary::complete`
/// false) has printed on `out` only alerts of windows that had closed;
/// those still open are shown on `err`, marked as not final.
pub fn evaluate(
    rules: &[ir::Rule],
    options: &EvalOptions,
    input: &mut dyn Input,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Summary> {
    let mut engine = Engine::with_limits(rules, options.routing.clone(), &options.limits)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let printer = Printer::new(&engine);
    let decoder = Decoder::new(options.format, options.year)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut summary = Summary::default();
    let progress = Progress::new(options);
    let mut run = Run {
        engine: &mut engine,
        printer: &printer,
        decoder: &decoder,
        options,
        summary: &mut summary,
        progress: &progress,
        bytes_read: 0,
        out: &mut *out,
        err: &mut *err,
    };
    // Matching threads read JSON Lines; other formats decode one by one.
    let (stop, mut shards) = if options.threads > 1 && options.format == Format::Jsonl {
        let (stop, shards) = parallel::lines(&mut run, input, options.threads)?;
        (stop, Some(shards))
    } else {
        (one_by_one(&mut run, input)?, None)
    };
    progress.finish();
    let windows: &mut dyn Windows = match &mut shards {
        Some(shards) => shards,
        None => &mut engine,
    };
    let stop = match stop {
        None => finish(windows, &printer, options, &mut summary, out, err)?,
        Some(stop) => Some(stop),
    };
    if let Some(stop) = stop {
        stopped(&stop, windows, &printer, options, &summary, out, err)?;
    }
    unrouted(&summary, err)?;
    writeln!(err, "{}", summary.line())?;
    Ok(summary)
}

/// A run in progress: what each line goes through, in input order.
struct Run<'r> {
    engine: &'r mut Engine,
    printer: &'r Printer,
    decoder: &'r Decoder,
    options: &'r EvalOptions,
    summary: &'r mut Summary,
    progress: &'r Progress,
    bytes_read: u64,
    out: &'r mut dyn Write,
    err: &'r mut dyn Write,
}

/// One line of the input, as read.
enum Line<'b> {
    /// Longer than `--max-line-size`: its length, newline included.
    TooLong(u64),
    /// Its bytes, newline included.
    Read(&'b [u8]),
}

/// A line sorted out before any rule runs, with its length in bytes
/// (newline included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sorted {
    TooLong(u64),
    NotUtf8(u64),
    Blank(u64),
    Event(u64),
}

impl Sorted {
    /// The line sorted out, and its event's text (without the line ending).
    fn of(line: Line<'_>) -> (Sorted, Option<&str>) {
        let bytes = match line {
            Line::TooLong(length) => return (Sorted::TooLong(length), None),
            Line::Read(bytes) => bytes,
        };
        let length = bytes.len() as u64;
        match event_text(bytes) {
            None => (Sorted::NotUtf8(length), None),
            Some(text) if text.trim().is_empty() => (Sorted::Blank(length), None),
            Some(text) => (Sorted::Event(length), Some(text)),
        }
    }
}

impl Run<'_> {
    /// Reads and runs one line (`--threads 1`): counts it, reports what is
    /// wrong with it, runs the rules and prints what they found. `Some`
    /// when the run must stop after it.
    fn line(&mut self, line: Line<'_>) -> io::Result<Option<Stop>> {
        let (sorted, text) = Sorted::of(line);
        let (Some(number), Some(line)) = (self.count(sorted)?, text) else {
            return Ok(None);
        };
        let line = match self.decoder.decode(line) {
            Ok(line) => line,
            Err(malformed) => {
                self.summary.malformed += 1;
                let (options, err) = (self.options, &mut *self.err);
                self.progress
                    .suspend(|| malformed_record(options, number, &malformed, err))?;
                return Ok(None);
            }
        };
        let line = line.as_ref();
        let mut written: io::Result<()> = Ok(());
        let (printer, out, summary) = (self.printer, &mut *self.out, &mut *self.summary);
        let report = self.engine.process(line, &mut |output| {
            if written.is_ok() {
                written = printer.print(output, number, summary, out);
            }
        });
        self.settle(number, &report, written)
    }

    /// Counts a line and reports what is wrong with it before any rule
    /// runs; its number when it is an event to run.
    fn count(&mut self, sorted: Sorted) -> io::Result<Option<u64>> {
        self.summary.lines += 1;
        let number = self.summary.lines;
        let (summary, err) = (&mut *self.summary, &mut *self.err);
        let length = match sorted {
            Sorted::TooLong(length) => {
                self.bytes_read += length;
                summary.malformed += 1;
                let max_line = self.options.max_line;
                self.progress.suspend(|| {
                    writeln!(
                        err,
                        "line {number}: malformed: longer than {max_line} bytes (--max-line-size); skipped"
                    )
                })?;
                return Ok(None);
            }
            Sorted::NotUtf8(length) | Sorted::Blank(length) | Sorted::Event(length) => length,
        };
        self.bytes_read += length;
        self.progress.tick(number, self.bytes_read);
        match sorted {
            Sorted::NotUtf8(_) => {
                summary.malformed += 1;
                self.progress
                    .suspend(|| writeln!(err, "line {number}: malformed: not UTF-8"))?;
                Ok(None)
            }
            Sorted::Event(_) => Ok(Some(number)),
            Sorted::TooLong(_) | Sorted::Blank(_) => Ok(None),
        }
    }

    /// Reports what the rules found wrong with line `number`; `Some` when
    /// the run must stop after it (`written`: how printing its outputs
    /// went).
    fn settle(
        &mut self,
        number: u64,
        report: &LineReport,
        written: io::Result<()>,
    ) -> io::Result<Option<Stop>> {
        let (engine, summary, err) = (&*self.engine, &mut *self.summary, &mut *self.err);
        self.progress
            .suspend(|| note(report, number, engine, summary, err))?;
        if let Err(error) = written {
            return Ok(Some(Stop::Write(error)));
        }
        if report.over_group_limit {
            return Ok(Some(Stop::GroupLimit {
                windows: report.windows,
                ordered: report.ordered,
            }));
        }
        Ok(None)
    }
}

/// A line's text without its line ending; `None` when it is not UTF-8
/// (checked with SIMD: the standard check cost a tenth of a busy run's
/// reading thread).
fn event_text(bytes: &[u8]) -> Option<&str> {
    let text = simdutf8::basic::from_utf8(bytes).ok()?;
    Some(text.trim_end_matches(['\n', '\r']))
}

/// Reads and runs one line at a time (`--threads 1`).
fn one_by_one(run: &mut Run<'_>, input: &mut dyn Input) -> io::Result<Option<Stop>> {
    let mut buffer = Vec::new();
    loop {
        if input.idle()
            && let Err(error) = run.out.flush()
        {
            return Ok(Some(Stop::Write(error)));
        }
        let (line, used) = match next_line(input, &mut buffer, run.options.max_line) {
            Ok(Next::End) => return Ok(None),
            Ok(Next::TooLong(length)) => (Line::TooLong(length), 0),
            Ok(Next::Line(bytes, used)) => (Line::Read(bytes), used),
            Err(error) => return Ok(Some(Stop::of_read(error))),
        };
        if let Some(stop) = run.line(line)? {
            return Ok(Some(stop));
        }
        input.consume(used);
    }
}

/// The end of input: every window closes.
fn finish(
    engine: &mut dyn Windows,
    printer: &Printer,
    options: &EvalOptions,
    summary: &mut Summary,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Option<Stop>> {
    if options.stats {
        stats(engine, "at the end of input", err)?;
    }
    let mut pending: io::Result<()> = Ok(());
    engine.finish(&mut |output| {
        if pending.is_ok() {
            pending = printer.print(output, 0, summary, out);
        }
    });
    if let Err(error) = pending.and_then(|()| out.flush()) {
        return Ok(Some(Stop::Write(error)));
    }
    summary.complete = true;
    Ok(None)
}

/// Says why the run stopped and shows the open windows' alerts on `err`.
fn stopped(
    stop: &Stop,
    engine: &mut dyn Windows,
    printer: &Printer,
    options: &EvalOptions,
    summary: &Summary,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let after = summary.lines;
    let flushed = match stop {
        Stop::Write(_) => None,
        _ => out.flush().err(),
    };
    match stop {
        Stop::Interrupted(signal) => writeln!(
            err,
            "error: {signal} after line {after}: stopped reading before the end of the input"
        )?,
        Stop::GroupLimit { windows, ordered } if engine.ordered_held().is_some() => writeln!(
            err,
            "error: line {after}: the open threshold windows ({windows} groups and distinct values) and the events and combinations that sequence and first-seen rules hold ({ordered}) are over --max-groups {}; stopped reading. Raise --max-groups, or lower --max-lateness so that windows close and events are taken sooner",
            options.limits.max_groups
        )?,
        Stop::GroupLimit { windows, .. } => {
            let (held, _) = engine.held();
            writeln!(
                err,
                "error: line {after}: the open threshold windows hold {windows} groups and distinct values (about {} MB), over --max-groups {}; stopped reading. Raise --max-groups, or lower --max-lateness so that windows close sooner",
                held.bytes >> 20,
                options.limits.max_groups
            )?
        }
        Stop::Read(error) => writeln!(err, "error: reading the input after line {after}: {error}")?,
        Stop::Write(error) => writeln!(
            err,
            "error: writing to stdout after line {after}: {}; stopped reading",
            describe_write(error)
        )?,
    }
    if let Some(error) = flushed {
        writeln!(err, "error: writing to stdout: {}", describe_write(&error))?;
    }
    if options.stats {
        stats(engine, "when the run stopped", err)?;
    }
    let mut open = Vec::new();
    engine.finish(&mut |output| {
        if let Output::Alert { rule, alert } = output {
            open.push((rule, alert));
        }
    });
    if !open.is_empty() {
        writeln!(
            err,
            "note: {} alerts of windows still open are not final and were not printed on stdout:",
            open.len()
        )?;
        for (rule, alert) in open.iter().take(OPEN_SHOWN) {
            writeln!(
                err,
                "open window, not final: {}",
                printer.alert_line(*rule, alert)
            )?;
        }
        if open.len() > OPEN_SHOWN {
            writeln!(err, "... and {} more", open.len() - OPEN_SHOWN)?;
        }
    }
    Ok(())
}

fn describe_write(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::BrokenPipe => "the reader closed the pipe (broken pipe)".to_string(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests;
