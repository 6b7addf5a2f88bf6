//! `tripline eval`: runs a pack over JSON Lines (a file or stdin) and prints
//! matches and alerts as JSON lines on stdout, in input order (language.md
//! 1.4). Problems with lines (malformed, no usable `@timestamp`, unrouted,
//! late) go to stderr with their line numbers and a summary at the end.

use std::io::{self, BufRead, IsTerminal, Write};

use super::{EvalArgs, pipeline};
use crate::check::taxonomy::Taxonomy;
use crate::eval::{Alert, Engine, LineReport, Output, Routing, timestamp};
use crate::ir;

/// `tripline eval [--rules PATH]... [--source NAME | --source-field F] [EVENTS | -]`.
pub fn run(args: &EvalArgs) -> u8 {
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
    let mut input: Box<dyn BufRead> = match args.events.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(path) if path.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(path) => match std::fs::File::open(path) {
            Ok(file) => {
                options.input_bytes = file.metadata().ok().map(|m| m.len());
                Box::new(io::BufReader::with_capacity(1 << 16, file))
            }
            Err(err) => {
                eprintln!("error: {}: {err}", path.display());
                return 2;
            }
        },
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut err = io::stderr().lock();
    let rules = &loaded.checked.pack.rules;
    match evaluate(rules, &options, &mut input, &mut out, &mut err) {
        Ok(_) => 0,
        Err(error) => {
            eprintln!("error: {error}");
            2
        }
    }
}

/// How a run routes events and closes windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    pub routing: Routing,
    /// `--max-lateness`, in seconds.
    pub lateness: Option<u64>,
    /// Show a progress bar on stderr (when it is a terminal).
    pub progress: bool,
    /// The input's size, when it is a file (the bar then shows a fraction).
    pub input_bytes: Option<u64>,
}

