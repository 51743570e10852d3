//! `ipc-lab bench`: correctness only, never wall-clock numbers. Every path and baseline is
//! measured at every size, the copies are the ones the engine's trace counts, the plot is
//! a well-formed SVG with one line per path, and the peer processes leave nothing behind.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

const PATHS: [&str; 7] =
    ["ipc-on", "ipc-off", "socket", "shm", "channel-baseline", "memcpy-baseline", "socketpair-baseline"];

/// Copies per hop: counted by the engine for the paths (callbacks take `ConstSharedPtr`, so
/// IPC off makes exactly its serialize and deserialize), by construction for the baselines.
fn expected_copies(path: &str) -> f64 {
    match path {
        "ipc-on" | "channel-baseline" => 0.0,
        "memcpy-baseline" => 1.0,
        // Serialized, deserialized.
        "ipc-off" | "socketpair-baseline" => 2.0,
        // Serialized, written into the socket, read out of it, deserialized.
        "socket" => 4.0,
        // Serialized, copied into the segment, deserialized from the mapping.
        "shm" => 3.0,
        other => panic!("unknown path {other}"),
    }
}

/// The files a run left in its runtime directory.
fn leftovers(runtime: &std::path::Path) -> Vec<String> {
    match std::fs::read_dir(runtime.join("ipc-lab")) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

/// `--json` is one object per path and size, with the fields tools rely on; `--plot`
/// writes an SVG with one polyline per path, the baselines dashed; the peers' files are
/// gone afterwards.
#[test]
fn quick_json_has_every_path_at_every_size_and_the_plot_one_line_each() {
    let runtime = tempfile::tempdir().unwrap();
    let plot = runtime.path().join("bench.svg");
    let out = common::command(runtime.path())
        .args(["bench", "--quick", "--sizes", "64,4096", "--json", "--plot"])
        .arg(&plot)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let seen: BTreeSet<(String, u64)> =
        rows.iter().map(|r| (r["path"].as_str().unwrap().to_string(), r["bytes"].as_u64().unwrap())).collect();
    let wanted: BTreeSet<(String, u64)> = PATHS.iter().flat_map(|p| [64, 4096].map(|b| (p.to_string(), b))).collect();
    assert_eq!(seen, wanted);
    assert_eq!(rows.len(), wanted.len(), "one line per path and size");
    for row in &rows {
        let path = row["path"].as_str().unwrap();
        assert_eq!(row["copies"].as_f64(), Some(expected_copies(path)), "{row}");
        let (p50, p99) = (row["p50_ns"].as_u64().unwrap(), row["p99_ns"].as_u64().unwrap());
        assert!(p50 > 0 && p50 <= p99, "{row}");
        assert!(row["msgs_per_s"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["samples"].as_u64().unwrap() >= 3, "{row}");
    }
    assert!(leftovers(runtime.path()).is_empty(), "{:?}", leftovers(runtime.path()));

    let svg = std::fs::read_to_string(&plot).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let lines: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("polyline")).collect();
    let names: Vec<&str> = lines.iter().map(|l| l.attribute("data-path").unwrap()).collect();
    assert_eq!(names, PATHS);
    for line in lines {
        let dashed = line.attribute("stroke-dasharray").is_some();
        assert_eq!(dashed, line.attribute("data-path").unwrap().ends_with("-baseline"));
        assert_eq!(line.attribute("points").unwrap().split(' ').count(), 2, "a point per size");
    }
}

/// The table names every path and baseline and ends with the targets, in Korean too; the
/// image pipeline's target is reported as not measured.
#[test]
fn quick_table_in_korean_lists_every_path_and_the_targets() {
    let out = common::stdout_of(&["bench", "--quick", "--sizes", "64", "--lang", "ko"]);
    for path in PATHS {
        assert!(out.contains(&format!("\n  {path} ")), "{path} missing:\n{out}");
    }
    assert!(out.contains("목표"), "{out}");
    assert!(out.contains("파이프라인") && out.contains("측정 안 함"), "{out}");
}

/// The peer process is for the bench only: not in the help.
#[test]
fn bench_is_in_the_help_and_its_peer_is_not() {
    let help = common::stdout_of(&["--help"]);
    assert!(help.contains("bench"), "{help}");
    assert!(!help.contains("bench-peer"), "{help}");
}
