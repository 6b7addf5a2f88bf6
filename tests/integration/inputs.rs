//! `tripline eval` on EVTX, syslog and CEF (samples written by
//! `tests/fixtures/inputs/generate.py`, each beside its JSON Lines
//! equivalent as a shipper writes it), and routing by the dataset names
//! real shippers write.

use crate::support::tripline;

/// The rules the samples are run with.
const PACK: &str = "tests/fixtures/inputs/rules";
/// Where the samples are.
const SAMPLES: &str = "tests/fixtures/inputs";

/// stdout without the events matches carry (their spelling differs between
/// a format and its JSON Lines equivalent; the rule, line and alerts not).
fn verdicts(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|line| match line.find(",\"event\":") {
            Some(at) if line.starts_with("{\"kind\":\"match\"") => format!("{}}}", &line[..at]),
            _ => line.to_string(),
        })
        .collect()
}

#[test]
fn each_sample_gives_the_matches_and_alerts_of_its_json_lines_equivalent() {
    // (sample, equivalent, matches, alerts): the counts keep the test from
    // passing on two empty outputs.
    let samples = [
        ("windows.evtx", "windows.jsonl", 5, 1),
        ("syslog.log", "syslog.jsonl", 0, 1),
        ("cef.log", "cef.jsonl", 2, 0),
    ];
    for (sample, equivalent, matches, alerts) in samples {
        let native = tripline(&["eval", "--rules", PACK, &format!("{SAMPLES}/{sample}")]);
        let json = tripline(&["eval", "--rules", PACK, &format!("{SAMPLES}/{equivalent}")]);
        assert_eq!(
            (native.code, json.code),
            (0, 0),
            "{}{}",
            native.stderr,
            json.stderr
        );
        assert_eq!(verdicts(&native.stdout), verdicts(&json.stdout), "{sample}");
        let count = |kind: &str| {
            native
                .stdout
                .matches(&format!("{{\"kind\":\"{kind}\""))
                .count()
        };
        assert_eq!(
            (count("match"), count("alert")),
            (matches, alerts),
            "{sample}"
        );
        let summary = |run: &crate::support::Run| run.stderr.lines().last().map(str::to_string);
        assert_eq!(summary(&native), summary(&json), "{sample}");
        assert!(native.stderr.contains(" 0 malformed"), "{}", native.stderr);
    }
}

