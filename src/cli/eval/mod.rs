//! `tripline eval`: runs a pack over JSON Lines (a file or stdin) and prints
//! matches and alerts as JSON lines on stdout, in input order (language.md
//! 1.4). Problems with lines (malformed, too long, no usable `@timestamp`,
//! unrouted, late, too far in the future) go to stderr with their line
//! numbers and a summary at the end. A run that cannot read its input to
//! the end (a signal, a closed stdout, the group limit, a read error) says
//! so on stderr and exits 2 after printing what is certain.

mod input;
mod print;

use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;

use self::input::{ChannelInput, Input, Interrupted, LineRead, read_line};
use self::print::{Printer, Progress};
use super::{EvalArgs, pipeline};
use crate::check::taxonomy::Taxonomy;
use crate::eval::{Engine, Lateness, Limits, LineReport, Output, Routing};
use crate::ir;

pub use self::print::alert_body;

/// `tripline eval [--rules PATH]... [--source NAME | --source-field F] [EVENTS | -]`.
pub fn run(args: &EvalArgs) -> u8 {
    // Rust's stdout swallows writes to a closed descriptor: refuse first,
    // before a file opened below could take descriptor 1.
    if io::stdout().as_fd().try_clone_to_owned().is_err() {
        eprintln!("error: stdout is closed: matches and alerts could not be written");
        return 2;
    }
    let sources: Vec<String> = Taxonomy::bundled()
        .sources()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut options = match options(args, &sources) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let loaded = match pipeline::load_runnable(&args.rules) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let source: Box<dyn io::Read + Send> = match args.events.as_deref() {
        None => Box::new(io::stdin()),
        Some(path) if path.as_os_str() == "-" => Box::new(io::stdin()),
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => {
                options.input_bytes = file.metadata().ok().map(|m| m.len());
                Box::new(file)
            }
            Err(err) => {
                eprintln!("error: {}: {err}", path.display());
                return 2;
            }
        },
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
}

impl EvalOptions {
    pub const DEFAULT_MAX_LINE: usize = 16 << 20;
}

