//! Throughput of the reference evaluator: generates 1,000,000 realistic ECS
//! events (DNS, network, web, authentication, marked by `event.dataset`)
//! and runs a pack of 25 representative rules over them, as `tripline eval`
//! does. Run: `cargo bench --bench eval` (prints events/s and MB/s).
//! `EVAL_BENCH_EVENTS=N` and `EVAL_BENCH_ROUNDS=N` shrink the run (for
//! callgrind); `EVAL_BENCH_ONLY=engine` skips the parse yardsticks.
//! `EVAL_BENCH_LIMITS=streaming` runs with `eval`'s limits (windows closed
//! as the stream advances, after each rule's delay) instead of closing
//! every window at the end. `EVAL_BENCH_STEP=S` makes every threshold
//! window hop by S seconds (when S divides it): version 2 hopping windows.

use std::path::PathBuf;
use std::time::Instant;

use tripline::eval::{Engine, Limits, Output, Routing};
use tripline::ir::*;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn field(path: &str) -> Field {
    let ty = match path {
        "source.port" | "destination.port" | "http.response.status_code" => FieldType::Int,
        "source.ip" | "destination.ip" => FieldType::Ip,
        _ => FieldType::String,
    };
    Field {
        path: path.into(),
        ty,
        span: Default::default(),
        cased: false,
    }
}

fn pred(path: &str, operation: Operation) -> Condition {
    Condition::Predicate(Predicate {
        field: field(path),
        length: false,
        operation,
        span: Default::default(),
    })
}

fn is_in(path: &str, values: &[&str]) -> Condition {
    let values = values
        .iter()
        .map(|v| Literal::String(v.to_string()))
        .collect();
    pred(path, Operation::Equals { values, list: None })
}

fn port(path: &str, values: &[i64]) -> Condition {
    let values = values.iter().map(|v| Literal::Int(*v)).collect();
    pred(path, Operation::Equals { values, list: None })
}

fn text(path: &str, op: TextOp, values: &[&str]) -> Condition {
    let values = values.iter().map(|v| v.to_string()).collect();
    pred(
        path,
        Operation::Text {
            op,
            values,
            all: false,
            list: None,
        },
    )
}

fn regex(path: &str, pattern: &str) -> Condition {
    pred(
        path,
        Operation::Regex {
            pattern: pattern.into(),
            case_insensitive: true,
        },
    )
}

fn internal(path: &str) -> Condition {
    let blocks = [
        ("10.0.0.0", 8),
        ("172.16.0.0", 12),
        ("192.168.0.0", 16),
        ("fc00::", 7),
    ]
    .iter()
    .filter_map(|(n, p)| {
        Some(IpBlock {
            network: n.parse().ok()?,
            prefix: *p,
        })
    })
    .collect();
    pred(path, Operation::Cidr { blocks, list: None })
}

fn not(c: Condition) -> Condition {
    Condition::Not(Box::new(c))
}

fn threshold(by: &[&str], distinct: Option<&str>, window: u64, value: i64) -> Option<Threshold> {
    Some(Threshold {
        by: by.iter().map(|f| field(f)).collect(),
        window,
        step: std::env::var("EVAL_BENCH_STEP")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&s| s > 0 && window.is_multiple_of(s)),
        step_span: Default::default(),
        having: Having::Compare {
            aggregate: distinct.map_or(Aggregate::Count, |f| Aggregate::Distinct(field(f))),
            comparison: Comparison::Ge,
            value,
            span: Default::default(),
        },
        span: Default::default(),
    })
}

fn rule(name: &str, source: &str, condition: Condition, threshold: Option<Threshold>) -> Rule {
    Rule {
        name: name.into(),
        file: Default::default(),
        path: PathBuf::from("rules/bench.trip"),
        span: Default::default(),
        meta: Meta {
            title: name.into(),
            id: "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11".into(),
            status: Status::Stable,
            level: Level::High,
            techniques: vec![],
            tactics: vec![],
            author: None,
            date: None,
            modified: None,
            version: None,
            description: String::new(),
            references: vec![],
            falsepositives: vec![],
            tags: vec![],
        },
        source: source.into(),
        more_sources: Vec::new(),
        condition,
        detection: threshold.map_or(Detection::Match, Detection::Aggregation),
        schedule: Schedule {
            every: 300,
            every_span: None,
            lookback: 300,
            delay: 300,
        },
        playbook: Playbook::default(),
        alert: tripline::ir::Alert {
            title: vec![],
            risk: vec![],
            threats: vec![],
            context: vec![],
            notable: true,
        },
        tests: vec![],
    }
}

