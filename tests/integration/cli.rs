//! The command line end to end: exit codes (0 clean, 1 rule errors, 2 usage
//! or I/O), the three diagnostic formats, `fmt --check`, and `build`'s
//! output tree, refusals and determinism.

use crate::support::tripline;
use std::path::{Path, PathBuf};

/// A fresh folder under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn version_prints_and_exits_zero() {
    assert_eq!(tripline(&["--version"]).code, 0);
}

#[test]
fn check_exit_codes() {
    let clean = tripline(&["check", "rules/"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(
        clean
            .stderr
            .trim_end()
            .ends_with("0 errors, 0 warnings in 25 files"),
        "{}",
        clean.stderr
    );

    let warned = tripline(&["check", "tests/fixtures/cli/warning.trip"]);
    assert_eq!(warned.code, 0, "warnings alone pass");
    assert_eq!(
        tripline(&[
            "check",
            "--deny-warnings",
            "tests/fixtures/cli/warning.trip"
        ])
        .code,
        1
    );

    let errors = tripline(&["check", "tests/fixtures/cli/errors.trip"]);
    assert_eq!(errors.code, 1);
    insta::assert_snapshot!("check_human", errors.stderr);

    assert_eq!(
        tripline(&["check", "tests/fixtures/cli/no-such-file.trip"]).code,
        2
    );
    assert_eq!(
        tripline(&["check", "--format", "yaml", "rules/"]).code,
        2,
        "usage error"
    );
    assert_eq!(
        tripline(&["check", "tests/fixtures/cli/errors.trip", "no-such-folder/"]).code,
        2,
        "2 wins over 1"
    );
}

#[test]
fn check_json_lists_every_diagnostic_sorted_with_positions() {
    let run = tripline(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/cli/errors.trip",
        "tests/fixtures/cli/warning.trip",
    ]);
    assert_eq!(run.code, 1, "the format never changes the exit code");
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["errors"], 2);
    assert_eq!(document["warnings"], 2);
    let first = &document["diagnostics"][0];
    for key in [
        "severity",
        "code",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "labels",
        "help",
    ] {
        assert!(first.get(key).is_some(), "missing `{key}` in {first}");
    }
    insta::assert_snapshot!("check_json", run.stdout);
}

#[test]
fn check_sarif_is_sarif_2_1_0_in_code_points() {
    let run = tripline(&[
        "check",
        "--format",
        "sarif",
        "tests/fixtures/cli/errors.trip",
    ]);
    assert_eq!(run.code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["columnKind"], "unicodeCodePoints");
    let results = run0["results"].as_array().unwrap();
    let unknown_field = results.iter().find(|r| r["ruleId"] == "E0301").unwrap();
    assert_eq!(unknown_field["level"], "error");
    let region = &unknown_field["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(8), Some(9))
    );
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(
        rules.len(),
        tripline::diag::codes::ALL.len(),
        "every code is described"
    );
}