/// Reads the routing and lateness flags; `sources` are the taxonomy's
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
    let lateness = match &args.max_lateness {
        Some(text) => Some(parse_duration(text).ok_or_else(|| {
            format!(
                "--max-lateness expects a duration like `30s`, `10m`, `1h` or `1d`, found `{text}`"
            )
        })?),
        None => None,
    };
    Ok(EvalOptions {
        routing,
        lateness,
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
}

impl Summary {
    fn line(&self) -> String {
        format!(
            "tripline eval: {} lines, {} matches, {} alerts; {} malformed, {} without a usable @timestamp, {} unrouted, {} late",
            self.lines,
            self.matches,
            self.alerts,
            self.malformed,
            self.bad_timestamp,
            self.unrouted,
            self.late
        )
    }
}

/// Runs `rules` over `input`, writing JSON lines to `out` and problems to `err`.
pub fn evaluate(
    rules: &[ir::Rule],
    options: &EvalOptions,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Summary> {
    let mut engine = Engine::new(rules, options.routing.clone(), options.lateness)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let printer = Printer::new(&engine);
    let mut summary = Summary::default();
    let progress = Progress::new(options);
    let mut bytes_read = 0u64;
    let mut buffer = Vec::new();
    let mut pending: io::Result<()> = Ok(());
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        summary.lines += 1;
        bytes_read += buffer.len() as u64;
        let number = summary.lines;
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
        std::mem::replace(&mut pending, Ok(()))?;
        progress.suspend(|| note(&report, number, &mut summary, err))?;
    }
    engine.finish(&mut |output| {
        if pending.is_ok() {
            pending = printer.print(output, 0, &mut summary, out);
        }
    });
    pending?;
    progress.finish();
    out.flush()?;
    writeln!(err, "{}", summary.line())?;
    Ok(summary)
}

fn note(
    report: &LineReport,
    number: u64,
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
    Ok(())
}

/// Pre-rendered JSON pieces per rule.
struct Printer {
    /// `{"kind":"match","rule":…,"id":…,"title":…,"line":`
    match_prefix: Vec<String>,
    /// `{"kind":"alert","rule":…,"id":…,"title":…,`
    alert_prefix: Vec<String>,
}

impl Printer {
    fn new(engine: &Engine) -> Printer {
        let head = |kind: &str, rule: &crate::eval::CompiledRule| {
            format!(
                "{{\"kind\":\"{kind}\",\"rule\":{},\"id\":{},\"title\":{}",
                json_string(&rule.name),
                json_string(&rule.id),
                json_string(&rule.title)
            )
        };
        Printer {
            match_prefix: engine
                .rules()
                .iter()
                .map(|r| head("match", r) + ",\"line\":")
                .collect(),
            alert_prefix: engine
                .rules()
                .iter()
                .map(|r| head("alert", r) + ",")
                .collect(),
        }
    }

    fn print(
        &self,
        output: Output<'_>,
        number: u64,
        summary: &mut Summary,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match output {
            Output::Match { rule, line } => {
                summary.matches += 1;
                let prefix = self.match_prefix.get(rule).map_or("", String::as_str);
                writeln!(out, "{prefix}{number},\"event\":{line}}}")
            }
            Output::Alert { rule, alert } => {
                summary.alerts += 1;
                let prefix = self.alert_prefix.get(rule).map_or("", String::as_str);
                writeln!(out, "{prefix}{}}}", alert_body(&alert))
            }
        }
    }
}

/// `"group":{…},"window":{"start":…,"end":…},"count":N` (or
/// `distinct_count`), then what the SIEM's row shows beside it:
/// `"first_time":…,"last_time":…` (the group's first and last event) and, for a rule
/// with context fields, `"context":{"field":["value",…],…}`.
pub fn alert_body(alert: &Alert) -> String {
    let group: Vec<String> = alert
        .group
        .iter()
        .map(|(field, value)| format!("{}:{value}", json_string(field)))
        .collect();
    format!(
        "\"group\":{{{}}},\"window\":{{\"start\":\"{}\",\"end\":\"{}\"}},\"{}\":{}",
        group.join(","),
        timestamp::format_seconds(alert.start),
        timestamp::format_seconds(alert.end),
        if alert.distinct {
            "distinct_count"
        } else {
            "count"
        },
        alert.value
    ) + &alert_context(alert)
}

fn alert_context(alert: &Alert) -> String {
    let mut text = format!(
        ",\"first_time\":\"{}\",\"last_time\":\"{}\"",
        timestamp::format_nanos(alert.first_time),
        timestamp::format_nanos(alert.last_time)
    );
    if !alert.context.is_empty() {
        let fields: Vec<String> = alert
            .context
            .iter()
            .map(|(field, values)| format!("{}:{}", json_string(field), serde_json::json!(values)))
            .collect();
        text.push_str(&format!(",\"context\":{{{}}}", fields.join(",")));
    }
    text
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// A progress bar on stderr, only when stderr is a terminal: bytes of a
/// file, or a count of lines from stdin. Messages are printed around it.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(options: &EvalOptions) -> Progress {
        let bar = options.progress.then(|| {
            let (bar, template) = match options.input_bytes {
                Some(total) => (
                    indicatif::ProgressBar::new(total),
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ),
                None => (
                    indicatif::ProgressBar::new_spinner(),
                    "{spinner} {pos} lines {per_sec}",
                ),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar }
    }

    /// Updated every 4096 lines: drawing costs more than a line.
    fn tick(&self, lines: u64, bytes: u64) {
        if let Some(bar) = &self.bar
            && lines.is_multiple_of(4096)
        {
            bar.set_position(if bar.length().is_some() { bytes } else { lines });
        }
    }

    fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::tests_kit as kit;
    use crate::ir::Comparison;

    fn run(rules: &[ir::Rule], lateness: Option<u64>, input: &str) -> (String, String) {
        let options = EvalOptions {
            routing: Routing::Field {
                path: Routing::DEFAULT_FIELD.into(),
                sources: vec!["dns".into(), "web".into()],
            },
            lateness,
            progress: false,
            input_bytes: None,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = evaluate(rules, &options, &mut input.as_bytes(), &mut out, &mut err);
        assert!(result.is_ok());
        (
            String::from_utf8_lossy(&out).into(),
            String::from_utf8_lossy(&err).into(),
        )
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
        {"kind":"alert","rule":"burst","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"burst title","group":{"source.ip":"1.2.3.4"},"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z"},"count":2,"first_time":"2026-01-01T00:00:01Z","last_time":"2026-01-01T00:00:05Z"}
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
                r#""window":{"start":"1970-01-01T00:00:00Z","end":"1970-01-01T00:01:00Z"},"count":1,"first_time":"1970-01-01T00:00:00Z","last_time":"1970-01-01T00:00:00Z"}"#,
                r#""window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"first_time":"1970-01-01T00:01:10Z","last_time":"1970-01-01T00:01:10Z"}"#,
                r#""window":{"start":"1970-01-01T00:02:00Z","end":"1970-01-01T00:03:00Z"},"count":1,"first_time":"1970-01-01T00:02:05Z","last_time":"1970-01-01T00:02:05Z"}"#,
            ]
        );
        assert!(err.contains("line 4: late"), "{err}");
        assert!(err.contains("1 late"), "{err}");
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
}