#[test]
fn an_evtx_record_maps_to_taxonomy_fields() {
    let run = tripline(&["eval", "--rules", PACK, &format!("{SAMPLES}/windows.evtx")]);
    let whoami = run
        .stdout
        .lines()
        .find(|l| l.contains("\"rule\":\"whoami_run\""));
    insta::assert_snapshot!(whoami.unwrap_or_default(), @r#"{"kind":"match","rule":"whoami_run","id":"3f6c2a1e-7b4d-4e8a-9c0f-1a2b3c4d5e63","title":"whoami run","line":7,"event":{"event.dataset":"windows.sysmon_operational","winlog.channel":"Microsoft-Windows-Sysmon/Operational","host.name":"WS7","event.code":"1","winlog.record_id":"7","winlog.provider_name":"Microsoft-Windows-Sysmon","@timestamp":"2026-12-07T10:02:00.0000000Z","winlog.event_data.Image":"C:\\Windows\\System32\\whoami.exe","winlog.event_data.CommandLine":"whoami /all","winlog.event_data.ParentImage":"C:\\Windows\\System32\\cmd.exe","winlog.event_data.ParentCommandLine":"cmd.exe","winlog.event_data.User":"CORP\\carol","winlog.event_data.OriginalFileName":"whoami.exe","process.executable":"C:\\Windows\\System32\\whoami.exe","process.name":"whoami.exe","process.command_line":"whoami /all","process.parent.executable":"C:\\Windows\\System32\\cmd.exe","process.parent.name":"cmd.exe","process.parent.command_line":"cmd.exe","user.name":"carol","user.domain":"CORP","process.pe.original_file_name":"whoami.exe"}}"#);
}

#[test]
fn the_format_flag_wins_over_detection() {
    // A CEF file read as syslog: each line lacks `<PRI>`.
    let run = tripline(&[
        "eval",
        "--rules",
        PACK,
        "--format",
        "syslog",
        &format!("{SAMPLES}/cef.log"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "tests/fixtures/inputs/cef.log:1:1: error[E0620]: malformed syslog record: expected `<PRI>` at the start of the line; skipped"
    );
    let bad = tripline(&["eval", "--rules", PACK, "--format", "xml", "-"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("--format `xml` is not a format; expected one of jsonl, evtx, syslog, cef"),
        "{}",
        bad.stderr
    );
}

#[test]
fn malformed_records_are_named_by_line_and_column_and_skipped() {
    let dir = tempdir();
    let path = dir.join("mixed.log");
    let lines = [
        "<86>1 2026-12-07T10:00:00Z bastion sshd 1 - - one",
        "<86>1 2026-12-07T10:00:01Z bastion",
        "<86>2026-12-07T10:00:02Z bastion sshd: two",
        "<86>Dec  7 18:07:30 bastion sshd: three",
        "<86>1 2026-12-07T10:00:03Z bastion sshd 1 - [x y=\"z] four",
    ];
    write(&path, &(lines.join("\n") + "\n"));
    let arg = path.to_string_lossy().into_owned();
    let run = tripline(&["eval", "--rules", PACK, &arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stderr = run.stderr.replace(&arg, "FILE");
    insta::assert_snapshot!(stderr, @r#"
    FILE:2:28: error[E0620]: malformed syslog record: expected HOSTNAME and a space (RFC 5424; `-` when there is none); skipped
    FILE:5:51: error[E0620]: malformed syslog record: unterminated parameter value (a `"` is missing); skipped
    tripline eval: 5 lines, 0 matches, 0 alerts; 2 malformed, 0 without a usable @timestamp, 0 unrouted, 0 late
    "#);
}

#[test]
fn evtx_on_stdin_is_held_within_its_limit_and_broken_files_are_refused() {
    let bytes = std::fs::read(format!("{SAMPLES}/windows.evtx")).unwrap_or_default();
    let run = |args: &[&str], input: Vec<u8>| {
        let output = assert_cmd::Command::cargo_bin("tripline")
            .unwrap()
            .env("NO_COLOR", "1")
            .args(args)
            .write_stdin(input)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout)
                .matches("\"kind\"")
                .count(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, lines, _) = run(&["eval", "--rules", PACK, "-"], bytes.clone());
    assert_eq!((code, lines), (0, 6));
    let (code, lines, stderr) = run(
        &["eval", "--rules", PACK, "--max-evtx-size", "64K", "-"],
        bytes.clone(),
    );
    assert_eq!((code, lines), (2, 0));
    assert!(
        stderr.contains("error[E0622]: <stdin>: EVTX input larger than the limit of 65536 bytes"),
        "{stderr}"
    );
    // A file cut inside its first chunk, and one whose records are
    // overwritten: an error or records reported malformed, never a panic.
    let (code, lines, stderr) = run(
        &["eval", "--rules", PACK, "--format", "evtx", "-"],
        bytes[..6000].to_vec(),
    );
    assert_eq!((code, lines), (0, 0), "{stderr}");
    let mut scrambled = bytes.clone();
    for (i, byte) in scrambled.iter_mut().enumerate().skip(4096 + 600).take(2000) {
        *byte = (i * 7) as u8;
    }
    let (code, _, stderr) = run(&["eval", "--rules", PACK, "-"], scrambled);
    assert!(code == 0 || code == 2, "{code} {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (code, _, stderr) = run(
        &["eval", "--rules", PACK, "--format", "evtx", "-"],
        b"ElfFile\0short".to_vec(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a readable EVTX file"), "{stderr}");
}

#[test]
fn datasets_of_real_shippers_route_through_the_table() {
    let input = [
        r#"{"event":{"dataset":"nginx.access"},"url":{"original":"/a"}}"#,
        r#"{"data_stream":{"dataset":"zeek.dns"},"dns":{"question":{"name":"x.test"}}}"#,
        r#"{"event":{"dataset":"acme.waf"},"url":{"original":"/b"}}"#,
        r#"{"event":{"dataset":"zeek.http"},"url":{"original":"/c"}}"#,
        r#"{"event":{"dataset":"WEB"},"data_stream":{"dataset":"zeek.dns"},"url":{"original":"/d"}}"#,
        r#"{"event":{"dataset":"custom.thing"},"url":{"original":"/e"}}"#,
    ]
    .join("\n");
    let run = |args: &[&str]| {
        let output = assert_cmd::Command::cargo_bin("tripline")
            .unwrap()
            .env("NO_COLOR", "1")
            .args(args)
            .write_stdin(input.clone())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let hits: Vec<String> = stdout
            .lines()
            .filter_map(|l| {
                let rule = l.split("\"rule\":\"").nth(1)?.split('"').next()?;
                let line = l.split("\"line\":").nth(1)?.split(',').next()?;
                Some(format!("{line} {rule}"))
            })
            .collect();
        (hits, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    // The pack's [eval.routes] adds acme.waf and sends zeek.http to proxy;
    // event.dataset decides before data_stream.dataset.
    let (hits, _) = run(&["eval", "--rules", "tests/fixtures/inputs/routed", "-"]);
    assert_eq!(
        hits,
        [
            "1 any_web",
            "2 any_dns",
            "3 any_web",
            "4 any_proxy",
            "5 any_web"
        ]
    );
    // --route wins over the manifest.
    let (hits, stderr) = run(&[
        "eval",
        "--rules",
        "tests/fixtures/inputs/routed",
        "--route",
        "zeek.http=web",
        "--route",
        "custom.thing=proxy",
        "-",
    ]);
    assert_eq!(
        hits,
        [
            "1 any_web",
            "2 any_dns",
            "3 any_web",
            "4 any_web",
            "5 any_web",
            "6 any_proxy"
        ]
    );
    assert!(stderr.contains(" 0 unrouted"), "{stderr}");
    let (_, stderr) = run(&[
        "eval",
        "--rules",
        "tests/fixtures/inputs/routed",
        "--route",
        "x=nope",
        "-",
    ]);
    assert!(
        stderr.contains("--route `x=nope`: `nope` is not a source"),
        "{stderr}"
    );
}

/// Windows datasets carry events of several sources: `event.code` routes
/// Security 4688 to `process` and Sysmon 3 to `network`; other codes take
/// the dataset's route (Security: `authentication`; Sysmon: `process`).
#[test]
fn windows_events_route_by_their_event_code() {
    let input = [
        r#"{"@timestamp":"2026-12-07T10:00:00Z","event":{"dataset":"windows.security","code":"4688"},"process":{"name":"whoami.exe"}}"#,
        r#"{"@timestamp":"2026-12-07T10:00:01Z","event":{"dataset":"windows.security","code":"4624","outcome":"success"},"process":{"name":"whoami.exe"}}"#,
        r#"{"@timestamp":"2026-12-07T10:00:02Z","event":{"dataset":"windows.sysmon_operational","code":"3","action":"allowed"},"source":{"ip":"203.0.113.9"},"destination":{"port":445}}"#,
        r#"{"@timestamp":"2026-12-07T10:00:03Z","event":{"dataset":"windows.sysmon_operational","code":"1"},"process":{"name":"whoami.exe"},"destination":{"port":445},"source":{"ip":"203.0.113.9"}}"#,
    ]
    .join("\n");
    let output = assert_cmd::Command::cargo_bin("tripline")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["eval", "--rules", PACK, "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let hits: Vec<String> = verdicts(&stdout)
        .iter()
        .filter_map(|l| {
            let rule = l.split("\"rule\":\"").nth(1)?.split('"').next()?;
            let line = l.split("\"line\":").nth(1)?.split([',', '}']).next()?;
            Some(format!("{line} {rule}"))
        })
        .collect();
    assert_eq!(
        hits,
        ["1 whoami_run", "3 smb_from_outside", "4 whoami_run"],
        "{stdout}"
    );
}

#[test]
fn a_route_to_an_unknown_source_is_an_error_in_the_manifest() {
    let run = tripline(&["eval", "--rules", "tests/fixtures/inputs/bad-route", "-"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stderr, @r#"
    error[E0621]: `acme.waf` routes to `webb`, which is not a source
     --> tests/fixtures/inputs/bad-route/tripline.toml:5:14
      |
    5 | "acme.waf" = "webb"
      |              ^^^^^^
      |
    help: did you mean `web`? the sources are dns, network, web, proxy, authentication, process, email, ldap, file, registry

    1 error, 0 warnings in 1 file
    "#);
    // `check` reports it too, as every command that reads the pack does.
    let check = tripline(&["check", "tests/fixtures/inputs/bad-route"]);
    assert_eq!(check.code, 1);
    assert_eq!(check.stderr, run.stderr);
}

#[test]
fn unrouted_events_are_summarised_once_per_value() {
    let mut lines = Vec::new();
    for i in 0..50 {
        lines.push(format!(r#"{{"event":{{"dataset":"zeek.weird"}},"n":{i}}}"#));
    }
    for _ in 0..3 {
        lines.push(r#"{"event":{"dataset":"okta.other"}}"#.to_string());
    }
    lines.push(r#"{"event":{"dataset":["dns"]}}"#.to_string());
    let output = assert_cmd::Command::cargo_bin("tripline")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["eval", "--rules", "tests/fixtures/inputs/routed", "-"])
        .write_stdin(lines.join("\n"))
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr), @r#"
    note: unrouted events: 54 (their dataset is neither a source nor a route), by dataset:
      zeek.weird: 50, lines 1, 2, 3, 4, 5, ... (route with --route zeek.weird=SOURCE, or `"zeek.weird" = "SOURCE"` under [eval.routes] in tripline.toml)
      okta.other: 3, lines 51, 52, 53 (route with --route okta.other=SOURCE, or `"okta.other" = "SOURCE"` under [eval.routes] in tripline.toml)
      <array>: 1, line 54 (not a name: no route applies)
    tripline eval: 54 lines, 0 matches, 0 alerts; 0 malformed, 0 without a usable @timestamp, 54 unrouted, 0 late
    "#);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn syslog_year_gives_rfc_3164_times_their_year() {
    let dir = tempdir();
    let path = dir.join("bsd.log");
    write(
        &path,
        "<86>Dec  7 18:07:30 bastion sshd[7]: Failed password\n",
    );
    let arg = path.to_string_lossy().into_owned();
    // A rule of its own that matches the line, whose match shows the time.
    let rules = dir.join("rules.trip");
    write(
        &rules,
        concat!(
            "rule any_sshd {\n  title \"sshd\"\n",
            "  id \"6b1d3f0e-1111-4a4e-9c0f-1a2b3c4d5e60\"\n  level low\n  attack T1589.001\n",
            "  description \"Any sshd line.\"\n  from authentication\n",
            "  where host.name == \"bastion\"\n",
            "  test \"sshd\" {\n    event { host.name: \"bastion\" }\n    expect match\n  }\n}\n",
        ),
    );
    let rules = rules.to_string_lossy().into_owned();
    let run = tripline(&[
        "eval",
        "--rules",
        &rules,
        "--source",
        "authentication",
        "--syslog-year",
        "2019",
        &arg,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(r#""@timestamp":"2019-12-07T18:07:30Z""#),
        "{}",
        run.stdout
    );
    let bad = tripline(&["eval", "--rules", &rules, "--syslog-year", "19x", &arg]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("--syslog-year expects a year from 0 to 9999, found `19x`"),
        "{}",
        bad.stderr
    );
}
