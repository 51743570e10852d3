//! `ipc-lab bench`: correctness only, never wall-clock numbers. Every path and baseline is
//! measured at every size and the image pipeline at every frame size, the copies are the
//! ones the engine's trace counts, the plot is a well-formed SVG with one line per path, and
//! the peer processes leave nothing behind. With the `dds` feature the bench has a `dds`
//! path too, and runs in a network namespace with only loopback (`unshare -n`).

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// Every path and baseline this build measures, in the table's order.
fn paths() -> Vec<&'static str> {
    let dds: &[&str] = if cfg!(feature = "dds") { &["dds"] } else { &[] };
    [
        &["ipc-on", "ipc-off", "socket", "shm", "shm-loan"][..],
        dds,
        &["channel-baseline", "memcpy-baseline", "socketpair-baseline"],
    ]
    .concat()
}

/// A bench run in `runtime` that must succeed: its stdout.
fn bench(runtime: &std::path::Path, args: &[&str]) -> String {
    common::succeeded(args, common::command_offline(runtime).args(args).output().expect("the ipc-lab binary runs"))
}

/// The image pipeline with IPC on and off, and its direct loop.
const PIPELINES: [&str; 3] = ["pipeline-ipc-on", "pipeline-ipc-off", "pipeline-direct"];

/// Small frames keep the test fast; the pipeline is the same at any size.
const PIPELINE_SIZES: [(u64, u64); 2] = [(64, 48), (96, 64)];

/// Copies per hop the engine's trace must count on its paths (callbacks take
/// `ConstSharedPtr`, so IPC off makes exactly its serialize and deserialize); `None` for the
/// baselines, whose copies are fixed by construction and prove nothing here.
fn expected_copies(path: &str) -> Option<f64> {
    match path {
        "ipc-on" => Some(0.0),
        // Serialized, deserialized.
        "ipc-off" => Some(2.0),
        // Serialized, written into the socket, read out of it, deserialized.
        "socket" => Some(4.0),
        // Serialized straight into a shared-memory slot; the peer's `Loaned<Image>` view reads
        // it there.
        "shm" => Some(1.0),
        // Loaned: the pixels written in place, read in place.
        "shm-loan" => Some(0.0),
        // Serialized, handed to Cyclone, taken out of Cyclone, deserialized; what Cyclone
        // copies inside is not counted.
        "dds" => Some(4.0),
        _ => None,
    }
}

/// Copies per frame of the image pipeline, as the engine's trace counted them: none with
/// IPC on; with IPC off, at each of the two hops a serialize, a deserialize and rclcpp's
/// copy into the `UniquePtr` the next node takes. (The direct loop has none by construction.)
fn expected_copies_per_frame(path: &str) -> Option<f64> {
    match path {
        "pipeline-ipc-on" => Some(0.0),
        "pipeline-ipc-off" => Some(6.0),
        _ => None,
    }
}