fn pack() -> Vec<Rule> {
    use Condition::{And, Or};
    let scanners = [
        "nmap",
        "masscan",
        "zgrab",
        "nikto",
        "sqlmap",
        "gobuster",
        "dirbuster",
        "wpscan",
    ];
    vec![
        rule(
            "axfr",
            "dns",
            And(vec![
                is_in("dns.question.type", &["AXFR", "IXFR"]),
                not(internal("source.ip")),
            ]),
            None,
        ),
        rule(
            "recon_sites",
            "dns",
            is_in(
                "dns.question.name",
                &[
                    "dnsdumpster.com",
                    "viewdns.info",
                    "securitytrails.com",
                    "shodan.io",
                    "censys.io",
                    "crt.sh",
                    "hunter.io",
                    "spyse.com",
                    "zoomeye.org",
                    "fofa.info",
                ],
            ),
            None,
        ),
        rule(
            "long_label",
            "dns",
            regex("dns.question.name", r"^[a-z0-9]{40,}\."),
            None,
        ),
        rule(
            "txt_burst",
            "dns",
            is_in("dns.question.type", &["TXT"]),
            threshold(&["source.ip"], None, 300, 50),
        ),
        rule(
            "nxdomain_burst",
            "dns",
            is_in("dns.response_code", &["NXDOMAIN"]),
            threshold(&["source.ip"], Some("dns.question.name"), 300, 100),
        ),
        rule(
            "any_query",
            "dns",
            And(vec![
                is_in("dns.question.type", &["ANY"]),
                not(internal("source.ip")),
            ]),
            None,
        ),
        rule(
            "ptr_sweep",
            "dns",
            text("dns.question.name", TextOp::EndsWith, &[".in-addr.arpa"]),
            threshold(&["source.ip"], None, 60, 200),
        ),
        rule(
            "port_scan",
            "network",
            And(vec![
                is_in("event.action", &["deny", "drop", "reject"]),
                not(internal("source.ip")),
            ]),
            threshold(&["source.ip"], Some("destination.port"), 300, 25),
        ),
        rule(
            "whois",
            "network",
            port("destination.port", &[43]),
            threshold(&["source.ip"], None, 300, 20),
        ),
        rule(
            "snmp_ext",
            "network",
            And(vec![
                port("destination.port", &[161, 162]),
                not(internal("source.ip")),
            ]),
            None,
        ),
        rule(
            "smb_ext",
            "network",
            And(vec![
                port("destination.port", &[139, 445]),
                not(internal("source.ip")),
                internal("destination.ip"),
            ]),
            None,
        ),
        rule(
            "high_ports",
            "network",
            And(vec![
                pred(
                    "destination.port",
                    Operation::Compare {
                        op: Ordering::Gt,
                        value: 60000,
                    },
                ),
                is_in("network.transport", &["udp"]),
            ]),
            threshold(&["source.ip", "destination.ip"], None, 600, 500),
        ),
        rule(
            "ldap_ext",
            "network",
            And(vec![
                port("destination.port", &[389, 636, 3268]),
                not(internal("source.ip")),
            ]),
            None,
        ),
        rule(
            "scanner_ua",
            "web",
            text("user_agent.original", TextOp::Contains, &scanners),
            None,
        ),
        rule(
            "admin_paths",
            "web",
            text(
                "url.path",
                TextOp::StartsWith,
                &[
                    "/wp-admin",
                    "/phpmyadmin",
                    "/admin",
                    "/manager/html",
                    "/.git",
                    "/.env",
                ],
            ),
            None,
        ),
        rule(
            "backup_files",
            "web",
            text(
                "url.path",
                TextOp::Like,
                &["*.bak", "*.sql", "*.tar.gz", "*~", "*.old"],
            ),
            None,
        ),
        rule(
            "traversal",
            "web",
            Or(vec![
                text(
                    "url.original",
                    TextOp::Contains,
                    &["../", "..%2f", "%2e%2e"],
                ),
                regex("url.query", r"(\.\./){2,}"),
            ]),
            None,
        ),
        rule(
            "dir_brute",
            "web",
            port("http.response.status_code", &[404]),
            threshold(&["source.ip"], Some("url.path"), 300, 50),
        ),
        rule(
            "sqli",
            "web",
            regex("url.query", r"union\s+select|sleep\(\d+\)|or\s+1=1"),
            None,
        ),
        rule(
            "methods",
            "web",
            is_in(
                "http.request.method",
                &["TRACE", "TRACK", "PROPFIND", "DEBUG"],
            ),
            None,
        ),
        rule(
            "spray",
            "authentication",
            is_in("event.outcome", &["failure"]),
            threshold(&["source.ip"], Some("user.name"), 600, 10),
        ),
        rule(
            "brute",
            "authentication",
            is_in("event.outcome", &["failure"]),
            threshold(&["user.name"], None, 300, 20),
        ),
        rule(
            "legacy_auth",
            "authentication",
            And(vec![
                is_in("service.name", &["imap", "pop3", "smtp"]),
                is_in("event.outcome", &["success"]),
                not(internal("source.ip")),
            ]),
            None,
        ),
        rule(
            "enum_users",
            "authentication",
            is_in("error.code", &["0xC0000064", "50034", "UserNotFound"]),
            threshold(&["source.ip"], Some("user.name"), 600, 20),
        ),
        rule(
            "odd_agent",
            "authentication",
            text(
                "user_agent.original",
                TextOp::Contains,
                &["python-requests", "curl/", "Go-http-client"],
            ),
            None,
        ),
    ]
}

