//! Hostile file systems, outputs and packs (docs/security-io.md): writes
//! keep devices, FIFOs, links and read-only files; walks survive symlink
//! loops; a full stdout or an endless input is an error with a message,
//! never a panic, a hang or silence; a build replaces all its targets or
//! none and waits for another; tests and target folders stay in their
//! folders; test events are bounded in number and nesting.

use std::fs;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A valid rule without tests; `fmt` rewrites it (two spaces after `rule`).
const UNFORMATTED: &str = "rule   untested {\n  title \"A rule without tests\"\n  id \"0b9d3c1e-6a51-4f6e-9f7e-2c8a4d1b7e01\"\n  level low\n  attack T1590\n  description \"Only here to be formatted.\"\n  from dns\n  where dns.question.type == \"AXFR\"\n}\n";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("tripline"));
    command.env("NO_COLOR", "1").args(args);
    command
}

fn tripline(args: &[&str]) -> Run {
    finish(command(args).output().unwrap())
}

fn finish(output: std::process::Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `tripline ARGS > /dev/full`.
fn to_full_device(args: &[&str]) -> Run {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    finish(command(args).stdout(Stdio::from(full)).output().unwrap())
}

/// A fresh folder under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-io-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn junit_to_a_fifo_writes_through_it_and_keeps_it() {
    let dir = scratch("fifo");
    let fifo = dir.join("report.xml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let run = tripline(&["test", "tests/fixtures/eval", "--junit", text(&fifo)]);
    assert_eq!(run.code, 1, "one test fails: {}", run.stderr);
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(reader.join().unwrap().starts_with("<?xml"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_device_is_an_error_naming_it_not_replaced() {
    let run = tripline(&[
        "coverage",
        "tests/fixtures/coverage/small",
        "--layer",
        "/dev/full",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot write /dev/full: "),
        "{}",
        run.stderr
    );
    assert!(
        fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn fmt_writes_a_symlinks_target_and_keeps_the_link() {
    let dir = scratch("fmt-link");
    fs::create_dir_all(dir.join("real")).unwrap();
    fs::write(dir.join("real/rule.trip"), UNFORMATTED).unwrap();
    symlink("real/rule.trip", dir.join("link.trip")).unwrap();
    let run = tripline(&["fmt", text(&dir.join("link.trip"))]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let link = fs::symlink_metadata(dir.join("link.trip")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let formatted = fs::read_to_string(dir.join("real/rule.trip")).unwrap();
    assert!(formatted.starts_with("rule untested {"), "{formatted}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fmt_refuses_a_read_only_file() {
    let dir = scratch("fmt-readonly");
    let path = dir.join("rule.trip");
    fs::write(&path, UNFORMATTED).unwrap();
    let mut permissions = fs::metadata(&path).unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&path, permissions).unwrap();
    let run = tripline(&["fmt", text(&path)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(text(&path)), "{}", run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&path).unwrap(), UNFORMATTED);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_errors_name_the_path() {
    let dir = scratch("write-errors");
    let small = "tests/fixtures/coverage/small";
    let folder = tripline(&["coverage", small, "--layer", text(&dir)]);
    assert_eq!(folder.code, 2);
    assert!(folder.stderr.contains(text(&dir)), "{}", folder.stderr);
    let long = dir.join(format!("{}.svg", "x".repeat(300)));
    let too_long = tripline(&["coverage", small, "--svg", text(&long)]);
    assert_eq!(too_long.code, 2);
    assert!(too_long.stderr.contains(text(&long)), "{}", too_long.stderr);
    // `--out` naming a file: "File exists", with the path.
    let file = dir.join("a-file");
    fs::write(&file, "").unwrap();
    let rule = "tests/fixtures/cli/warning.trip";
    let exists = tripline(&["build", rule, "--target", "sigma", "--out", text(&file)]);
    assert_eq!(exists.code, 2);
    assert!(
        exists
            .stderr
            .contains(&format!("cannot write {}: ", text(&file))),
        "{}",
        exists.stderr
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_linking_to_itself_is_walked_once_and_the_loop_reported() {
    let dir = scratch("self-links");
    fs::write(dir.join("rule.trip"), UNFORMATTED).unwrap();
    symlink(".", dir.join("again")).unwrap();
    symlink(".", dir.join("more")).unwrap();
    let run = tripline(&["check", text(&dir)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("1 warning in 1 file"), "{}", run.stderr);
    let again = format!("{}: a symlink loop", text(&dir.join("again")));
    assert!(run.stderr.contains(&again), "{}", run.stderr);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_stdout_is_exit_2_with_a_message() {
    let dir = scratch("full-stdout");
    fs::write(dir.join("rule.trip"), UNFORMATTED).unwrap();
    let runs = [
        to_full_device(&["coverage", "tests/fixtures/coverage/small"]),
        to_full_device(&["fmt", "--check", text(&dir)]),
        to_full_device(&["test", "tests/fixtures/eval"]),
        to_full_device(&[
            "check",
            "--format",
            "json",
            "tests/fixtures/cli/warning.trip",
        ]),
        to_full_device(&[
            "build",
            "tests/fixtures/cli/warning.trip",
            "--target",
            "sigma",
        ]),
    ];
    for run in runs {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("cannot write to standard output"),
            "{}",
            run.stderr
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_endless_rule_file_stops_at_the_size_limit() {
    let run = tripline(&["check", "/dev/zero"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/dev/zero: larger than"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--max-file-size"), "{}", run.stderr);
    let rule = "tests/fixtures/cli/warning.trip";
    let small = tripline(&["check", "--max-file-size", "100", rule]);
    assert_eq!(small.code, 2, "{}", small.stderr);
    assert!(small.stderr.contains(rule), "{}", small.stderr);
    assert_eq!(tripline(&["check", "--max-file-size", "1K", rule]).code, 0);
}

/// Every file under `dir` with its bytes, hidden files included, sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = fs::read(&path).unwrap();
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_build_that_fails_on_one_target_replaces_none() {
    let dir = scratch("build-too-long");
    let out = dir.join("out");
    fs::write(dir.join("short.trip"), UNFORMATTED).unwrap();
    // 251 characters: `.yml` and `.spl` names fit in 255 bytes, `.yaml` does not.
    let long = "a".repeat(251);
    let rule = UNFORMATTED.replace("rule   untested", &format!("rule {long}"));
    fs::write(dir.join("long.trip"), rule).unwrap();
    let first = tripline(&["build", text(&dir.join("short.trip")), "--out", text(&out)]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = tree(&out);
    let failed = tripline(&["build", text(&dir.join("long.trip")), "--out", text(&out)]);
    assert_eq!(failed.code, 2);
    let path = format!("{}/kql/{long}.yaml: ", text(&out));
    assert!(failed.stderr.contains(&path), "{}", failed.stderr);
    assert_eq!(tree(&out), before, "no target was replaced");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leftovers_of_killed_builds_are_cleaned_or_finished() {
    let dir = scratch("build-leftovers");
    let out = dir.join("out");
    fs::write(dir.join("rule.trip"), UNFORMATTED).unwrap();
    // Killed while writing: removed.
    fs::create_dir_all(out.join(".tripline-staging-999999999/sigma")).unwrap();
    // Killed during the swap (all written): the rest is swapped in.
    let swapping = out.join(".tripline-staging-999999998");
    fs::create_dir_all(swapping.join("splunk")).unwrap();
    fs::write(swapping.join("splunk/finished.txt"), "").unwrap();
    fs::write(swapping.join(".complete"), "").unwrap();
    // Versions before the lock.
    fs::create_dir_all(out.join(".sigma.new-999999999")).unwrap();
    fs::create_dir_all(out.join(".kql.old-999999999")).unwrap();
    let run = tripline(&[
        "build",
        text(&dir.join("rule.trip")),
        "--target",
        "sigma",
        "--out",
        text(&out),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".tripline.lock", "sigma", "splunk"]);
    assert!(out.join("splunk/finished.txt").exists());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_builds_into_one_folder_take_turns() {
    let dir = scratch("build-concurrent");
    let out = dir.join("out");
    let builds: Vec<_> = (0..4)
        .map(|_| {
            command(&["build", "rules/", "--out", text(&out)])
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for build in builds {
        let run = finish(build.wait_with_output().unwrap());
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let hidden: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') && name != ".tripline.lock")
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_build_waits_while_another_holds_the_lock() {
    let dir = scratch("build-lock");
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    let lock = fs::File::create(out.join(".tripline.lock")).unwrap();
    lock.lock().unwrap();
    let rule = "tests/fixtures/cli/warning.trip";
    let mut build = command(&["build", rule, "--target", "sigma", "--out", text(&out)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        build.try_wait().unwrap().is_none(),
        "the build did not wait"
    );
    assert!(!out.join("sigma").exists());
    lock.unlock().unwrap();
    let run = finish(build.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("waiting for another build into"),
        "{}",
        run.stderr
    );
    assert!(out.join("sigma").is_dir());
    fs::remove_dir_all(&dir).unwrap();
}

/// A rule whose one test has `body`, as `CODE line:col` of its diagnostics
/// (the file written to `dir/rule.trip`, so `events` paths resolve there).
fn test_diagnostics(dir: &Path, body: &str) -> Vec<String> {
    use tripline::source::{self, SourceMap};
    let rule = format!(
        "rule probe {{\n  title \"probe\"\n  id \"0b9d3c1e-6a51-4f6e-9f7e-2c8a4d1b7e02\"\n  level low\n  attack T1590\n  description \"x\"\n  from dns\n  where dns.question.type == \"AXFR\"\n  test \"t\" {{\n{body}\n    expect match\n  }}\n}}\n"
    );
    let path = dir.join("rule.trip");
    fs::write(&path, rule).unwrap();
    let mut map = SourceMap::default();
    let (id, _) = source::load(&mut map, &path).unwrap();
    let (file, _) = tripline::syntax::parse(id, &map.get(id).text);
    let checked = tripline::check::check(&map, &[(id, &file)]);
    crate::support::positions(&map, &checked.diagnostics)
        .into_iter()
        .filter(|d| d.starts_with('E'))
        .collect()
}

#[test]
fn a_test_over_a_million_events_is_a_check_error() {
    let dir = scratch("repeat-total");
    let event = "{ dns.question.type: \"AXFR\" }";
    let body = format!(
        "    event {event}\n    repeat 600000 every 1s {event}\n    repeat 600000 every 1s {event}\n    repeat 600000 every 1s {event}"
    );
    assert_eq!(test_diagnostics(&dir, &body), ["E0609 12:5"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn events_paths_stay_inside_the_rule_folder() {
    let dir = scratch("events-paths");
    fs::create_dir_all(dir.join("fixtures")).unwrap();
    fs::write(dir.join("fixtures/ok.jsonl"), "{}\n").unwrap();
    symlink("/etc/hostname", dir.join("fixtures/out.jsonl")).unwrap();
    let body = [
        "../../../../etc/shadow",
        "/etc/passwd",
        "fixtures/out.jsonl",
        "fixtures/ok.jsonl",
        "./fixtures/ok.jsonl",
    ]
    .map(|path| format!("    events \"{path}\""))
    .join("\n");
    let found = test_diagnostics(&dir, &body);
    assert_eq!(found, ["E0610 10:12", "E0610 11:12", "E0610 12:12"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_events_file_over_the_size_limit_fails_its_test_at_the_statement() {
    let dir = scratch("events-size");
    let line = format!(
        "{{\"dns\": {{\"question\": {{\"type\": \"AXFR\", \"name\": \"{}\"}}}}}}\n",
        "a".repeat(400)
    );
    fs::write(dir.join("big.jsonl"), line.repeat(3)).unwrap();
    assert!(test_diagnostics(&dir, "    events \"big.jsonl\"").is_empty());
    let rule = dir.join("rule.trip");
    let size = (line.len() * 3).to_string();
    assert_eq!(
        tripline(&["test", text(&rule)]).code,
        0,
        "the default limit"
    );
    let at_limit = tripline(&["test", "--max-events-size", &size, text(&rule)]);
    assert_eq!(at_limit.code, 0, "{}{}", at_limit.stdout, at_limit.stderr);
    let run = tripline(&["test", "--max-events-size", "1K", text(&rule)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let output = format!("{}{}", run.stdout, run.stderr);
    let expected = format!(
        "{}:10:12: error[E0612]: {}: larger than the limit of 1024 bytes for an events file (raise it with --max-events-size)",
        rule.display(),
        dir.join("big.jsonl").display()
    );
    assert!(output.contains(&expected), "{output}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_test_event_deeper_than_the_json_reader_takes_is_a_check_error() {
    let dir = scratch("deep-event");
    let deep = |levels: usize| {
        format!(
            "    event {{ dns.question.type: \"AXFR\", deep: {}1{} }}",
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    assert!(test_diagnostics(&dir, &deep(126)).is_empty());
    let passed = tripline(&["test", text(&dir.join("rule.trip"))]);
    assert_eq!(
        passed.code, 0,
        "126 levels run and match: {}",
        passed.stdout
    );
    assert_eq!(test_diagnostics(&dir, &deep(127)), ["E0611 10:46"]);
    // Before, this passed `check` and then "did not match" at test time.
    let run = tripline(&["test", text(&dir.join("rule.trip"))]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[E0611]"), "{}", run.stderr);
    fs::remove_dir_all(&dir).unwrap();
}

/// A `--targets-dir` holding a copy of the built-in Splunk folder, with
/// `file` edited by `edit`.
fn splunk_folder(dir: &Path, file: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let targets = dir.join("targets");
    for (relative, bytes) in tree(Path::new("targets/splunk")) {
        let path = targets.join("splunk").join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    let path = targets.join("splunk").join(file);
    fs::write(&path, edit(fs::read_to_string(&path).unwrap())).unwrap();
    targets
}

#[test]
fn targets_dir_settings_are_checked_and_a_missing_one_is_an_error() {
    let dir = scratch("targets-dir");
    let out = dir.join("deep/out");
    let build = |targets: &Path| {
        let args = [
            "build",
            "tests/fixtures/cli/warning.trip",
            "--target",
            "splunk",
        ];
        tripline(
            &[
                &args[..],
                &["--out", text(&out), "--targets-dir", text(targets)],
            ]
            .concat(),
        )
    };
    let missing = build(&dir.join("no-such-folder"));
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no-such-folder: not a folder"),
        "{}",
        missing.stderr
    );

    let evil_id = splunk_folder(&dir.join("id"), "app.yaml", |text| {
        text.replace("id: tripline", "id: ../../evil_target")
    });
    let run = build(&evil_id);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("app.yaml: id: `../../evil_target` is not a name"),
        "{}",
        run.stderr
    );
    assert!(!dir.join("evil_target").exists() && !out.exists());

    let stanza = splunk_folder(&dir.join("stanza"), "mappings/default.yaml", |text| {
        text.replace(
            "base_search: \"(`cim_Network_Resolution_indexes`) tag=network tag=resolution tag=dns\"",
            "base_search: \"tag=dns\\n[evil]\\nsearch = *\"",
        )
    });
    let run = build(&stanza);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("sources.dns.base_search: a line break"),
        "{}",
        run.stderr
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lone_cr_file_is_one_line_said_once_and_shown_visibly() {
    let dir = scratch("lone-cr");
    let path = dir.join("cr.trip");
    fs::write(&path, UNFORMATTED.replace('\n', "\r")).unwrap();
    let run = tripline(&["check", text(&path)]);
    assert!(!run.stderr.contains('\r'), "a raw CR reached the terminal");
    assert_eq!(
        run.stderr.matches("warning[W0010]").count(),
        1,
        "{}",
        run.stderr
    );
    // Only LF ends a line (language.md 1.4): the first CR is column 18 of line 1.
    let at = format!("{}:1:18", text(&path));
    assert!(run.stderr.contains(&at), "{}", run.stderr);
    assert!(run.stderr.contains('␍'), "{}", run.stderr);
    fs::remove_dir_all(&dir).unwrap();
}
