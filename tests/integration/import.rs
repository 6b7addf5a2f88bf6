//! `tripline import sigma` end to end: the bundled pack's Sigma imports
//! back to rules whose Sigma equals it, a sample of SigmaHQ rules imports
//! or is refused with the construct named, each modifier lands on its
//! operator, and hostile or unexpressible input is refused per rule with
//! its position.

use crate::support::{Run, tripline};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/sigma-import";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `refused: FILE:LINE:COL: CONSTRUCT: ...` lines, as (file name, line:col, construct start).
/// `tripline import sigma PATHS --out OUT EXTRA...`.
fn import_sigma(paths: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["import", "sigma", paths, "--out", s(out)];
    args.extend_from_slice(extra);
    tripline(&args)
}

fn refusals(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("refused: "))
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let file = Path::new(parts.next().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let line = parts.next().unwrap();
            let column = parts.next().unwrap();
            let construct = parts
                .next()
                .unwrap()
                .trim()
                .split(':')
                .next()
                .unwrap()
                .to_string();
            (format!("{file}:{line}:{column}"), construct)
        })
        .collect()
}

#[test]
fn the_packs_sigma_imports_back_to_the_same_sigma() {
    let dir = scratch("roundtrip");
    let first = dir.join("first");
    let imported = dir.join("imported");
    let second = dir.join("second");
    let build = tripline(&[
        "build",
        "rules",
        "--target",
        "sigma",
        "--out",
        s(&first),
        "--no-test",
    ]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let import = import_sigma(s(&first.join("sigma")), &imported, &[]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(refusals(&import.stderr).is_empty(), "{}", import.stderr);
    let check = tripline(&["check", s(&imported)]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let rebuild = tripline(&[
        "build",
        s(&imported),
        "--target",
        "sigma",
        "--out",
        s(&second),
        "--no-test",
    ]);
    assert_eq!(rebuild.code, 0, "{}", rebuild.stderr);
    let original = files(&first.join("sigma"));
    assert!(
        original.len() > 20,
        "the pack builds {} Sigma files",
        original.len()
    );
    assert_eq!(original, files(&second.join("sigma")));
    // Importing twice writes the same text (deterministic, and fmt-clean).
    let again = dir.join("again");
    import_sigma(s(&first.join("sigma")), &again, &[]);
    assert_eq!(files(&imported), files(&again));
    let fmt = tripline(&["fmt", "--check", s(&imported)]);
    assert_eq!(fmt.code, 0, "{}", fmt.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigmahq_rules_import_or_are_refused_by_construct() {
    let out = scratch("sigmahq");
    let run = import_sigma(&format!("{FIXTURES}/sigmahq"), &out, &["--skip-refused"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let imported: Vec<String> = files(&out).into_keys().collect();
    assert_eq!(
        imported,
        [
            "file_event_win_hktl_crackmapexec_indicators.trip",
            "file_event_win_lsass_shtinkering.trip",
            "file_event_win_ntds_dit_uncommon_process.trip",
            "file_event_win_office_startup_persistence.trip",
            "file_event_win_sysinternals_procexp_driver_susp_creation.trip",
            "file_event_win_sysinternals_procmon_driver_susp_creation.trip",
            "file_event_win_taskmgr_lsass_dump.trip",
            "file_event_win_uac_bypass_wmp.trip",
            "proc_creation_win_chcp_codepage_lookup.trip",
            "proc_creation_win_curl_ntlm_hash_leak_attempt.trip",
            "proc_creation_win_lolbin_replace.trip",
            "proc_creation_win_rundll32_uncommon_dll_extension.trip",
            "proc_creation_win_xwizard_execution_non_default_location.trip",
            "web_path_traversal_exploitation_attempt.trip",
            "web_susp_useragents.trip",
            "web_susp_windows_path_uri.trip",
        ]
    );
    let expected = [
        (
            "win_security_mitigations_unsigned_dll_from_susp_location.yml:17:5",
            "log source {product",
        ),
        (
            "win_hybridconnectionmgr_svc_running.yml:14:5",
            "log source {product",
        ),
        (
            "win_alert_mimikatz_keywords.yml:21:5",
            "log source {product",
        ),
        (
            "dns_query_win_cloudflared_communication.yml:20:5",
            "log source {category",
        ),
        (
            "file_delete_win_delete_own_image.yml:11:5",
            "a rule without an `attack.tNNNN` tag",
        ),
        (
            "proc_creation_win_browsers_tor_execution.yml:19:11",
            "field `Product`",
        ),
        (
            "proc_creation_win_conhost_legacy_option.yml:20:9",
            "field `IntegrityLevel`",
        ),
        (
            "proc_creation_win_powershell_base64_mppreference.yml:14:7",
            "tag `attack.t1685`",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(refusals(&run.stderr), expected);
    assert!(
        run.stderr.contains("imported 16 rules, refused 8"),
        "{}",
        run.stderr
    );
    // Every written file checks.
    let check = tripline(&["check", s(&out)]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    // windash expands to its five dashes, and the Sigma escapes are kept.
    let chcp =
        std::fs::read_to_string(out.join("proc_creation_win_chcp_codepage_lookup.trip")).unwrap();
    assert!(
        chcp.contains(r#"process.parent.executable endswith "\\cmd.exe""#),
        "{chcp}"
    );
    assert!(
        chcp.contains(r#"" -c ", " /c ", " –c ", " —c ", " ―c ""#),
        "{chcp}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn each_modifier_lands_on_its_operator() {
    let out = scratch("constructs");
    let run = import_sigma(&format!("{FIXTURES}/constructs"), &out, &["--skip-refused"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rule = std::fs::read_to_string(out.join("modifiers.trip")).unwrap();
    for expected in [
        "attack T1059.001",
        r#"tags ["cve.2026-0001"]"#,
        r#"date "2026-12-07""#,
        "from process",
        // base64offset of "IEX": pySigma's three offsets.
        r#"process.command_line contains ["SUVY", "lFW", "JRV"]"#,
        r#"process.command_line contains all ["powershell", "hidden"]"#,
        // `$` also matches before a final newline in PCRE: a newline may precede it.
        r#"process.command_line matches "(?i)\\.ps1\n?$""#,
        // `\\*` is a backslash then a wildcard; `\*` a literal star.
        r#"process.executable like "C:\\\\Users\\\\*\\\\AppData\\\\*.exe""#,
        r#"process.executable endswith "\\a*b.exe""#,
        r#"not user.name cased == "SYSTEM""#,
        // `not f: null and not f: ''` is `exists(f)`.
        "and exists(process.parent.command_line)",
    ] {
        assert!(rule.contains(expected), "missing {expected} in\n{rule}");
    }
    let correlation = std::fs::read_to_string(out.join("correlation.trip")).unwrap();
    assert!(
        correlation.contains("threshold distinct(user.name) by source.ip over 1h >= 10"),
        "{correlation}"
    );
    assert!(
        correlation.contains(r#"where event.outcome == "failure""#),
        "{correlation}"
    );
    // temporal_ordered: a sequence of the rules' detections, in order.
    let sequence = std::fs::read_to_string(out.join("failure_then_success.trip")).unwrap();
    assert!(
        sequence.contains(
            "  sequence by user.name, source.ip within 10m {\n    where event.outcome == \"failure\"\n    then where event.outcome == \"success\"\n  }"
        ),
        "{sequence}"
    );
    // ...which alerts on a failure then a success of one user, not on a
    // success before the failure.
    let events = out.join("logons.jsonl");
    std::fs::write(
        &events,
        [
            ("10:00:00", "success", "bob"),
            ("10:01:00", "failure", "bob"),
            ("10:01:00", "failure", "ann"),
            ("10:02:00", "success", "ann"),
        ]
        .map(|(time, outcome, user)| {
            format!(
                r#"{{"@timestamp":"2026-12-07T{time}Z","event":{{"outcome":"{outcome}"}},"user":{{"name":"{user}"}},"source":{{"ip":"10.0.0.2"}}}}"#
            ) + "\n"
        })
        .concat(),
    )
    .unwrap();
    let eval = tripline(&[
        "eval",
        "--rules",
        s(&out.join("failure_then_success.trip")),
        "--source",
        "authentication",
        s(&events),
    ]);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let alerts: Vec<&str> = eval.stdout.lines().collect();
    assert_eq!(alerts.len(), 1, "{}", eval.stdout);
    assert!(
        alerts[0].contains(r#""group":{"user.name":"ann","source.ip":"10.0.0.2"}"#),
        "{}",
        eval.stdout
    );
    assert_eq!(
        refusals(&run.stderr),
        [
            ("hostile.yml:2:8", "YAML"),
            (
                "refused.yml:10:9",
                "keywords (values searched anywhere in the event)"
            ),
            ("refused.yml:22:9", "`|expand`"),
            ("refused.yml:34:22", "`process.command_line"),
            ("refused.yml:46:25", "regular expression `a(?=b)`"),
            (
                "refused.yml:57:9",
                "a `temporal_ordered` correlation over one rule"
            ),
            ("refused.yml:81:11", "correlation type `temporal`"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_refusal_writes_nothing_and_nothing_imported_exits_1() {
    let out = scratch("strict");
    let run = import_sigma(&format!("{FIXTURES}/constructs"), &out.join("x"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("nothing written"), "{}", run.stderr);
    assert!(!out.join("x").exists());
    let none = import_sigma(
        &format!("{FIXTURES}/constructs/refused.yml"),
        &out.join("y"),
        &["--skip-refused"],
    );
    assert_eq!(none.code, 1, "{}", none.stderr);
    let missing = import_sigma("no/such/file.yml", &out.join("z"), &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_taxonomy_extension_imports_the_fields_it_adds() {
    let out = scratch("extension");
    let extension = "tests/fixtures/taxonomy/smtp.yaml";
    let run = import_sigma(
        &format!("{FIXTURES}/sigmahq"),
        &out,
        &["--skip-refused", "--taxonomy", extension],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The extension names `Product` on `process`: the rule refused for it
    // without the extension now imports.
    assert!(
        run.stderr.contains("imported 17 rules, refused 7"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("field `Product`"), "{}", run.stderr);
    let tor =
        std::fs::read_to_string(out.join("proc_creation_win_browsers_tor_execution.trip")).unwrap();
    assert!(
        tor.contains(r#"process.pe.product == "Tor Browser""#),
        "{tor}"
    );
    let check = tripline(&["check", s(&out), "--taxonomy", extension]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_file_over_the_size_limit_is_an_io_error_naming_it() {
    let out = scratch("size");
    let file = format!("{FIXTURES}/constructs/modifiers.yml");
    let run = import_sigma(&file, &out.join("x"), &["--max-file-size", "512"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("modifiers.yml") && run.stderr.contains("larger than the limit"),
        "{}",
        run.stderr
    );
    assert!(!out.join("x").exists());
    std::fs::remove_dir_all(&out).unwrap();
}

/// Every rule the construct fixtures import, as written: a change in what
/// the import prints is reviewed here.
#[test]
fn construct_fixtures_print_as_pinned() {
    let out = scratch("pinned");
    let run = import_sigma(&format!("{FIXTURES}/constructs"), &out, &["--skip-refused"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(out.join(&name)).unwrap();
        insta::assert_snapshot!(format!("import_{name}"), text);
    }
    std::fs::remove_dir_all(&out).unwrap();
}

/// SigmaHQ-style regression data (`regression_tests_path`, an `info.yml`
/// naming EVTX recordings beside their JSON rendering) becomes tests that
/// pass; recordings where only some records match, and paths leaving the
/// repository, are left out with a note.
#[test]
fn regression_data_becomes_tests() {
    let out = scratch("regression");
    let run = import_sigma(&format!("{FIXTURES}/regression/rules"), &out, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("note: "))
        .collect();
    assert_eq!(notes.len(), 2, "{}", run.stderr);
    assert!(notes[0].contains("whoami.yml:14:24: `regression_tests_path`: test `Mixed recording` left out: 1 of its 2 records should match"), "{}", run.stderr);
    assert!(notes[1].contains("test `Outside the repository` left out: `../../escape.evtx` is not a relative path inside the repository"), "{}", run.stderr);
    let rule = std::fs::read_to_string(out.join("whoami.trip")).unwrap();
    insta::assert_snapshot!(rule);
    let test = tripline(&["test", s(&out)]);
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    assert!(
        test.stdout.contains("1 passed, 0 failed"),
        "{}",
        test.stdout
    );
    std::fs::remove_dir_all(&out).unwrap();
}
