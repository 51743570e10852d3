//! `ipc-lab bench`: correctness only, never wall-clock numbers. Every path and baseline is
//! measured at every size and the image pipeline at every frame size, the copies are the
//! ones the engine's trace counts, the plot is a well-formed SVG with one line per path, and
//! the peer processes leave nothing behind. With the `dds` feature the bench has a `dds`
//! path too, and runs in a network namespace with only loopback (`unshare -n`). With the
//! `iceoryx2` feature it has an `iceoryx2-baseline`, whose files in the runtime directory
//! and in `/dev/shm` are gone after the run, after a failed run and after a killed bench.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// Every path and baseline this build measures, in the table's order.
fn paths() -> Vec<&'static str> {
    let dds: &[&str] = if cfg!(feature = "dds") { &["dds"] } else { &[] };
    let iceoryx2: &[&str] = if cfg!(feature = "iceoryx2") { &["iceoryx2-baseline"] } else { &[] };
    [
        &["ipc-on", "ipc-off", "socket", "shm", "shm-loan"][..],
        dds,
        &["channel-baseline", "memcpy-baseline", "socketpair-baseline"],
        iceoryx2,
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
        // Loaned from iceoryx2, written in place, read in place.
        "iceoryx2-baseline" => Some(0.0),
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

/// `--camera-write` reaches the run: every line says how much the camera wrote before each
/// hop, and the table says it under the rows.
#[test]
fn a_camera_write_is_said_on_every_line_and_under_the_table() {
    let runtime = tempfile::tempdir().unwrap();
    let quick = ["bench", "--quick", "--sizes", "64", "--pipeline-sizes", "64x48", "--camera-write", "1MiB"];
    let rows = common::events(&bench(runtime.path(), &[&quick[..], &["--json"]].concat()));
    let hops: Vec<&Value> = rows.iter().filter(|r| !r["path"].as_str().unwrap().starts_with("pipeline-")).collect();
    assert_eq!(hops.len(), paths().len(), "{rows:?}");
    for row in hops {
        assert_eq!(row["camera_write"].as_u64(), Some(1 << 20), "{row}");
    }
    let table = bench(runtime.path(), &[&quick[..], &["--lang", "en"]].concat());
    assert!(table.contains("Before each timed hop the camera wrote 1 MiB of other memory"), "{table}");
    let left = common::leftovers(runtime.path());
    assert!(left.is_empty(), "{left:?}");
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

/// The iceoryx2 baseline's files of the run of bench pid `run`: its root directory in the
/// runtime directory, and its shared memory in `/dev/shm`.
#[cfg(feature = "iceoryx2")]
fn iceoryx2_files(runtime: &std::path::Path, run: u32) -> Vec<String> {
    let root = runtime.join("ipc-lab").join(format!("iceoryx2-{run}"));
    let prefix = format!("ipclab{}_{run}_", nix::unistd::getuid());
    let shm = std::fs::read_dir("/dev/shm").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    let shm = shm.filter(|name| name.starts_with(&prefix)).map(|name| format!("/dev/shm/{name}"));
    root.exists().then(|| root.display().to_string()).into_iter().chain(shm).collect()
}

/// The pid of the iceoryx2 peer of the run of bench pid `run`, once it is listening (its
/// event socket is in the run's root directory).
#[cfg(feature = "iceoryx2")]
fn iceoryx2_peer(runtime: &std::path::Path, run: u32) -> i32 {
    let root = runtime.join("ipc-lab").join(format!("iceoryx2-{run}"));
    let wanted = ["bench-iceoryx2-peer", "--run", &run.to_string()].join("\0");
    for _ in 0..3000 {
        let listening = std::fs::read_dir(&root)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".event")))
            .unwrap_or(false);
        let peer = std::fs::read_dir("/proc").unwrap().flatten().find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            String::from_utf8_lossy(&cmdline).contains(&wanted).then_some(pid)
        });
        if let (true, Some(pid)) = (listening, peer) {
            return pid;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("no iceoryx2 peer of {run} listening after 30 s");
}

/// Waits until process `pid` has ended (a zombie nobody reaps counts as ended).
#[cfg(feature = "iceoryx2")]
fn wait_ended(pid: i32) {
    for _ in 0..1000 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) if !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z') => {}
            _ => return,
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("process {pid} still running after 10 s");
}

/// A bench that is not quick: it is still running when the test kills something.
#[cfg(feature = "iceoryx2")]
fn long_bench(runtime: &std::path::Path) -> std::process::Child {
    let args = ["bench", "--sizes", "64,4096", "--pipeline-sizes", "64x48"];
    let mut command = common::command_offline(runtime);
    command.args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    command.spawn().unwrap()
}

/// SIGKILL of the bench in the middle of a run: its iceoryx2 peer gets SIGTERM (it dies with
/// its parent), stops, and removes the run's iceoryx2 files, the bench's included.
#[cfg(feature = "iceoryx2")]
#[test]
fn a_killed_bench_leaves_no_iceoryx2_files() {
    let runtime = tempfile::tempdir().unwrap();
    let mut bench = long_bench(runtime.path());
    let run = bench.id();
    let peer = iceoryx2_peer(runtime.path(), run);
    assert!(!iceoryx2_files(runtime.path(), run).is_empty(), "the run made no files to remove");
    bench.kill().unwrap();
    bench.wait().unwrap();
    wait_ended(peer);
    assert_eq!(iceoryx2_files(runtime.path(), run), Vec::<String>::new());
}

/// SIGKILL of the iceoryx2 peer: the run fails in one clear line naming the path, without a
/// panic, and the bench removes the run's iceoryx2 files, the dead peer's included.
#[cfg(feature = "iceoryx2")]
#[test]
fn a_killed_iceoryx2_peer_fails_the_run_and_leaves_no_files() {
    let runtime = tempfile::tempdir().unwrap();
    let bench = long_bench(runtime.path());
    let run = bench.id();
    let peer = iceoryx2_peer(runtime.path(), run);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(peer), nix::sys::signal::Signal::SIGKILL).unwrap();
    let out = bench.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("iceoryx2-baseline") && !stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(iceoryx2_files(runtime.path(), run), Vec::<String>::new());
}

/// A run killed together with its peer (nothing left to clean up) has its files removed by
/// the next run; that run leaves none of its own.
#[cfg(feature = "iceoryx2")]
#[test]
fn the_next_run_removes_the_iceoryx2_files_of_a_run_killed_whole() {
    use std::os::unix::fs::DirBuilderExt;

    let runtime = tempfile::tempdir().unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let dead = gone.id();
    let root = runtime.path().join("ipc-lab").join(format!("iceoryx2-{dead}"));
    std::fs::DirBuilder::new().mode(0o700).recursive(true).create(root.join("nodes")).unwrap();
    std::fs::write(root.join("nodes").join("left.node_monitor"), "").unwrap();
    let shm = format!("/dev/shm/ipclab{}_{dead}_left.data", nix::unistd::getuid());
    std::fs::write(&shm, "").unwrap();
    assert_eq!(iceoryx2_files(runtime.path(), dead).len(), 2);

    let args = ["bench", "--quick", "--sizes", "64", "--pipeline-sizes", "64x48"];
    let command = common::command_offline(runtime.path()).args(args).stdout(std::process::Stdio::piped()).spawn();
    let bench = command.unwrap();
    let run = bench.id();
    common::succeeded(&args, bench.wait_with_output().unwrap());
    assert_eq!(iceoryx2_files(runtime.path(), dead), Vec::<String>::new());
    assert_eq!(iceoryx2_files(runtime.path(), run), Vec::<String>::new());
}
