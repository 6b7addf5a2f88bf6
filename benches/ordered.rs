//! Throughput and peak memory of order-dependent detections against a
//! hopping-window threshold on the same stream: 1,000,000 generated
//! authentication events (4,000 source addresses, 2,000 users, two thirds
//! failures, times increasing ~20 ms apart over about 5.5 hours, a tenth
//! of them up to 30 s out of order), run as `tripline eval` runs them
//! (`eval`'s limits: windows closed and events taken in time order after
//! each rule's 5-minute delay). Each rule runs alone in a child process
//! that generates its events on the fly, so the child's peak resident
//! memory (`VmHWM`) is the engine's state plus a small constant.
//! Run: `cargo bench --bench ordered`; `ORDERED_BENCH_EVENTS=N` shrinks it.

use std::process::Command;
use std::time::Instant;

use tripline::eval::{Engine, Limits, Output, Routing};
use tripline::source::{FileId, SourceFile, SourceMap};

const HEAD: &str = r#"  id "0b5c1a8e-2f7d-4c59-9a51-3c7f0d6e9b11"
  level high
  attack T1110
  description "bench"
  from authentication
"#;

/// The rules compared, by name: each a `where` and a detection.
const RULES: [(&str, &str); 4] = [
    (
        "tumbling",
        r#"where event.outcome == "failure"
  threshold count() by source.ip over 10m >= 40"#,
    ),
    (
        "hopping",
        r#"where event.outcome == "failure"
  threshold count() by source.ip over 10m step 1m >= 40"#,
    ),
    (
        "sequence",
        r#"where exists(user.name)
  sequence by source.ip, user.name within 5m {
    5 where event.outcome == "failure"
    then where event.outcome == "success"
  }"#,
    ),
    (
        "first_seen",
        r#"where event.outcome == "success"
  first seen user.name, source.ip in 30d"#,
    ),
];

fn rule(name: &str) -> Option<tripline::ir::Rule> {
    let (_, body) = RULES.iter().find(|(n, _)| *n == name)?;
    let text = format!("rule {name} {{\n  title \"{name}\"\n{HEAD}  {body}\n}}\n");
    let mut map = SourceMap::default();
    let id: FileId = map.add(SourceFile::new("bench.trip", text.as_str()));
    let (file, errors) = tripline::syntax::parse(id, &text);
    let checked = tripline::check::check(&map, &[(id, &file)]);
    if !errors.is_empty() || checked.diagnostics.iter().any(|d| d.is_error()) {
        eprintln!(
            "rule {name} does not check: {errors:?} {:?}",
            checked.diagnostics
        );
        return None;
    }
    checked.pack.rules.into_iter().next()
}

/// A small deterministic generator (xorshift).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The `i`-th event into `line`.
fn event(i: u64, r: &mut Random, line: &mut String) {
    use std::fmt::Write;
    let jitter = if r.next().is_multiple_of(10) {
        r.next() % 30_000
    } else {
        0
    };
    let millis = 1_767_225_600_000 + i * 20 - jitter;
    let ip = r.next() % 4_000;
    let user = (ip * 7 + r.next() % 3) % 2_000;
    let outcome = if r.next().is_multiple_of(3) {
        "success"
    } else {
        "failure"
    };
    line.clear();
    let _ = write!(
        line,
        r#"{{"@timestamp":{millis},"event":{{"dataset":"authentication","outcome":"{outcome}"}},"source":{{"ip":"10.{}.{}.{}"}},"user":{{"name":"user{user}"}},"service":{{"name":"vpn"}}}}"#,
        ip >> 16,
        (ip >> 8) & 255,
        ip & 255
    );
}

/// Peak resident memory of this process, in kB (Linux).
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs one rule over the events; prints one line of results.
fn child(name: &str, events: u64) {
    let Some(rule) = rule(name) else { return };
    let limits = Limits::streaming(None);
    let routing = Routing::Fixed("authentication".into());
    let Ok(mut engine) = Engine::with_limits(&[rule], routing, &limits) else {
        eprintln!("rule {name} does not compile");
        return;
    };
    let before = peak_kb().unwrap_or(0);
    let mut alerts = 0u64;
    let mut late = 0u64;
    let mut count = |out: Output<'_>| {
        if let Output::Alert { .. } = out {
            alerts += 1;
        }
    };
    let mut r = Random(0x9e37_79b9_7f4a_7c15);
    let mut line = String::new();
    let start = Instant::now();
    for i in 0..events {
        event(i, &mut r, &mut line);
        late += u64::from(engine.process(&line, &mut count).late);
    }
    engine.finish(&mut count);
    let secs = start.elapsed().as_secs_f64();
    let peak = peak_kb().unwrap_or(0);
    println!(
        "{name:<10} {events} events in {secs:.2} s: {:>9.0} events/s; {alerts} alerts, {late} late; peak RSS {:.1} MB ({:.1} MB over the start)",
        events as f64 / secs,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0
    );
}

fn main() {
    let events = std::env::var("ORDERED_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000u64);
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        if let Some(name) = args.get(at + 1) {
            child(name, events);
        }
        return;
    }
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    for (name, _) in RULES {
        match Command::new(&me).args(["--child", name]).status() {
            Ok(status) if status.success() => {}
            other => eprintln!("{name}: {other:?}"),
        }
    }
}
