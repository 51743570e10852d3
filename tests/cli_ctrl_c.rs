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

/// On a terminal, Ctrl-C is echoed as `^C` where the cursor stands; the summary then
/// starts on a line of its own, not as `^Csummary`. `script` gives the run a real terminal
/// (a pseudo-terminal), and the Ctrl-C is typed into it as a learner would.
#[test]
fn after_ctrl_c_on_a_terminal_the_summary_starts_a_new_line() {
    use std::io::{Read, Write};
    let runtime = tempfile::tempdir().unwrap();
    let shown = format!("{} two-node --period 20ms --lang en", env!("CARGO_BIN_EXE_ipc-lab"));
    let mut script = std::process::Command::new("script")
        .args(["-qfec", &format!("{shown} --color never"), "/dev/null"])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdout = script.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("ownership moved") {
        let n = stdout.read(&mut buffer).unwrap();
        assert!(n > 0, "the demo ended before its first row: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buffer[..n]);
    }
    script.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
    stdout.read_to_end(&mut seen).unwrap();
    let _ = script.wait();
    let text = String::from_utf8_lossy(&seen).replace('\r', "");
    assert!(text.contains("^C\nsummary: "), "{text}");
}
