//! Ctrl-C ends a demo that runs "forever" cleanly: the summary is printed, exit code 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn ctrl_c_shuts_down_and_prints_the_summary() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipc-lab"))
        .args(["two-node", "--period", "20ms", "--lang", "en"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait for the first received message, then press Ctrl-C.
    let first_row = lines.by_ref().map(Result::unwrap).find(|l| l.contains("ownership moved"));
    assert!(first_row.is_some());
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.last().is_some_and(|l| l.starts_with("summary: ")), "{rest:?}");
}