/// A deterministic generator (xorshift).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    /// An address from a pool of about 4,000 (a third internal), as real
    /// traffic repeats its sources.
    fn ip(&mut self) -> String {
        let n = self.next() % 4096;
        let n = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if n.is_multiple_of(3) {
            format!("10.{}.{}.{}", n >> 8 & 255, n >> 16 & 255, n >> 24 & 255)
        } else {
            format!(
                "{}.{}.{}.{}",
                1 + (n >> 8) % 223,
                n >> 16 & 255,
                n >> 24 & 255,
                n >> 32 & 255
            )
        }
    }
}

fn events(count: usize) -> Vec<String> {
    let mut r = Random(0x9E37_79B9_7F4A_7C15);
    let names = [
        "www.example.com",
        "mail.corp.example",
        "cdn.example.net",
        "api.github.com",
        "dnsdumpster.com",
        "1.2.0.192.in-addr.arpa",
        "login.microsoftonline.com",
    ];
    let qtypes = ["A", "AAAA", "MX", "TXT", "PTR", "AXFR", "ANY", "CNAME"];
    let paths = [
        "/",
        "/index.html",
        "/wp-admin/install.php",
        "/api/v1/users",
        "/static/app.js",
        "/backup.sql",
        "/login",
    ];
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
        "curl/8.4.0",
        "python-requests/2.31",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine)",
        "okhttp/4.9",
    ];
    let users = [
        "alice",
        "bob",
        "Carol",
        "dave",
        "svc_backup",
        "administrator",
    ];
    (0..count)
        .map(|i| {
            let ts = 1_767_225_600 + i as u64 / 20;
            let time = format!("2026-01-{:02}T{:02}:{:02}:{:02}.{:03}Z", 1 + ts / 86_400 % 28, ts / 3600 % 24, ts / 60 % 60, ts % 60, i % 1000);
            match i % 4 {
                0 => format!(
                    r#"{{"@timestamp":"{time}","event":{{"dataset":"dns","kind":"event"}},"source":{{"ip":"{}","port":{}}},"destination":{{"ip":"10.0.0.53"}},"dns":{{"question":{{"name":"{}","type":"{}","class":"IN"}},"response_code":"{}","answers":[{{"data":"93.184.216.34","type":"A","ttl":300}}]}},"host":{{"name":"ns1.corp.example"}},"ecs":{{"version":"8.11.0"}}}}"#,
                    r.ip(), 1024 + r.next() % 60000, r.pick(&names), r.pick(&qtypes), r.pick(&["NOERROR", "NXDOMAIN", "SERVFAIL"])
                ),
                1 => format!(
                    r#"{{"@timestamp":"{time}","event":{{"dataset":"network","action":"{}"}},"source":{{"ip":"{}","port":{}}},"destination":{{"ip":"{}","port":{}}},"network":{{"transport":"{}","protocol":"{}","bytes":{}}},"observer":{{"name":"fw-edge-01","vendor":"Example"}}}}"#,
                    r.pick(&["allow", "deny", "drop"]), r.ip(), 1024 + r.next() % 60000, r.ip(), r.pick(&["443", "80", "22", "445", "43", "161", "65000"]), r.pick(&["tcp", "udp"]), r.pick(&["http", "tls", "ssh", "dns"]), r.next() % 100000
                ),
                2 => format!(
                    r#"{{"@timestamp":"{time}","event":{{"dataset":"web"}},"source":{{"ip":"{}"}},"http":{{"request":{{"method":"{}","referrer":"https://www.example.com/"}},"response":{{"status_code":{},"body":{{"bytes":{}}}}}}},"url":{{"path":"{}","query":"id={}&q=test","original":"/x?id=1","domain":"www.example.com"}},"user_agent":{{"original":"{}"}},"destination":{{"ip":"10.0.1.10"}}}}"#,
                    r.ip(), r.pick(&["GET", "POST", "HEAD", "PUT"]), r.pick(&["200", "404", "301", "500"]), r.next() % 50000, r.pick(&paths), r.next() % 1000, r.pick(&agents)
                ),
                _ => format!(
                    r#"{{"@timestamp":"{time}","event":{{"dataset":"authentication","outcome":"{}","reason":"bad password"}},"source":{{"ip":"{}"}},"user":{{"name":"{}","domain":"CORP"}},"error":{{"code":"{}"}},"service":{{"name":"{}"}},"user_agent":{{"original":"{}"}}}}"#,
                    r.pick(&["success", "failure", "failure"]), r.ip(), r.pick(&users), r.pick(&["50126", "50034", "0xC0000064"]), r.pick(&["vpn", "imap", "sso", "smtp"]), r.pick(&agents)
                ),
            }
        })
        .collect()
}

