//! The published-detections pack (`tests/fixtures/published/`): published
//! rules rewritten against taxonomy 1.1. The pack checks and passes its
//! tests, its README's table is its rules, and every target builds or refuses
//! each rule as the table says, by the refusal's code and the field or
//! construct it names; the pack-defined `smtp` source builds on every target
//! its extension maps.

use crate::support::{tripline, tripline_in};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const PACK: &str = "tests/fixtures/published";
const TARGETS: [&str; 5] = ["sigma", "splunk", "kql", "sql", "runbook"];

/// One row of the README's rules table.
struct Row {
    rule: String,
    file: String,
    /// Per target: the refusals (`E0701 \`field\``, `E0700 source \`ldap\``),
    /// empty when the rule builds.
    targets: BTreeMap<&'static str, BTreeSet<String>>,
}

fn unquote(cell: &str) -> String {
    cell.trim().trim_matches('`').to_string()
}

/// A target's cell: `builds`, or `refused: ` and refusals separated by `;`,
/// each its code and the backquoted field or the construct's first two
/// words, with an optional remark in parentheses after it.
fn refusals(cell: &str) -> BTreeSet<String> {
    let cell = cell.trim();
    if cell == "builds" {
        return BTreeSet::new();
    }
    let list = cell
        .strip_prefix("refused: ")
        .unwrap_or_else(|| panic!("a target cell is `builds` or `refused: ...`, not {cell:?}"));
    list.split(';')
        .map(|r| r.split(" (").next().unwrap().trim().to_string())
        .collect()
}

fn readme_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(Path::new(PACK).join("README.md")).unwrap();
    let table = text
        .split("## Rules")
        .nth(1)
        .unwrap()
        .split("## Not written")
        .next()
        .unwrap();
    let mut rows = Vec::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 10, "{line}");
        let targets = TARGETS
            .iter()
            .zip(&cells[5..])
            .map(|(target, cell)| (*target, refusals(cell)))
            .collect();
        rows.push(Row {
            rule: unquote(cells[0]),
            file: unquote(cells[1]),
            targets,
        });
    }
    rows
}

/// The rule files of the pack, by their path inside it, with the name of the
/// rule each declares.
fn pack_rules() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![Path::new(PACK).to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "trip") {
                let text = std::fs::read_to_string(&path).unwrap();
                let names: Vec<&str> = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("rule "))
                    .map(|l| l.trim_end_matches(" {"))
                    .collect();
                let relative = path.strip_prefix(PACK).unwrap();
                let relative = relative.to_str().unwrap().replace('\\', "/");
                match names.as_slice() {
                    [] => assert_eq!(relative, "lists.trip", "a file without a rule"),
                    [name] => {
                        found.insert(relative, (*name).to_string());
                    }
                    _ => panic!("{relative}: one rule a file, so a refusal names its rule"),
                }
            }
        }
    }
    found
}