#[test]
fn invalid_utf8_is_a_rule_error_at_the_bad_byte() {
    let run = tripline(&["check", "tests/fixtures/cli/latin1.trip"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[E0100]"), "{}", run.stderr);
    assert!(run.stderr.contains("latin1.trip:2:13"), "{}", run.stderr);
}

#[test]
fn fmt_check_lists_files_and_fmt_rewrites_them() {
    let dir = scratch("fmt");
    let messy = dir.join("messy.trip");
    std::fs::write(&messy, "list a=[ \"x\" ,]\n").unwrap();
    let tidy = dir.join("tidy.trip");
    std::fs::write(&tidy, "list a = [\"x\"]\n").unwrap();
    let broken = dir.join("broken.trip");
    std::fs::write(&broken, "list a = [\n").unwrap();

    let check = tripline(&[
        "fmt",
        "--check",
        messy.to_str().unwrap(),
        tidy.to_str().unwrap(),
    ]);
    assert_eq!(
        (check.code, check.stdout.trim()),
        (1, messy.to_str().unwrap())
    );
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "list a=[ \"x\" ,]\n",
        "--check changes nothing"
    );

    assert_eq!(tripline(&["fmt", messy.to_str().unwrap()]).code, 0);
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "list a = [\"x\"]\n"
    );

    let failed = tripline(&["fmt", broken.to_str().unwrap()]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("error[E0201]"), "{}", failed.stderr);
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "list a = [\n",
        "a file that does not parse is left alone"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every file under `dir`, with its bytes, sorted by path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn build_writes_every_target_deterministically_and_replaces_folders_whole() {
    let out = scratch("build");
    let out_str = out.to_str().unwrap();
    let first = tripline(&[
        "build",
        "rules/",
        "--target",
        "all",
        "--out",
        out_str,
        "--package",
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let files = tree(&out);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "sigma/dns_zone_transfer_from_outside.yml",
        "splunk/tripline/default/app.conf",
        "splunk/tripline/default/savedsearches.conf",
        "splunk/tripline/default/macros.conf",
        "splunk/tripline/metadata/default.meta",
        "splunk/tripline/README.md",
        "splunk/tripline.tgz",
        "splunk/queries/dns_zone_transfer_from_outside.spl",
        "kql/dns_zone_transfer_from_outside.yaml",
        "kql/queries/dns_zone_transfer_from_outside.kql",
        "kql/azuredeploy.json",
        "runbook/dns_zone_transfer_from_outside.md",
        "runbook/index.md",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    // A stale file of a removed rule does not survive the next build.
    std::fs::write(out.join("sigma/removed_rule.yml"), "stale").unwrap();
    let second = tripline(&[
        "build",
        "rules/",
        "--target",
        "all",
        "--out",
        out_str,
        "--package",
    ]);
    assert_eq!(second.code, 0);
    assert_eq!(
        tree(&out),
        files,
        "byte-identical output, and the stale file is gone"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn build_refusals_write_nothing_unless_skipped() {
    let out = scratch("refused");
    let out_str = out.to_str().unwrap();
    let refused = tripline(&[
        "build",
        "tests/fixtures/cli/refused.trip",
        "--target",
        "sigma,kql",
        "--out",
        out_str,
    ]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("error[E0700]: sigma cannot express"),
        "{}",
        refused.stderr
    );
    assert!(
        tree(&out).is_empty(),
        "nothing is written when a rule is refused"
    );

    let skipped = tripline(&[
        "build",
        "tests/fixtures/cli/refused.trip",
        "--target",
        "sigma,kql",
        "--out",
        out_str,
        "--skip-refused",
    ]);
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert!(
        skipped.stderr.contains("warning[E0700]"),
        "{}",
        skipped.stderr
    );
    let names: Vec<String> = tree(&out).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&"kql/end_anchor.yaml".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("sigma/end_anchor")),
        "{names:?}"
    );

    let check = tripline(&[
        "check",
        "--target",
        "sigma",
        "tests/fixtures/cli/refused.trip",
    ]);
    assert_eq!(check.code, 1, "check --target reports the same refusal");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn build_to_stdout_heads_each_document_and_rejects_unknown_targets() {
    let run = tripline(&[
        "build",
        "tests/fixtures/cli/warning.trip",
        "--target",
        "sigma",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("==> sigma/untested.yml <==\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        tripline(&["build", "rules/", "--target", "elastic"]).code,
        2
    );
}

/// A copy of a built-in target folder in a fresh `--targets-dir`.
fn targets_copy(name: &str, target: &str) -> PathBuf {
    let dir = scratch(name);
    let copy = dir.join(target);
    std::fs::create_dir_all(copy.join("mappings")).unwrap();
    for file in tree(&Path::new("targets").join(target)) {
        let path = copy.join(&file.0);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, file.1).unwrap();
    }
    dir
}

#[test]
fn targets_dir_overrides_mappings_and_templates() {
    let dir = targets_copy("override", "sigma");
    let mapping = dir.join("sigma/mappings/default.yaml");
    let text = std::fs::read_to_string(&mapping)
        .unwrap()
        .replace("dns.question.type: record_type", "dns.question.type: qtype");
    std::fs::write(&mapping, text).unwrap();
    let args = [
        "build",
        "tests/fixtures/cli/warning.trip",
        "--target",
        "sigma",
        "--targets-dir",
        dir.to_str().unwrap(),
    ];
    let run = tripline(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("qtype: 'AXFR'"),
        "the site's field name is used: {}",
        run.stdout
    );

    // A target the folder lacks comes from the built-in ones.
    let kql = tripline(&[
        "build",
        "tests/fixtures/cli/warning.trip",
        "--target",
        "kql",
        "--targets-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        kql.stdout.contains("DnsQueryTypeName =~ \"AXFR\""),
        "{}",
        kql.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broken_template_or_mapping_is_reported_with_its_file_and_line() {
    let dir = targets_copy("broken", "sigma");
    let template = dir.join("sigma/rule.yml.j2");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        text.replacen("status: {{ status }}", "status: {{ status }\n", 1),
    )
    .unwrap();
    let args = [
        "build",
        "tests/fixtures/cli/warning.trip",
        "--target",
        "sigma",
        "--targets-dir",
        dir.to_str().unwrap(),
    ];
    let run = tripline(&args);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("rule.yml.j2:6"), "{}", run.stderr);

    std::fs::write(&template, text).unwrap();
    std::fs::write(
        dir.join("sigma/mappings/default.yaml"),
        "sources:\n  dns: [not, a, mapping\n",
    )
    .unwrap();
    let run = tripline(&args);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("mappings/default.yaml:2:"),
        "{}",
        run.stderr
    );
    assert!(
        tripline(&[&args[..], &["--mapping", "nope"]].concat())
            .stderr
            .contains("has no mapping `nope`")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// E0701's help names the mapping file the build read, not the built-in one.
#[test]
fn an_unmapped_field_names_the_mapping_file_read() {
    let dir = targets_copy("unmapped", "sigma");
    let mapping = dir.join("sigma/mappings/default.yaml");
    let text = std::fs::read_to_string(&mapping).unwrap();
    assert!(text.contains("dns.question.type: record_type"));
    std::fs::write(
        &mapping,
        text.replace("      dns.question.type: record_type\n", ""),
    )
    .unwrap();
    let run = tripline(&[
        "build",
        "tests/fixtures/cli/warning.trip",
        "--target",
        "sigma",
        "--targets-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("E0701"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("name the field in {} or", mapping.display())),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
