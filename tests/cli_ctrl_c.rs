//! Ctrl-C ends a demo that runs "forever" cleanly: the summary is printed, exit code 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn ctrl_c_shuts_down_and_prints_the_summary() {
    let runtime = tempfile::tempdir().unwrap();
    let mut child = common::command(runtime.path())
        .args(["two-node", "--period", "20ms", "--lang", "en"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait for the first received message, then press Ctrl-C.
    let first_row = lines.by_ref().map(Result::unwrap).find(|l| l.contains("ownership moved"));
    assert!(first_row.is_some());
    common::interrupt(&child);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.last().is_some_and(|l| l.starts_with("summary: ")), "{rest:?}");
    // Nothing left behind in the runtime directory: no announcement, no socket.
    let left = common::leftovers(runtime.path());
    assert!(left.is_empty(), "{left:?}");
}
