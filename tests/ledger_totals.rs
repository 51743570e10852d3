//! The ledger's totals are the trace's: for every demo, with IPC on and off, in one process,
//! with `--split`, as `node` pairs over a socket and over shared memory, and the image
//! pipeline with two views (unique and shared), the JSON of every process involved is
//! folded into one ledger, and
//! - every copy event is filed exactly once (claimed by a receipt, unclaimed with a reason,
//!   or the tool's own), so the end-to-end total is the sum of the `copied`, `serialized`,
//!   `deserialized`, `read` and `shm_written` events (a `mapped` event copies nothing);
//! - what each frame said its sender copied is what the sender's own events say;
//! - the summary the side view prints adds up: receipts × per message = total.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use ipc_lab::engine::trace::{EventKind, Publication, TraceEvent};
use ipc_lab::ledger::{Ledger, Tally, Totals};
use ipc_lab::render::json::from_json;

/// The events of JSON lines (other lines, such as summaries, are skipped).
fn parse(json: &str) -> Vec<TraceEvent> {
    json.lines().filter_map(from_json).collect()
}

/// Folds `events` and checks that every copy is filed once; returns the totals.
fn fold(what: &str, events: &[TraceEvent]) -> Totals {
    let mut ledger = Ledger::default();
    let receipts: Vec<_> = events.iter().filter_map(|e| ledger.record(e)).collect();
    let totals = ledger.totals();
    let counted: Tally = events.iter().filter_map(|e| e.kind.bytes_copied()).map(|b| Tally::one(b as u64)).sum();
    assert_eq!(totals.all, counted, "{what}: the ledger's copies are not the trace's");
    assert_eq!(
        totals.claimed + totals.unclaimed() + totals.tool_only,
        totals.all,
        "{what}: a copy filed twice or never"
    );
    assert_eq!(receipts.len() as u64, totals.receipts, "{what}");
    assert!(totals.receipts > 0, "{what}: nothing received");
    check_frames(what, events);
    totals
}

/// Every frame's claim (`copied_bytes`, `serialized_bytes`, `written_bytes`) matches what
/// its sender's events say, where the sender's events are in the trace.
fn check_frames(what: &str, events: &[TraceEvent]) {
    let sent_by = |p: Publication| -> Tally {
        events
            .iter()
            .filter(|e| e.pid == p.pid)
            .filter(|e| match &e.kind {
                EventKind::Copied { msg, .. } | EventKind::Serialized { msg, .. } => msg.publication == p,
                EventKind::Written { msg, .. } | EventKind::SharedMemoryWritten { msg, .. } => msg.publication == p,
                _ => false,
            })
            .filter_map(|e| e.kind.bytes_copied())
            .map(|b| Tally::one(b as u64))
            .sum()
    };
    for event in events {
        let EventKind::Received { msg, origin: Some(o), .. } = &event.kind else { continue };
        if !events.iter().any(|e| e.pid == o.pid) {
            continue;
        }
        let one = |b: usize| if b > 0 { Tally::one(b as u64) } else { Tally::default() };
        let claimed = one(o.copied_bytes) + one(o.serialized_bytes) + one(o.written_bytes);
        assert_eq!(claimed, sent_by(msg.publication), "{what}: a frame's claim differs from its sender's events");
    }
}

/// `N … × A … = T …` in a side view's summary line: checks N × A ≈ T (A is rounded).
fn check_summary(what: &str, side: &str) {
    let line = side.lines().find(|l| l.starts_with("summary")).unwrap_or_else(|| panic!("{what}: no summary:\n{side}"));
    let numbers = |text: &str| -> Vec<f64> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter_map(|w| w.parse().ok()).collect()
    };
    let (Some(received), Some(rest)) = (line.find(" received ×"), line.split_once('×')) else { return };
    let n = numbers(&line[..received]).last().copied().unwrap_or(0.0);
    let each = numbers(rest.1.split('=').next().unwrap_or(""))[0];
    let total = numbers(rest.1.split('=').nth(1).unwrap_or(""))[0];
    assert!((n * each - total).abs() <= n * 0.005 + 1e-9, "{what}: {n} × {each} ≠ {total}: {line}");
}

