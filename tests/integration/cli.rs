//! The command line, end to end.

use assert_cmd::Command;

#[test]
fn version_prints_and_exits_zero() {
    Command::cargo_bin("tripline")
        .unwrap()
        .arg("--version")
        .assert()
        .success();
}