fn main() {
    let lines = events(env_number("EVAL_BENCH_EVENTS", 1_000_000));
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let rules = pack();
    let sources = [
        "dns",
        "network",
        "web",
        "proxy",
        "authentication",
        "process",
    ]
    .map(String::from)
    .to_vec();
    for round in 0..env_number("EVAL_BENCH_ROUNDS", 3) {
        let routing = Routing::by_field(Routing::DEFAULT_FIELD, sources.clone());
        let limits = match std::env::var("EVAL_BENCH_LIMITS").as_deref() {
            Ok("streaming") => Limits::streaming(None),
            _ => Limits::UNBOUNDED,
        };
        let Ok(mut engine) = Engine::with_limits(&rules, routing, &limits) else {
            eprintln!("the bench pack does not compile");
            return;
        };
        let (mut matches, mut alerts) = (0u64, 0u64);
        let start = Instant::now();
        let mut count = |out: Output<'_>| match out {
            Output::Match { .. } => matches += 1,
            Output::Alert { .. } => alerts += 1,
        };
        for line in &lines {
            engine.process(line, &mut count);
        }
        engine.finish(&mut count);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "round {round}: {} events ({:.0} MB) in {secs:.3} s: {:.0} events/s, {:.1} MB/s; {matches} matches, {alerts} alerts",
            lines.len(),
            bytes as f64 / 1e6,
            lines.len() as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
    }
    if std::env::var("EVAL_BENCH_ONLY").is_ok_and(|v| v == "engine") {
        return;
    }
    let routing = Routing::by_field(Routing::DEFAULT_FIELD, sources.clone());
    if let Ok(engine) = Engine::new(&rules, routing, None) {
        let start = Instant::now();
        let parsed = lines
            .iter()
            .filter(|line| engine.parse(line).is_ok())
            .count();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "pruned parse alone: {:.0} lines/s ({parsed} ok)",
            lines.len() as f64 / secs
        );
    }
    let parse_start = Instant::now();
    let mut ok = 0usize;
    for line in &lines {
        ok += usize::from(serde_json::from_str::<serde_json::Value>(line).is_ok());
    }
    let secs = parse_start.elapsed().as_secs_f64();
    println!(
        "baseline serde_json::Value parse: {:.0} lines/s ({ok} ok)",
        lines.len() as f64 / secs
    );
}