fn run(runtime: &Path, args: &[&str]) -> String {
    common::stdout_in(runtime, args)
}

const DEMOS: [&str; 2] = ["two-node", "cyclic"];
const IPC: [&str; 2] = ["on", "off"];

#[test]
fn one_process_and_split_add_up() {
    for demo in DEMOS {
        for ipc in IPC {
            let runtime = tempfile::tempdir().unwrap();
            let base = [demo, "--ipc", ipc, "--count", "3", "--period", "0"];
            let json = run(runtime.path(), &[&base[..], &["--format", "json"]].concat());
            fold(&format!("{demo} --ipc {ipc}"), &parse(&json));
            let side = run(runtime.path(), &[&base[..], &["--lang", "en"]].concat());
            check_summary(&format!("{demo} --ipc {ipc} (side)"), &side);
            for transport in ["socket", "shm"] {
                let split =
                    [demo, "--split", "--ipc", ipc, "--count", "3", "--period", "50ms", "--transport", transport];
                let what = format!("{demo} --split --ipc {ipc} --transport {transport}");
                let totals = fold(&what, &parse(&run(runtime.path(), &[&split[..], &["--format", "json"]].concat())));
                assert_eq!((totals.processes, totals.from_unseen_processes), (2, 0), "{what}");
                check_summary(&what, &run(runtime.path(), &[&split[..], &["--lang", "en"]].concat()));
            }
        }
    }
}

fn spawn(runtime: &Path, args: &[&str]) -> Child {
    common::command(runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap()
}

/// The output of a child that has ended.
fn output(child: Child) -> String {
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

/// The chapter's two terminals: a consumer that stops after 3 messages, and a producer
/// stopped after it. Each process alone sees part of the cost (its frames tell the rest);
/// together they add up.
#[test]
fn node_pairs_add_up_over_a_socket_and_shared_memory() {
    for transport in ["socket", "shm"] {
        for ipc in IPC {
            let runtime = tempfile::tempdir().unwrap();
            let common = ["--ipc", ipc, "--transport", transport, "--domain", "7", "--format", "json"];
            let consumer = spawn(runtime.path(), &[&["node", "consumer", "--count", "3"], &common[..]].concat());
            let producer = spawn(runtime.path(), &[&["node", "producer", "--period", "50ms"], &common[..]].concat());
            let started = Instant::now();
            let consumer_json = output(consumer);
            assert!(started.elapsed() < Duration::from_secs(30));
            common::interrupt(&producer);
            let producer_json = output(producer);
            let what = format!("node pair over {transport}, IPC {ipc}");
            let here = fold(&format!("{what}, the consumer alone"), &parse(&consumer_json));
            assert_eq!(here.from_unseen_processes, here.receipts, "{what}: every receipt came from the producer");
            let mut all = parse(&consumer_json);
            all.extend(parse(&producer_json));
            let both = fold(&what, &all);
            // What the consumer read from the frames is what the producer's events say.
            assert_eq!(both.end_to_end(), here.end_to_end(), "{what}");
        }
    }
}

/// The image pipeline with two views: rclcpp's copies and the tool's own add up apart.
#[test]
fn two_views_add_up() {
    for callback in ["unique", "shared"] {
        for ipc in IPC {
            let runtime = tempfile::tempdir().unwrap();
            let args = [
                "image-pipeline",
                "--viewers",
                "2",
                "--viewer-callback",
                callback,
                "--ipc",
                ipc,
                "--source",
                "synthetic",
                "--show",
                "none",
                "--frames",
                "3",
                "--stable",
            ];
            let what = format!("two views ({callback}), IPC {ipc}");
            let json = run(runtime.path(), &[&args[..], &["--format", "json"]].concat());
            // Stable labels cannot be read back; the unstable run is the same pipeline.
            let raw = run(runtime.path(), &[&args[..args.len() - 1], &["--format", "json"]].concat());
            assert!(!json.is_empty());
            let totals = fold(&what, &parse(&raw));
            let sharing = callback == "shared";
            assert_eq!(totals.tool_only.copies > 0, sharing, "{what}: only views that share draw on a copy");
            check_summary(&what, &run(runtime.path(), &[&args[..], &["--lang", "en"]].concat()));
        }
    }
}
