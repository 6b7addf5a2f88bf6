//! `eval` from input to output in one process: lines, limits, stops.

use super::*;
use crate::eval::tests_kit as kit;
use crate::ir::Comparison;

fn options(lateness: Option<u64>) -> EvalOptions {
    let mut limits = Limits::streaming(None);
    if let Some(seconds) = lateness {
        limits.lateness = Lateness::Seconds(seconds);
    }
    EvalOptions {
        routing: Routing::by_field(Routing::DEFAULT_FIELD, vec!["dns".into(), "web".into()]),
        limits,
        max_line: EvalOptions::DEFAULT_MAX_LINE,
        stats: false,
        progress: false,
        input_bytes: None,
        format: Format::Jsonl,
        detect: false,
        label: "<stdin>".into(),
        max_evtx: EvalOptions::DEFAULT_MAX_EVTX,
        year: 2026,
        threads: 1,
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
    {"kind":"alert","rule":"burst","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"burst title","group":{"source.ip":"1.2.3.4"},"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z"},"count":2,"first_time":"2026-01-01T00:00:01Z","last_time":"2026-01-01T00:00:05Z"}
    "#);
    insta::assert_snapshot!(err, @r#"
    line 2: malformed JSON: expected ident at line 1 column 2
    line 5: no usable @timestamp: not counted by threshold rules
    note: unrouted events: 1 (their dataset is neither a source nor a route), by dataset:
      zeek: 1, line 4 (route with --route zeek=SOURCE, or `"zeek" = "SOURCE"` under [eval.routes] in tripline.toml)
    tripline eval: 6 lines, 1 matches, 1 alerts; 1 malformed, 1 without a usable @timestamp, 1 unrouted, 0 late
    "#);
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
        matches!(read, Ok(input::LineRead::TooLong(n)) if n == long.len() as u64),
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
    open window, not final: {"kind":"alert","rule":"burst","id":"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11","title":"burst title","group":{"source.ip":"2.2.2.2"},"window":{"start":"1970-01-01T00:01:00Z","end":"1970-01-01T00:02:00Z"},"count":1,"first_time":"1970-01-01T00:01:10Z","last_time":"1970-01-01T00:01:10Z"}
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

/// Runs `input` handed over in pieces of `capacity` bytes (as the input
/// thread hands over chunks): lines across pieces and longer than one.
fn run_in_pieces(
    rules: &[ir::Rule],
    options: &EvalOptions,
    input: &[u8],
    capacity: usize,
) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut reader = io::BufReader::with_capacity(capacity, input);
    let result = evaluate(rules, options, &mut reader, &mut out, &mut err);
    assert!(result.is_ok(), "{result:?}");
    (
        String::from_utf8_lossy(&out).into(),
        String::from_utf8_lossy(&err).into(),
    )
}

#[test]
fn lines_across_chunks_and_longer_than_a_chunk_read_as_in_one_piece() {
    let rules = [
        kit::rule("axfr", "dns", kit::eq("dns.question.type", "AXFR"), None),
        burst(),
    ];
    let event = |time: u32, pad: usize| {
        format!(
            "{{\"@timestamp\":{time},\"source.ip\":\"1.2.3.4\",\"dns.question.type\":\"AXFR\",\"p\":\"{}\"}}",
            "x".repeat(pad)
        )
    };
    assert_eq!(event(1, 0).len(), 72);
    let body = [
        format!("{}\r\n", event(1, 0)),
        // 80 bytes and the newline: the limit; then one byte over it.
        format!("{}\n", event(2, 8)),
        format!("{}\n", event(3, 9)),
        format!("{}\n", event(4, 300)),
        "\n\r\n{\"x\":\"\u{e9}\"}\n".to_string(),
    ]
    .concat();
    let mut lines = body.into_bytes();
    lines.extend_from_slice(b"{\"bad\":\"\xff\"}\r\n");
    // The last line without a newline: none, at the limit, over it.
    for ending in [String::new(), event(5, 8), event(6, 9)] {
        let input = [lines.as_slice(), ending.as_bytes()].concat();
        for threads in [1, 3] {
            let options = EvalOptions {
                max_line: 80,
                threads,
                ..options(None)
            };
            let whole = run_in_pieces(&rules, &options, &input, input.len());
            assert!(
                whole.1.contains("line 3: malformed: longer than 80"),
                "{}",
                whole.1
            );
            assert!(
                whole.1.contains("line 4: malformed: longer than 80"),
                "{}",
                whole.1
            );
            assert!(
                whole.1.contains("line 8: malformed: not UTF-8"),
                "{}",
                whole.1
            );
            let matches = whole.0.matches("\"kind\":\"match\"").count();
            assert_eq!(matches, 2 + usize::from(ending.len() == 80), "{}", whole.0);
            for capacity in (1..=90).chain([200, 400]) {
                let pieces = run_in_pieces(&rules, &options, &input, capacity);
                assert_eq!(
                    pieces, whole,
                    "pieces of {capacity} bytes, {threads} threads"
                );
            }
        }
    }
}

#[test]
fn an_alert_body_escapes_names_and_values_and_writes_null_aggregates() {
    let alert = crate::eval::Alert {
        group: vec![
            ("user.name".into(), serde_json::json!("a\"b\\c\u{1}")),
            ("destination.port".into(), serde_json::json!(443)),
        ],
        keys: Vec::new(),
        start: 1_767_225_600,
        end: 1_767_225_660,
        values: vec![("count()".into(), Some(-3)), ("max(\"x\")".into(), None)],
        first_time: 1_767_225_601_000_000_007,
        last_time: 1_767_225_659_500_000_000,
        context: vec![
            ("url.path".into(), vec!["/a\tb".into(), "é".into()]),
            ("empty".into(), Vec::new()),
        ],
    };
    insta::assert_snapshot!(print::alert_body(&alert), @r#""group":{"user.name":"a\"b\\c\u0001","destination.port":443},"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z"},"count()":-3,"max(\"x\")":null,"first_time":"2026-01-01T00:00:01.000000007Z","last_time":"2026-01-01T00:00:59.5Z","context":{"url.path":["/a\tb","é"],"empty":[]}"#);
}