/// Reads the routing and limit flags; `sources` are the taxonomy's
/// sources. An error is a usage error (exit 2).
pub fn options(args: &EvalArgs, sources: &[String]) -> Result<EvalOptions, String> {
    let routing = match (&args.source, &args.source_field) {
        (Some(_), Some(_)) => {
            return Err("--source and --source-field cannot be used together".into());
        }
        (Some(source), None) => {
            let known = sources.iter().find(|s| s.eq_ignore_ascii_case(source));
            match known {
                Some(known) => Routing::Fixed(known.clone()),
                None => {
                    return Err(format!(
                        "--source `{source}` is not a source; expected one of {}",
                        sources.join(", ")
                    ));
                }
            }
        }
        (None, field) => Routing::Field {
            path: field
                .clone()
                .unwrap_or_else(|| Routing::DEFAULT_FIELD.to_string()),
            sources: sources.to_vec(),
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
    let max_line = match &args.max_line_size {
        Some(text) => usize::try_from(count("--max-line-size", text)?).unwrap_or(usize::MAX),
        None => EvalOptions::DEFAULT_MAX_LINE,
    };
    Ok(EvalOptions {
        routing,
        limits,
        max_line,
        stats: args.stats,
        progress: io::stderr().is_terminal(),
        input_bytes: None,
    })
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

/// What a run saw, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub matches: u64,
    pub alerts: u64,
    pub malformed: u64,
    pub bad_timestamp: u64,
    pub unrouted: u64,
    pub late: u64,
    pub future: u64,
    /// Events a threshold rule did not count: too many combinations.
    pub too_many: u64,
    /// The input was read to its end.
    pub complete: bool,
}

impl Summary {
    fn line(&self) -> String {
        let mut line = format!(
            "tripline eval: {} lines, {} matches, {} alerts; {} malformed, {} without a usable @timestamp, {} unrouted, {} late",
            self.lines,
            self.matches,
            self.alerts,
            self.malformed,
            self.bad_timestamp,
            self.unrouted,
            self.late
        );
        if self.future > 0 {
            line += &format!(", {} in the future", self.future);
        }
        if self.too_many > 0 {
            line += &format!(", {} with too many combinations", self.too_many);
        }
        if !self.complete {
            line += "; the input was not read to its end";
        }
        line
    }
}

/// Why a run stopped before the end of its input.
enum Stop {
    Interrupted(Interrupted),
    GroupLimit,
    Read(io::Error),
    Write(io::Error),
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
    let mut summary = Summary::default();
    let progress = Progress::new(options);
    let mut bytes_read = 0u64;
    let mut buffer = Vec::new();
    let mut pending: io::Result<()> = Ok(());
    let stop = loop {
        if input.idle()
            && let Err(error) = out.flush()
        {
            break Some(Stop::Write(error));
        }
        let read = match read_line(input, &mut buffer, options.max_line) {
            Ok(read) => read,
            Err(error) => match Interrupted::of(&error) {
                Some(signal) => break Some(Stop::Interrupted(signal)),
                None => break Some(Stop::Read(error)),
            },
        };
        if read == LineRead::End {
            break None;
        }
        summary.lines += 1;
        let number = summary.lines;
        if let LineRead::TooLong(length) = read {
            bytes_read += length;
            summary.malformed += 1;
            progress.suspend(|| {
                writeln!(
                    err,
                    "line {number}: malformed: longer than {} bytes (--max-line-size); skipped",
                    options.max_line
                )
            })?;
            continue;
        }
        bytes_read += buffer.len() as u64;
        progress.tick(number, bytes_read);
        let Ok(text) = std::str::from_utf8(&buffer) else {
            summary.malformed += 1;
            progress.suspend(|| writeln!(err, "line {number}: malformed: not UTF-8"))?;
            continue;
        };
        let line = text.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let report = engine.process(line, &mut |output| {
            if pending.is_ok() {
                pending = printer.print(output, number, &mut summary, out);
            }
        });
        progress.suspend(|| note(&report, number, &engine, &mut summary, err))?;
        if let Err(error) = std::mem::replace(&mut pending, Ok(())) {
            break Some(Stop::Write(error));
        }
        if report.over_group_limit {
            break Some(Stop::GroupLimit);
        }
    };
    progress.finish();
    let stop = match stop {
        None => finish(&mut engine, &printer, options, &mut summary, out, err)?,
        Some(stop) => Some(stop),
    };
    if let Some(stop) = stop {
        stopped(&stop, &mut engine, &printer, options, &summary, out, err)?;
    }
    writeln!(err, "{}", summary.line())?;
    Ok(summary)
}

/// The end of input: every window closes.
fn finish(
    engine: &mut Engine,
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
    engine: &mut Engine,
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
        Stop::GroupLimit => {
            let (held, _) = engine.held();
            writeln!(
                err,
                "error: line {after}: the open threshold windows hold {} groups and distinct values (about {} MB), over --max-groups {}; stopped reading. Raise --max-groups, or lower --max-lateness so that windows close sooner",
                held.entries,
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

/// `--stats`: what the open windows hold.
fn stats(engine: &Engine, when: &str, err: &mut dyn Write) -> io::Result<()> {
    let (held, peak) = engine.held();
    writeln!(
        err,
        "stats {when}: {} open windows, {} groups, {} groups and distinct values (at most {} during the run), about {:.1} MB",
        held.windows,
        held.groups,
        held.entries,
        peak,
        held.bytes as f64 / 1e6
    )
}

fn note(
    report: &LineReport,
    number: u64,
    engine: &Engine,
    summary: &mut Summary,
    err: &mut dyn Write,
) -> io::Result<()> {
    if let Some(malformed) = &report.malformed {
        summary.malformed += 1;
        writeln!(err, "line {number}: malformed JSON: {malformed}")?;
    }
    if report.unrouted {
        summary.unrouted += 1;
        writeln!(
            err,
            "line {number}: unrouted: its source is not one of the taxonomy's"
        )?;
    }
    if report.bad_timestamp {
        summary.bad_timestamp += 1;
        writeln!(
            err,
            "line {number}: no usable @timestamp: not counted by threshold rules"
        )?;
    }
    if report.late {
        summary.late += 1;
        writeln!(
            err,
            "line {number}: late: its window was already closed; not counted"
        )?;
    }
    if report.future {
        summary.future += 1;
        writeln!(
            err,
            "line {number}: future: its @timestamp is more than --max-future past the newest time; counted, but windows are not closed by it"
        )?;
    }
    if let Some((rule, too_many)) = &report.too_many {
        summary.too_many += 1;
        let name = engine.rules().get(*rule).map_or("", |r| r.name.as_str());
        writeln!(
            err,
            "line {number}: rule `{name}`: its `by` and `distinct` arrays make {} groups and values, over --max-combinations {}; not counted by this rule",
            too_many.entries, too_many.limit
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::tests_kit as kit;
    use crate::ir::Comparison;

    fn options(lateness: Option<u64>) -> EvalOptions {
        let mut limits = Limits::streaming(None);
        if let Some(seconds) = lateness {
            limits.lateness = Lateness::Seconds(seconds);
        }
        EvalOptions {
            routing: Routing::Field {
                path: Routing::DEFAULT_FIELD.into(),
                sources: vec!["dns".into(), "web".into()],
            },
            limits,
            max_line: EvalOptions::DEFAULT_MAX_LINE,
            stats: false,
            progress: false,
            input_bytes: None,
        }
    }

    fn run_with(rules: &[ir::Rule], options: &EvalOptions, input: &str) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = evaluate(rules, options, &mut input.as_bytes(), &mut out, &mut err);
        assert!(result.is_ok());
        (
            String::from_utf8_lossy(&out).into(),
            String::from_utf8_lossy(&err).into(),
        )
    }

    fn run(rules: &[ir::Rule], lateness: Option<u64>, input: &str) -> (String, String) {
        run_with(rules, &options(lateness), input)
    }

    #[test]
    fn prints_matches_alerts_and_problems() {
        let rules = [
            kit::rule("axfr", "dns", kit::eq("dns.question.type", "AXFR"), None),
            kit::rule(
                "burst",
                "dns",
                kit::any(),
                Some(kit::count(&["source.ip"], 60, Comparison::Ge, 2)),
            ),
        ];
        let input = concat!(
            "{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"source\":{\"ip\":\"1.2.3.4\"},\"dns\":{\"question\":{\"type\":\"axfr\"}}}\r\n",
            "not json\n",
            "\n",
            "{\"event.dataset\":\"zeek\"}\n",
            "{\"source.ip\":\"1.2.3.4\"}\n",
            "{\"@timestamp\":1767225605,\"source.ip\":\"1.2.3.4\"}\n",
        );
        let (out, err) = run(&rules, None, input);
        insta::assert_snapshot!(out, @r#"
        {"kind":"match","rule":"axfr","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"axfr title","line":1,"event":{"@timestamp":"2026-01-01T00:00:01Z","source":{"ip":"1.2.3.4"},"dns":{"question":{"type":"axfr"}}}}
        {"kind":"alert","rule":"burst","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"burst title","group":{"source.ip":"1.2.3.4"},"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z"},"count":2}
        "#);
        insta::assert_snapshot!(err, @r"
        line 2: malformed JSON: expected ident at line 1 column 2
        line 4: unrouted: its source is not one of the taxonomy's
        line 5: no usable @timestamp: not counted by threshold rules
        tripline eval: 6 lines, 1 matches, 1 alerts; 1 malformed, 1 without a usable @timestamp, 1 unrouted, 0 late
        ");
    }

    #[test]
    fn max_lateness_closes_windows_early_and_refuses_late_events() {
        let rules = [kit::rule(
            "burst",
            "dns",
            kit::any(),
            Some(kit::count(&[], 60, Comparison::Ge, 1)),
        )];
        let input =
            "{\"@timestamp\":0}\n{\"@timestamp\":70}\n{\"@timestamp\":125}\n{\"@timestamp\":59}\n";
        let (out, err) = run(&rules, Some(60), input);
        let windows: Vec<&str> = out
            .lines()
            .map(|l| &l[l.find("\"window\"").unwrap_or(0)..])
            .collect();
        assert_eq!(
            windows,
            [
                r#""window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1}"#,
                r#""window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1}"#,
                r#""window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"count":1}"#,
            ]
        );
        assert!(err.contains("line 4: late"), "{err}");
        assert!(err.contains("1 late"), "{err}");
    }

    fn burst() -> ir::Rule {
        kit::rule(
            "burst",
            "dns",
            kit::any(),
            Some(kit::count(&["source.ip"], 60, Comparison::Ge, 1)),
        )
    }

    #[test]
    fn an_over_long_line_is_skipped_as_malformed_without_holding_it() {
        let options = EvalOptions {
            max_line: 64,
            ..options(None)
        };
        let long = format!("{{\"@timestamp\":0,\"x\":\"{}\"}}\n", "a".repeat(200_000));
        let exact = format!("{{\"@timestamp\":1,\"x\":\"{}\"}}\n", "b".repeat(41));
        assert_eq!(exact.len(), 64 + 1, "64 bytes and the newline");
        let input = format!("{long}{exact}{{\"@timestamp\":2,\"source.ip\":\"1.1.1.1\"}}");
        let (out, err) = run_with(&[burst()], &options, &input);
        assert_eq!(out.lines().count(), 1, "{out}");
        insta::assert_snapshot!(err, @r"
        line 1: malformed: longer than 64 bytes (--max-line-size); skipped
        tripline eval: 3 lines, 0 matches, 1 alerts; 1 malformed, 0 without a usable @timestamp, 0 unrouted, 0 late
        ");
        // The reader holds at most the limit plus one byte of a line.
        let mut buffer = Vec::new();
        let mut reader: &[u8] = long.as_bytes();
        let read = input::read_line(&mut reader, &mut buffer, 64);
        assert!(
            matches!(read, Ok(LineRead::TooLong(n)) if n == long.len() as u64),
            "{read:?}"
        );
        assert!(buffer.capacity() < 1024, "{}", buffer.capacity());
    }

    /// Lines, then the error a signal makes.
    struct Interrupting<'a>(&'a [u8]);

    impl io::Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = io::BufRead::fill_buf(self)?.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    impl io::BufRead for Interrupting<'_> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            match self.0 {
                [] => Err(Interrupted::error("SIGTERM")),
                rest => Ok(rest),
            }
        }
        fn consume(&mut self, amount: usize) {
            self.0 = &self.0[amount..];
        }
    }

    impl Input for Interrupting<'_> {}

    #[test]
    fn a_signal_prints_what_is_certain_and_shows_open_windows_as_not_final() {
        let rules = [
            kit::rule("axfr", "dns", kit::eq("dns.question.type", "AXFR"), None),
            burst(),
        ];
        let input = concat!(
            "{\"@timestamp\":0,\"source.ip\":\"1.1.1.1\",\"dns.question.type\":\"axfr\"}\n",
            "{\"@timestamp\":70,\"source.ip\":\"2.2.2.2\"}\n",
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = evaluate(
            &rules,
            &options(Some(0)),
            &mut Interrupting(input.as_bytes()),
            &mut out,
            &mut err,
        );
        assert!(result.as_ref().is_ok_and(|s| !s.complete), "{result:?}");
        let out = String::from_utf8_lossy(&out);
        let kinds: Vec<&str> = out.lines().map(|l| &l[..20]).collect();
        assert_eq!(
            kinds,
            [r#"{"kind":"match","rul"#, r#"{"kind":"alert","rul"#]
        );
        assert!(out.contains("1.1.1.1"), "{out}");
        insta::assert_snapshot!(String::from_utf8_lossy(&err), @r#"
        error: interrupted by SIGTERM after line 2: stopped reading before the end of the input
        note: 1 alerts of windows still open are not final and were not printed on stdout:
        open window, not final: {"kind":"alert","rule":"burst","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"burst title","group":{"source.ip":"2.2.2.2"},"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1}
        tripline eval: 2 lines, 1 matches, 1 alerts; 0 malformed, 0 without a usable @timestamp, 0 unrouted, 0 late; the input was not read to its end
        "#);
    }

    #[test]
    fn the_group_limit_stops_the_run_and_stats_report_open_windows() {
        let mut options = options(None);
        options.limits.max_groups = 2;
        options.stats = true;
        let input = concat!(
            "{\"@timestamp\":0,\"source.ip\":\"1.1.1.1\"}\n",
            "{\"@timestamp\":1,\"source.ip\":\"2.2.2.2\"}\n",
            "{\"@timestamp\":2,\"source.ip\":\"3.3.3.3\"}\n",
            "{\"@timestamp\":3,\"source.ip\":\"4.4.4.4\"}\n",
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = evaluate(
            &[burst()],
            &options,
            &mut input.as_bytes(),
            &mut out,
            &mut err,
        );
        assert!(result.is_ok_and(|s| !s.complete && s.lines == 3));
        assert!(out.is_empty());
        let err = String::from_utf8_lossy(&err);
        assert!(
            err.starts_with("error: line 3: the open threshold windows hold 3 groups and distinct values (about 0 MB), over --max-groups 2; stopped reading."),
            "{err}"
        );
        assert!(
            err.contains("stats when the run stopped: 1 open windows, 3 groups, 3 groups and distinct values (at most 3 during the run), about "),
            "{err}"
        );
        assert!(
            err.contains("note: 3 alerts of windows still open"),
            "{err}"
        );
        options.limits.max_groups = 10;
        let (_, err) = run_with(&[burst()], &options, input);
        assert!(
            err.starts_with("stats at the end of input: 1 open windows, 4 groups"),
            "{err}"
        );
    }

    #[test]
    fn durations_for_max_lateness() {
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("05m"), Some(300));
        assert_eq!(parse_duration("1d"), Some(86_400));
        assert_eq!(parse_duration("0s"), Some(0));
        for bad in ["", "s", "5", "-5m", "1h30m", "10ms", "1w", "５m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_for_limits() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("16M"), Some(16 << 20));
        assert_eq!(parse_size("2k"), Some(2048));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        for bad in ["", "M", "-1", "1.5M", "1T", "1 M"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
