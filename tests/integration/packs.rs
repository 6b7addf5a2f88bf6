//! Packs as projects: the manifest found from any path, one file checked
//! and tested with its whole pack, `test --filter`, manifest errors at
//! their line and column, the site overlay, the build's test gate, content
//! versions in `tripline.lock`, and `tripline new`.

use crate::support::{tripline, tripline_in};
use std::path::{Path, PathBuf};

/// An empty scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-packs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new pack made by `tripline new pack` in a scratch folder.
fn new_pack(name: &str) -> PathBuf {
    let dir = scratch(name).join("pack");
    let run = tripline(&["new", "pack", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn one_file_of_a_pack_checks_and_tests_alone_from_any_folder() {
    let file = std::fs::canonicalize("rules/t1590/scanner_user_agent_inbound.trip").unwrap();
    let file = file.to_str().unwrap();
    let elsewhere = std::env::temp_dir();
    let run = tripline_in(&elsewhere, &["test", file]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"3 passed, 0 failed"));
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l.starts_with("test scanner_user_agent_inbound ")),
        "{}",
        run.stdout
    );
    let run = tripline_in(&elsewhere, &["check", file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.trim(), "0 errors, 0 warnings in 1 file");
    // Inside a pack, no path means the whole pack.
    let run = tripline_in(Path::new("rules/t1590"), &["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("in 25 files"), "{}", run.stderr);
}

#[test]
fn test_filter_runs_the_matching_rules_tests() {
    for pattern in ["dns_zone*", "zone_transfer", "*_zone_transfer_from_outsid?"] {
        let run = tripline(&["test", "--filter", pattern]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert!(lines.len() > 1, "{pattern}: {}", run.stdout);
        assert!(
            lines[..lines.len() - 1]
                .iter()
                .all(|l| l.starts_with("test dns_zone_transfer_from_outside ")),
            "{pattern}: {}",
            run.stdout
        );
    }
    let run = tripline(&["test", "--filter", "no_such_rule"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("no rule matches `no_such_rule`"),
        "{}",
        run.stderr
    );
}

#[test]
fn manifest_errors_point_into_the_manifest_with_a_did_you_mean() {
    // (the [pack] table after `name`, expected code, line:column, help or message part)
    let cases = [
        ("evry = \"5m\"", "E0901", "3:1", "did you mean `every`?"),
        ("every = 5", "E0902", "3:9", "invalid type"),
        (
            "every = \"5 minutes\"",
            "E0902",
            "3:9",
            "expected a duration like `5m`",
        ),
        (
            "name = \"again\"",
            "E0900",
            "3:1",
            "key `name` is given twice",
        ),
        (
            "version = \"1.0\"",
            "E0902",
            "3:11",
            "expected a version like `1.2.0`",
        ),
        (
            "enabled = [\"dns-*\"]",
            "E0902",
            "3:12",
            "not a glob of rule names",
        ),
        (
            "taxonomy = [\"smtp.yaml\"]",
            "E0902",
            "3:13",
            "is not there",
        ),
        ("rules = [\"nowhere\"]", "E0902", "3:10", "is not there"),
        ("[target.splunk]", "E0901", "3:2", "did you mean `targets`?"),
        (
            "[targets.splunk]\napp = \"a b\"",
            "E0902",
            "4:7",
            "not a Splunk app id",
        ),
        (
            "[targets.splunk]\nversoin = \"1.0.0\"",
            "E0901",
            "4:1",
            "did you mean `version`?",
        ),
        (
            "[alert.defaults.hihg]\nnotable = true",
            "E0901",
            "3:17",
            "did you mean `high`?",
        ),
        (
            "[alert.defaults.high]\nrisk_scor = 5",
            "E0901",
            "4:1",
            "did you mean `risk_score`?",
        ),
        (
            "[alert.defaults.high]\nrisk_score = 500",
            "E0902",
            "4:14",
            "risk score 500 is outside 1..100",
        ),
        (
            "[alert.defaults.low]\nnotable = \"yes\"",
            "E0902",
            "4:11",
            "invalid type",
        ),
        (
            "[targets.splunk.filters]\ndns_zone_transfer_from_outside = \"search *\"",
            "E0901",
            "3:17",
            "the keys here are `app`, `version`",
        ),
    ];
    let pack = new_pack("manifest-errors");
    let manifest = pack.join("tripline.toml");
    let mut failures = Vec::new();
    for (extra, code, at, words) in cases {
        std::fs::write(&manifest, format!("[pack]\nname = \"p\"\n{extra}\n")).unwrap();
        let run = tripline(&["check", "--format", "json", pack.to_str().unwrap()]);
        let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let found: Vec<String> = document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["file"].as_str().unwrap().ends_with("tripline.toml"))
            .map(|d| {
                format!(
                    "{} {}:{} {} {}",
                    d["code"].as_str().unwrap(),
                    d["line"],
                    d["column"],
                    d["message"].as_str().unwrap(),
                    d["help"].as_str().unwrap_or("")
                )
            })
            .collect();
        let ok = run.code == 1
            && found.len() == 1
            && found[0].starts_with(&format!("{code} {at} "))
            && found[0].contains(words);
        if !ok {
            failures.push(format!(
                "{extra}\n  expected {code} {at} …{words}…\n  found {found:?} (exit {})",
                run.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // People see the manifest's line under the message.
    std::fs::write(&manifest, "[pack]\nname = \"p\"\nevry = \"5m\"\n").unwrap();
    let run = tripline(&["check", pack.to_str().unwrap()]);
    assert!(
        run.stderr.contains("error[E0901]: unknown key `evry`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("tripline.toml:3:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("help: did you mean `every`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_manifest_sets_the_schedule_defaults_and_the_enabled_rules() {
    let pack = new_pack("defaults");
    let manifest = pack.join("tripline.toml");
    edit(&manifest, "every = \"5m\"", "every = \"10m\"");
    edit(
        &manifest,
        "enabled = []",
        "enabled = [\"dns_*\"]\n[targets.splunk]\napp = \"acme_recon\"\nversion = \"2.1.0\"",
    );
    let run = tripline(&["build", pack.to_str().unwrap(), "--target", "kql,splunk"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("queryFrequency: 10m"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("==> splunk/acme_recon/default/app.conf <=="),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("version = 2.1.0"), "{}", run.stdout);
    let loaded = tripline::cli::pipeline::load(std::slice::from_ref(&pack)).unwrap();
    assert_eq!(
        loaded.checked.pack.settings.enabled,
        vec!["dns_*".to_string()]
    );
    assert_eq!(loaded.checked.pack.rules[0].schedule.every, 600);
}

#[test]
fn a_site_replaces_lists_and_settings_by_name_without_touching_the_pack() {
    let pack = new_pack("site");
    let site = pack.parent().unwrap().join("site");
    std::fs::create_dir_all(&site).unwrap();
    // The site says 203.0.113.0/24 is internal: the example's test event is.
    std::fs::write(
        site.join("ranges.trip"),
        "list internal_ranges: cidr = [\"203.0.113.0/24\"]\nlist internal_rangez = [\"x\"]\n",
    )
    .unwrap();
    std::fs::write(site.join("site.toml"), "enabled = [\"*\"]\n").unwrap();
    let (pack_arg, site_arg) = (pack.to_str().unwrap(), site.to_str().unwrap());
    let run = tripline(&["check", pack_arg, "--site", site_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("note: list `internal_ranges` comes from the site"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("warning[W0011]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `internal_ranges`?"),
        "{}",
        run.stderr
    );
    assert_eq!(tripline(&["test", pack_arg]).code, 0);
    let run = tripline(&["test", pack_arg, "--site", site_arg]);
    assert_eq!(
        run.code, 1,
        "the site's list changes what matches: {}",
        run.stdout
    );
    // The manifest can name the site too; site.toml wins over the manifest.
    edit(
        &pack.join("tripline.toml"),
        "enabled = []",
        "enabled = []\nsite = \"../site\"",
    );
    let loaded = tripline::cli::pipeline::load(std::slice::from_ref(&pack)).unwrap();
    assert_eq!(loaded.checked.pack.settings.enabled, vec!["*".to_string()]);
    assert_eq!(loaded.checked.replaced_lists.len(), 1);
    // A rule does not belong in a site.
    std::fs::write(site.join("rule.trip"), "rule r { }\n").unwrap();
    let run = tripline(&["check", pack_arg]);
    assert!(run.stderr.contains("error[E0904]"), "{}", run.stderr);
}

/// The risk score and notable of the alert of `rule` in a loaded pack.
fn risk_and_notable(pack: &Path, rule: &str) -> (Vec<u8>, bool) {
    let loaded = tripline::cli::pipeline::load(&[pack.to_path_buf()]).unwrap();
    let rule = loaded
        .checked
        .pack
        .rules
        .iter()
        .find(|r| r.name == rule)
        .unwrap_or_else(|| panic!("{rule} not built: {:?}", loaded.checked.diagnostics));
    let scores = rule.alert.risk.iter().map(|r| r.score).collect();
    (scores, rule.alert.notable)
}

#[test]
fn the_manifest_sets_alert_defaults_by_level_and_a_rules_alert_wins() {
    let pack = new_pack("alert-defaults");
    let manifest = pack.join("tripline.toml");
    let rule = "dns_zone_transfer_from_outside";
    // Built in: a high rule scores 70 and raises a notable.
    assert_eq!(risk_and_notable(&pack, rule), (vec![70], true));
    edit(
        &manifest,
        "enabled = []",
        "enabled = []\n[alert.defaults.high]\nrisk_score = 64\nnotable = false\n[alert.defaults.low]\nrisk_score = 5",
    );
    assert_eq!(risk_and_notable(&pack, rule), (vec![64], false));
    let run = tripline(&["build", pack.to_str().unwrap(), "--target", "splunk"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("\"risk_score\":64"), "{}", run.stdout);
    assert!(run.stdout.contains("action.notable = 0"), "{}", run.stdout);
    // A site replaces the manifest's values key by key.
    let site = pack.parent().unwrap().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("site.toml"),
        "[alert.defaults.high]\nnotable = true\n",
    )
    .unwrap();
    edit(
        &manifest,
        "enabled = []",
        "enabled = []\nsite = \"../site\"",
    );
    assert_eq!(risk_and_notable(&pack, rule), (vec![64], true));
    // The rule's own alert wins over both.
    edit(
        &pack.join(format!("{rule}.trip")),
        "  from dns",
        "  alert {\n    risk source.ip system 90\n    notable false\n  }\n\n  from dns",
    );
    assert_eq!(risk_and_notable(&pack, rule), (vec![90], false));
}

/// The `definition` of `[name]` in a built `macros.conf`.
fn macro_definition(macros: &str, name: &str) -> Option<String> {
    let stanza = macros.split(&format!("[{name}]\n")).nth(1)?;
    let line = stanza.lines().find(|l| l.starts_with("definition = "))?;
    Some(line["definition = ".len()..].to_string())
}

#[test]
fn a_site_fills_a_rules_filter_macro_and_the_pack_keeps_it_empty() {
    let pack = new_pack("site-filter");
    let root = pack.parent().unwrap();
    let (site, out) = (root.join("site"), root.join("out"));
    std::fs::create_dir_all(&site).unwrap();
    let macros = |out: &Path| {
        std::fs::read_to_string(out.join("splunk/tripline/default/macros.conf")).unwrap()
    };
    let filter = "dns_zone_transfer_from_outside_filter";
    let (pack_arg, out_arg) = (pack.to_str().unwrap(), out.to_str().unwrap());
    let run = tripline(&["build", pack_arg, "--target", "splunk", "--out", out_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        macro_definition(&macros(&out), filter).as_deref(),
        Some("search *")
    );
    std::fs::write(
        site.join("site.toml"),
        "[targets.splunk.filters]\ndns_zone_transfer_from_outside = 'search NOT src IN (\"198.51.100.7\")'\n",
    )
    .unwrap();
    let site_out = root.join("site-out");
    let run = tripline(&[
        "build",
        pack_arg,
        "--target",
        "splunk",
        "--site",
        site.to_str().unwrap(),
        "--out",
        site_out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        macro_definition(&macros(&site_out), filter).as_deref(),
        Some("search NOT src IN (\"198.51.100.7\")")
    );
    // The search still ends with the macro; only its definition moved.
    let searches =
        std::fs::read_to_string(site_out.join("splunk/tripline/default/savedsearches.conf"))
            .unwrap();
    assert!(searches.contains(&format!("| `{filter}`\n")), "{searches}");
    // The app's README tells the search head's admins what the site set.
    let readme =
        |out: &Path| std::fs::read_to_string(out.join("splunk/tripline/README.md")).unwrap();
    assert!(
        readme(&site_out).contains(&format!(
            "| `{filter}` | `` search NOT src IN (\"198.51.100.7\") `` |"
        )),
        "{}",
        readme(&site_out)
    );
    assert!(!readme(&out).contains("defined these filters"));
}

#[test]
fn site_filter_errors_point_into_site_toml() {
    // (the filters table's line, expected code, line:column, words)
    let cases = [
        (
            "dns_zone_transfer_from_outsid = 'search *'",
            "E0906",
            "2:1",
            "did you mean `dns_zone_transfer_from_outside`?",
        ),
        (
            "dns_zone_transfer_from_outside = \"search a\\nb\"",
            "E0907",
            "2:34",
            "control character or line separator (U+000A)",
        ),
        (
            "dns_zone_transfer_from_outside = \"search a\\u2028b\"",
            "E0907",
            "2:34",
            "(U+2028)",
        ),
        (
            "dns_zone_transfer_from_outside = 'search x\\'",
            "E0907",
            "2:34",
            "ends with `\\`",
        ),
        (
            "dns_zone_transfer_from_outside = '| search x'",
            "E0907",
            "2:34",
            "starts with `|`",
        ),
        (
            "dns_zone_transfer_from_outside = ' '",
            "E0907",
            "2:34",
            "an empty filter definition",
        ),
        (
            "dns_zone_transfer_from_outside = 3",
            "E0902",
            "2:34",
            "invalid type",
        ),
    ];
    let pack = new_pack("site-filter-errors");
    let site = pack.parent().unwrap().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let mut failures = Vec::new();
    for (line, code, at, words) in cases {
        std::fs::write(
            site.join("site.toml"),
            format!("[targets.splunk.filters]\n{line}\n"),
        )
        .unwrap();
        let run = tripline(&[
            "check",
            "--format",
            "json",
            pack.to_str().unwrap(),
            "--site",
            site.to_str().unwrap(),
        ]);
        let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let found: Vec<String> = document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["file"].as_str().unwrap().ends_with("site.toml"))
            .map(|d| {
                format!(
                    "{} {}:{} {} {}",
                    d["code"].as_str().unwrap(),
                    d["line"],
                    d["column"],
                    d["message"].as_str().unwrap(),
                    d["help"].as_str().unwrap_or("")
                )
            })
            .collect();
        let ok = run.code == 1
            && found.len() == 1
            && found[0].starts_with(&format!("{code} {at} "))
            && found[0].contains(words);
        if !ok {
            failures.push(format!(
                "{line}\n  expected {code} {at} …{words}…\n  found {found:?} (exit {})",
                run.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_fresh_build_installs_disabled_and_one_manifest_line_enables() {
    let pack = new_pack("enable");
    let arg = pack.to_str().unwrap();
    let built = |pack: &str| {
        let run = tripline(&["build", pack, "--target", "splunk,kql"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let fresh = built(arg);
    assert!(fresh.contains("\ndisabled = 1\n"), "{fresh}");
    assert!(!fresh.contains("\ndisabled = 0\n"), "{fresh}");
    // The ARM template's rule (its incident grouping is `enabled` too).
    assert!(fresh.contains("\"enabled\": false"), "{fresh}");
    edit(
        &pack.join("tripline.toml"),
        "enabled = []",
        "enabled = [\"dns_zone_transfer_from_outside\"]",
    );
    let enabled = built(arg);
    assert!(enabled.contains("\ndisabled = 0\n"), "{enabled}");
    assert!(!enabled.contains("\ndisabled = 1\n"), "{enabled}");
    assert!(!enabled.contains("\"enabled\": false"), "{enabled}");
}

#[test]
fn build_runs_the_tests_first_and_writes_nothing_when_one_fails() {
    let pack = new_pack("gate");
    let out = pack.parent().unwrap().join("out");
    edit(
        &pack.join("dns_zone_transfer_from_outside.trip"),
        "expect nomatch",
        "expect match",
    );
    let (pack_arg, out_arg) = (pack.to_str().unwrap(), out.to_str().unwrap());
    let run = tripline(&["build", pack_arg, "--out", out_arg]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert!(!out.exists());
    let run = tripline(&["build", pack_arg, "--out", out_arg, "--no-test"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("(--no-test)"), "{}", run.stderr);
    assert!(out.join("kql").is_dir());
}

fn yaml_version(out: &Path, rule: &str) -> String {
    let text = std::fs::read_to_string(out.join("kql").join(format!("{rule}.yaml"))).unwrap();
    let line = text.lines().find(|l| l.starts_with("version: ")).unwrap();
    line["version: ".len()..].to_string()
}

fn app_version(out: &Path) -> String {
    let text = std::fs::read_to_string(out.join("splunk/tripline/default/app.conf")).unwrap();
    let line = text.lines().find(|l| l.starts_with("version = ")).unwrap();
    line["version = ".len()..].to_string()
}

#[test]
fn versions_move_when_what_the_siem_loads_changes_and_only_then() {
    let pack = new_pack("versions");
    let out = pack.parent().unwrap().join("out");
    let run = tripline_in(&pack, &["new", "rule", "second_rule", "--source", "web"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (pack_arg, out_arg) = (pack.to_str().unwrap(), out.to_str().unwrap());
    let build = |extra: &[&str]| {
        let mut args = vec!["build", pack_arg, "--out", out_arg];
        args.extend(extra);
        tripline(&args)
    };
    assert_eq!(build(&[]).code, 0);
    let first_lock = std::fs::read_to_string(pack.join("tripline.lock")).unwrap();
    assert_eq!(
        yaml_version(&out, "dns_zone_transfer_from_outside"),
        "1.0.0"
    );
    assert_eq!(yaml_version(&out, "second_rule"), "1.0.0");
    assert_eq!(app_version(&out), "0.1.0", "the manifest's version");

    // The same content again: nothing moves, the lock is not rewritten.
    let run = build(&["--locked"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("version:"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(pack.join("tripline.lock")).unwrap(),
        first_lock
    );

    // One rule's condition changes: its version and the app's move.
    let rule = pack.join("second_rule.trip");
    edit(&rule, "== \"example\"", "== \"changed\"");
    edit(&rule, ": \"example\"", ": \"changed\"");
    let run = build(&["--locked"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[E0905]"), "{}", run.stderr);
    let run = build(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("version: rule second_rule 1.0.0 → 1.0.1"),
        "{}",
        run.stderr
    );
    assert_eq!(yaml_version(&out, "second_rule"), "1.0.1");
    assert_eq!(
        yaml_version(&out, "dns_zone_transfer_from_outside"),
        "1.0.0"
    );
    assert_eq!(app_version(&out), "0.1.1");

    // A test is not what the SIEM loads: changing one moves nothing.
    edit(&rule, "\"something else\"", "\"another value\"");
    let run = build(&["--locked"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(yaml_version(&out, "second_rule"), "1.0.1");

    // A rule's own version wins when higher, then moves with its content.
    edit(&rule, "level medium", "level medium\n  version \"2.0.0\"");
    assert_eq!(build(&[]).code, 0);
    assert_eq!(yaml_version(&out, "second_rule"), "2.0.0");
    edit(&rule, "== \"changed\"", "== \"changed again\"");
    edit(&rule, ": \"changed\"", ": \"changed again\"");
    assert_eq!(build(&[]).code, 0);
    assert_eq!(yaml_version(&out, "second_rule"), "2.0.1");

    // Raising the manifest's version wins over the lock's patch numbers.
    edit(
        &pack.join("tripline.toml"),
        "version = \"0.1.0\"",
        "version = \"0.2.0\"",
    );
    assert_eq!(build(&[]).code, 0);
    assert_eq!(app_version(&out), "0.2.0");
}

#[test]
fn a_new_pack_and_rule_check_test_and_build() {
    let pack = new_pack("new");
    let run = tripline_in(&pack, &["new", "rule", "probe", "--source", "proxy"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(pack.join("probe.trip")).unwrap();
    assert!(text.contains("from proxy"), "{text}");
    for args in [
        &["check", "--deny-warnings"][..],
        &["test"],
        &["build", "--out", "out"],
    ] {
        let run = tripline_in(&pack, args);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
    let run = tripline_in(&pack, &["test", "probe.trip"]);
    assert!(
        run.stdout.ends_with("2 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
    // Nothing is overwritten.
    let run = tripline_in(&pack, &["new", "rule", "probe"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("exists already"), "{}", run.stderr);
    let run = tripline(&["new", "pack", pack.to_str().unwrap()]);
    assert_eq!(run.code, 2);
}

/// A manifest's `taxonomy = [...]` (relative to it) adds the sources its
/// rules read: a rule on a pack-defined `smtp` source checks and tests.
#[test]
fn the_manifest_names_taxonomy_extensions() {
    let pack = new_pack("manifest-taxonomy");
    let fixtures = Path::new("tests/fixtures/taxonomy");
    std::fs::copy(fixtures.join("smtp.yaml"), pack.join("smtp.yaml")).unwrap();
    std::fs::copy(
        fixtures.join("smtp_recon.trip"),
        pack.join("smtp_recon.trip"),
    )
    .unwrap();
    let manifest = pack.join("tripline.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let without = tripline(&["check", pack.to_str().unwrap()]);
    assert_eq!(
        without.code, 1,
        "unknown source without the extension: {}",
        without.stderr
    );
    std::fs::write(
        &manifest,
        text.replace("[pack]\n", "[pack]\ntaxonomy = [\"smtp.yaml\"]\n"),
    )
    .unwrap();
    let with = tripline(&["test", pack.to_str().unwrap()]);
    assert_eq!(with.code, 0, "{}\n{}", with.stdout, with.stderr);
}

/// A site's lists change what a SIEM loads, so its build moves versions;
/// those moves go to the site's own lock (starting from the pack's), never
/// to the pack's, which upstream updates would then overwrite.
#[test]
fn a_site_build_keeps_its_versions_in_the_sites_lock() {
    let pack = new_pack("site-lock");
    let site = pack.parent().unwrap().join("site");
    let out = pack.parent().unwrap().join("out");
    std::fs::create_dir_all(&site).unwrap();
    let (pack_arg, site_arg, out_arg) = (
        pack.to_str().unwrap(),
        site.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    assert_eq!(tripline(&["build", pack_arg, "--out", out_arg]).code, 0);
    let pack_lock = std::fs::read_to_string(pack.join("tripline.lock")).unwrap();
    std::fs::write(
        site.join("ranges.trip"),
        "list internal_ranges: cidr = [\"10.0.0.0/8\", \"198.51.100.0/24\"]\n",
    )
    .unwrap();
    let run = tripline(&[
        "build",
        pack_arg,
        "--site",
        site_arg,
        "--out",
        out_arg,
        "--no-test",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("1.0.0 → 1.0.1"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(pack.join("tripline.lock")).unwrap(),
        pack_lock,
        "the pack's lock is untouched"
    );
    let site_lock = std::fs::read_to_string(site.join("tripline.lock")).unwrap();
    assert_ne!(site_lock, pack_lock);
    assert!(site_lock.contains("1.0.1"), "{site_lock}");
    // The same site build again moves nothing; the pack's own build neither.
    let run = tripline(&[
        "build",
        pack_arg,
        "--site",
        site_arg,
        "--out",
        out_arg,
        "--no-test",
        "--locked",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = tripline(&["build", pack_arg, "--out", out_arg, "--locked"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