/// `--json` is one object per path and size, then per pipeline and frame size, with the
/// fields tools rely on; `--plot` writes an SVG with one polyline per path, the baselines
/// dashed; the peers' files are gone afterwards.
#[test]
fn quick_json_has_every_path_at_every_size_and_the_plot_one_line_each() {
    let runtime = tempfile::tempdir().unwrap();
    let plot = runtime.path().join("bench.svg");
    let plot_arg = plot.to_str().unwrap();
    let all = common::events(&bench(
        runtime.path(),
        &["bench", "--quick", "--sizes", "64,4096", "--pipeline-sizes", "96x64,64x48", "--json", "--plot", plot_arg],
    ));
    let (pipelines, rows): (Vec<Value>, Vec<Value>) =
        all.into_iter().partition(|r| r["path"].as_str().unwrap().starts_with("pipeline-"));
    let seen: BTreeSet<(String, u64)> =
        rows.iter().map(|r| (r["path"].as_str().unwrap().to_string(), r["bytes"].as_u64().unwrap())).collect();
    let wanted: BTreeSet<(String, u64)> = paths().iter().flat_map(|p| [64, 4096].map(|b| (p.to_string(), b))).collect();
    assert_eq!(seen, wanted);
    assert_eq!(rows.len(), wanted.len(), "one line per path and size");
    for row in &rows {
        let path = row["path"].as_str().unwrap();
        if let Some(copies) = expected_copies(path) {
            assert_eq!(row["copies"].as_f64(), Some(copies), "{row}");
        }
        assert!(row["p50_ns"].as_u64().unwrap() > 0, "{row}");
        assert!(row["msgs_per_s"].as_f64().unwrap() > 0.0, "{row}");
    }
    let left = common::leftovers(runtime.path());
    assert!(left.is_empty(), "{left:?}");

    let seen: BTreeSet<(String, u64, u64)> = pipelines
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap()))
        .collect();
    let wanted: BTreeSet<(String, u64, u64)> =
        PIPELINES.iter().flat_map(|p| PIPELINE_SIZES.map(|(w, h)| (p.to_string(), w, h))).collect();
    assert_eq!(seen, wanted);
    assert_eq!(pipelines.len(), wanted.len(), "one line per pipeline and frame size");
    for row in &pipelines {
        let path = row["path"].as_str().unwrap();
        if let Some(copies) = expected_copies_per_frame(path) {
            assert_eq!(row["copies_per_frame"].as_f64(), Some(copies), "{row}");
        }
        assert!(row["fps"].as_f64().unwrap() > 0.0, "{row}");
    }

    let svg = std::fs::read_to_string(&plot).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let lines: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("polyline")).collect();
    let names: Vec<&str> = lines.iter().map(|l| l.attribute("data-path").unwrap()).collect();
    assert_eq!(names, paths());
    for line in lines {
        let dashed = line.attribute("stroke-dasharray").is_some();
        assert_eq!(dashed, line.attribute("data-path").unwrap().ends_with("-baseline"));
        assert_eq!(line.attribute("points").unwrap().split(' ').count(), 2, "a point per size");
    }
}

/// The table names every path, baseline and pipeline and ends with the targets, in Korean
/// too; the image pipeline's target has a measured ratio (whether it holds is the
/// machine's business, not the test's).
#[test]
fn quick_table_in_korean_lists_every_path_and_the_targets() {
    let runtime = tempfile::tempdir().unwrap();
    let out =
        bench(runtime.path(), &["bench", "--quick", "--sizes", "64", "--pipeline-sizes", "64x48", "--lang", "ko"]);
    for path in paths().iter().chain(&PIPELINES) {
        assert!(out.contains(&format!("\n  {path} ")), "{path} missing:\n{out}");
    }
    assert!(out.contains("\n64x48 bgr8\n"), "{out}");
    assert!(out.contains("목표"), "{out}");
    let target = out.lines().find(|l| l.contains("파이프라인: IPC 켬")).unwrap_or_else(|| panic!("{out}"));
    assert!(target.contains("64x48 bgr8") && target.contains("(목표 ≥ 0.8×)"), "{target}");
    assert!(!target.contains("측정 안 함") && (target.contains('✓') || target.contains('✗')), "{target}");
}

/// The peer process is for the bench only: not in the help.
#[test]
fn bench_is_in_the_help_and_its_peer_is_not() {
    let help = common::stdout_of(&["--help"]);
    assert!(help.contains("bench"), "{help}");
    assert!(!help.contains("bench-peer"), "{help}");
}

/// A plot that cannot be written (a full disk) costs neither the table nor a clear error.
#[test]
fn a_failed_plot_keeps_the_table() {
    let runtime = tempfile::tempdir().unwrap();
    let args = ["bench", "--quick", "--sizes", "64", "--pipeline-sizes", "64x48", "--plot", "/dev/full"];
    let out = common::command_offline(runtime.path()).args(args).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("socket"), "no table");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/dev/full"), "{stderr}");
}