/// The refusals `check --target` reports, by file inside the pack.
fn reported(target: &str) -> BTreeMap<String, BTreeSet<String>> {
    let run = tripline(&["check", "--target", target, "--format", "json", PACK]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in json["diagnostics"].as_array().unwrap() {
        if d["severity"] != "error" {
            continue;
        }
        let code = d["code"].as_str().unwrap();
        let message = d["message"].as_str().unwrap();
        let subject = match code {
            "E0701" => {
                let field = message.split("field `").nth(1).unwrap();
                format!("`{}`", field.split('`').next().unwrap())
            }
            "E0700" => {
                let construct = message.split("cannot express ").nth(1).unwrap();
                construct.split(' ').take(2).collect::<Vec<_>>().join(" ")
            }
            _ => panic!("{target}: not a refusal: {d}"),
        };
        let file = d["file"].as_str().unwrap().replace('\\', "/");
        let file = file.strip_prefix(PACK).unwrap().trim_start_matches('/');
        found
            .entry(file.to_string())
            .or_default()
            .insert(format!("{code} {subject}"));
    }
    found
}

/// Where `build --target T` (to stdout) writes a rule's main document.
fn document(target: &str, rule: &str) -> String {
    match target {
        "sigma" => format!("==> sigma/{rule}.yml <=="),
        "splunk" => format!("==> splunk/queries/{rule}.spl <=="),
        "kql" => format!("==> kql/{rule}.yaml <=="),
        "sql" => format!("==> sql/duckdb/{rule}.sql <=="),
        _ => format!("==> runbook/{rule}.md <=="),
    }
}

#[test]
fn the_published_pack_checks_is_formatted_and_passes_every_test() {
    let check = tripline(&["check", PACK]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stderr.contains("0 errors, 0 warnings"),
        "{}",
        check.stderr
    );
    let fmt = tripline(&["fmt", "--check", PACK]);
    assert_eq!(fmt.code, 0, "{}{}", fmt.stdout, fmt.stderr);
    let test = tripline(&["test", PACK]);
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    // Every rule has a test that must alert and one that must not.
    for rule in pack_rules().values() {
        let ok = test
            .stdout
            .lines()
            .filter(|l| l.starts_with(&format!("test {rule} ")) && l.ends_with(" ... ok"))
            .count();
        assert!(ok >= 2, "{rule}: {ok} tests passed\n{}", test.stdout);
    }
    assert!(test.stdout.contains(" passed, 0 failed"), "{}", test.stdout);
}

#[test]
fn the_readme_table_is_the_packs_rules() {
    let rows = readme_rows();
    let from_table: BTreeMap<String, String> = rows
        .iter()
        .map(|r| (r.file.clone(), r.rule.clone()))
        .collect();
    assert_eq!(from_table.len(), rows.len(), "a file listed twice");
    assert_eq!(from_table, pack_rules());
    // Each rule cites where it was published.
    for (file, rule) in pack_rules() {
        let text = std::fs::read_to_string(Path::new(PACK).join(&file)).unwrap();
        let references = text
            .split("\n  references [")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap_or_else(|| panic!("{rule} has no references"));
        assert!(references.contains("https://"), "{rule}: {references}");
    }
}

/// What the table says each target does with each rule is what `check
/// --target` reports, and `build` writes the rules that build and only them.
#[test]
fn each_target_builds_or_refuses_each_rule_as_the_readme_says() {
    let rows = readme_rows();
    for target in TARGETS {
        let reported = reported(target);
        for row in &rows {
            let expected = &row.targets[target];
            let got = reported.get(&row.file).cloned().unwrap_or_default();
            assert_eq!(&got, expected, "{target}: {} ({})", row.rule, row.file);
        }
        let unknown: Vec<&String> = reported
            .keys()
            .filter(|file| !rows.iter().any(|r| &r.file == *file))
            .collect();
        assert!(unknown.is_empty(), "{target}: {unknown:?}");

        let built = tripline(&["build", "--target", target, "--skip-refused", PACK]);
        assert_eq!(built.code, 0, "{target}: {}", built.stderr);
        for row in &rows {
            let header = document(target, &row.rule);
            assert_eq!(
                built.stdout.contains(&header),
                row.targets[target].is_empty(),
                "{target}: {}",
                row.rule
            );
        }
        let strict = tripline(&["build", "--target", target, PACK]);
        let any_refused = rows.iter().any(|r| !r.targets[target].is_empty());
        assert_eq!(
            strict.code,
            i32::from(any_refused),
            "{target}: {}",
            strict.stderr
        );
    }
}

/// The pack's own `smtp` source (`smtp.yaml`, named in the manifest) is
/// mapped on sigma, splunk, kql and sql, and the rule on it builds on each
/// from the file alone, in any working directory, with what each target
/// reads: Sigma's logsource and names, the Splunk macro and its base search,
/// the Sentinel custom table's columns, the SQL view's columns and routing.
/// The bundled taxonomy without the extension refuses it by name.
#[test]
fn the_pack_defined_smtp_source_builds_on_every_target_that_maps_it() {
    let extension = format!("{PACK}/smtp.yaml");
    let listed = tripline(&["taxonomy", "--format", "json", "--taxonomy", &extension]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let json: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let smtp = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "smtp")
        .unwrap();
    assert_eq!(
        smtp["targets"],
        serde_json::json!(["sigma", "splunk", "kql", "sql"])
    );

    let rule = std::fs::canonicalize(format!("{PACK}/et/smtp_vrfy_expn_root.trip")).unwrap();
    let rule = rule.to_str().unwrap();
    let elsewhere = std::env::temp_dir();
    let expected: [(&str, &[&str]); 4] = [
        (
            "sigma",
            &[
                "product: mailgateway",
                "service: smtp",
                "command:",
                "argument|startswith: 'root'",
            ],
        ),
        (
            "splunk",
            &[
                "search = (`published_smtp`) command IN (\"VRFY\", \"EXPN\")",
                "[published_smtp]\ndefinition = index=mail sourcetype=gateway:smtp\n",
            ],
        ),
        (
            "kql",
            &[
                "SmtpGateway_CL",
                "Command_s in~ (\"VRFY\", \"EXPN\")",
                "Argument_s startswith \"root\"",
            ],
        ),
        (
            "sql",
            &[
                "WHERE coalesce(lower(\"event.dataset\"), '') IN ('', 'smtp')\n  AND lower(\"smtp.command\") IN ('vrfy', 'expn')\n  AND lower(\"smtp.argument\") LIKE 'root%' ESCAPE '\\'",
                "'$.smtp.argument'",
                "AS \"smtp.reply_code\"",
                "WHERE coalesce(lower(`event.dataset`), '') IN ('', 'smtp')",
            ],
        ),
    ];
    for (target, needles) in expected {
        let built = tripline_in(&elsewhere, &["build", "--target", target, rule]);
        assert_eq!(built.code, 0, "{target}: {}", built.stderr);
        assert!(built.stderr.contains("tests: 2 passed"), "{}", built.stderr);
        for needle in needles {
            assert!(
                built.stdout.contains(needle),
                "{target}: {needle}\n{}",
                built.stdout
            );
        }
    }

    // A relative path from another folder finds the same manifest and its
    // extension.
    let relative = tripline_in(
        Path::new("tests"),
        &["test", "fixtures/published/et/smtp_vrfy_expn_root.trip"],
    );
    assert_eq!(relative.code, 0, "{}{}", relative.stdout, relative.stderr);
    assert!(
        relative.stdout.ends_with("2 passed, 0 failed\n"),
        "{}",
        relative.stdout
    );

    let runbook = tripline_in(&elsewhere, &["build", "--target", "runbook", rule]);
    assert_eq!(runbook.code, 0, "{}", runbook.stderr);

    // Outside the pack the extension is not read: the source is unknown.
    let copy = elsewhere.join(format!("tripline-published-{}.trip", std::process::id()));
    std::fs::copy(rule, &copy).unwrap();
    let alone = tripline(&["check", copy.to_str().unwrap()]);
    let _ = std::fs::remove_file(&copy);
    assert_eq!(alone.code, 1);
    assert!(
        alone.stderr.contains("unknown source `smtp`"),
        "{}",
        alone.stderr
    );
}

/// The fields taxonomy 1.2 adds for these detections are written under each
/// target's name for them: the Windows event data's own names on Sigma and
/// Splunk, CIM's `original_file_name`, ASIM's `LogonProtocol` and Defender
/// for Identity's `QueryTarget`, the view's columns on SQL.
#[test]
fn the_fields_taxonomy_1_2_adds_are_written_under_each_targets_name() {
    let rules = [
        "sigma/admin_remote_logon.trip",
        "sigma/asrep_roasting.trip",
        "sigma/whoami_parent_anomaly.trip",
        "sentinel/multiple_sensitive_ldaps.trip",
        "et/smtp_vrfy_expn_email.trip",
    ]
    .map(|r| format!("{PACK}/{r}"));
    let expected: [(&str, &[&str]); 4] = [
        (
            "sigma",
            &[
                "AuthenticationPackageName: 'Negotiate'",
                "PreAuthType: '0'",
                "OriginalFileName: 'whoami.exe'",
                "ldap.search.target:",
                "smtp.argument|startswith: 'root'",
            ],
        ),
        (
            "splunk",
            &[
                "EventCode=\"4624\" AuthenticationPackageName=\"Negotiate\"",
                "ServiceName=\"krbtgt\" PreAuthType=\"0\"",
                "lower(original_file_name)==\"whoami.exe\"",
            ],
        ),
        (
            "kql",
            &["or QueryTarget in~ (\"Administrators\", \"Domain Controllers\""],
        ),
        (
            "sql",
            &[
                "lower(\"winlog.event_data.AuthenticationPackageName\") = 'negotiate'",
                "lower(\"winlog.event_data.PreAuthType\") = '0'",
                "lower(\"process.pe.original_file_name\") = 'whoami.exe'",
                "lower(\"ldap.search.target\") IN ('administrators',",
                "lower(\"smtp.argument\") LIKE 'root%'",
            ],
        ),
    ];
    for (target, needles) in expected {
        let args: Vec<&str> = ["build", "--target", target, "--skip-refused"]
            .into_iter()
            .chain(rules.iter().map(String::as_str))
            .collect();
        let built = tripline(&args);
        assert_eq!(built.code, 0, "{target}: {}", built.stderr);
        for needle in needles {
            assert!(
                built.stdout.contains(needle),
                "{target}: {needle}\n{}",
                built.stdout
            );
        }
    }
}

/// `eval` routes events to the sources the pack's manifest adds (its
/// `taxonomy = [...]` extensions), not only to `--taxonomy` ones.
#[test]
fn eval_routes_events_to_a_source_the_manifest_adds() {
    let dir = std::env::temp_dir().join(format!("tripline-published-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let events = dir.join("smtp.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"event":{"dataset":"smtp"},"source":{"ip":"203.0.113.9"},"smtp":{"command":"VRFY","argument":"root"}}"#,
            "\n",
            r#"{"event":{"dataset":"smtp"},"source":{"ip":"10.0.0.25"},"smtp":{"command":"VRFY","argument":"root"}}"#,
            "\n",
        ),
    )
    .unwrap();
    let run = tripline(&[
        "eval",
        "--rules",
        "tests/fixtures/published/et/smtp_vrfy_expn_root.trip",
        events.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(run.stdout.contains(r#""rule":"et_smtp_vrfy_expn_root""#));
    assert!(
        run.stderr.contains("1 matches") && run.stderr.contains("0 unrouted"),
        "{}",
        run.stderr
    );
}
