//! Every view fits the screen: each demo in each mode, in Korean and English, with raw
//! addresses (the widest) and with `--stable`, rendered at 80 and at 120 columns
//! (`COLUMNS`), has no line wider than that, Hangul counted as two columns. Without a
//! width (piped, no `COLUMNS`) the rows stay one line each, as the snapshots show.

mod common;

use ipc_lab::render::style::visible_width;

/// Every demo and mode a learner runs; `--split` where its output does not depend on timing.
const RUNS: &[&[&str]] = &[
    &["two-node", "--count", "3", "--period", "0"],
    &["two-node", "--ipc", "off", "--count", "3", "--period", "0"],
    &["two-node", "--ipc", "both", "--count", "3", "--period", "0"],
    &["two-node", "--ipc", "both", "--count", "3", "--period", "0", "--format", "classic"],
    &["two-node", "--split", "--count", "3", "--period", "10ms"],
    &["two-node", "--split", "--ipc", "off", "--count", "3", "--period", "10ms"],
    &["cyclic", "--count", "3", "--period", "0"],
    &["cyclic", "--ipc", "off", "--count", "3", "--period", "0"],
    &["cyclic", "--ipc", "both", "--count", "3", "--period", "0"],
    &["image-pipeline", "--source", "synthetic", "--frames", "2", "--show", "none"],
    &["image-pipeline", "--source", "synthetic", "--frames", "2", "--show", "none", "--ipc", "off"],
    &["image-pipeline", "--source", "synthetic", "--frames", "2", "--show", "none", "--ipc", "both"],
    &[
        "image-pipeline",
        "--source",
        "synthetic",
        "--frames",
        "2",
        "--show",
        "none",
        "--ipc",
        "both",
        "--format",
        "classic",
    ],
    &["image-pipeline", "--source", "synthetic", "--frames", "2", "--show", "none", "--viewers", "2"],
    &["copies", "U,U,S,S", "--inter"],
    &["copies", "U/S,S"],
];

/// The lines of `ipc-lab ARGS` wider than `columns`, with the command that printed them.
fn too_wide(args: &[&str], columns: usize) -> Vec<String> {
    let runtime = tempfile::tempdir().expect("a temporary directory");
    let out = common::command(runtime.path()).env("COLUMNS", columns.to_string()).args(args).output().expect("runs");
    let stdout = common::succeeded(args, out);
    assert!(stdout.lines().count() > 2, "{args:?} printed almost nothing:\n{stdout}");
    let wide = stdout.lines().filter(|line| visible_width(line) > columns);
    wide.map(|line| format!("{columns} columns, {}: {line}", args.join(" "))).collect()
}

/// The tentpole: nothing wraps at 80 or 120 columns, in either language, raw or stable.
#[test]
fn every_view_fits_80_and_120_columns() {
    let mut cases = Vec::new();
    for run in RUNS {
        for lang in ["ko", "en"] {
            for stable in [false, true] {
                let mut args: Vec<&str> = vec!["--lang", lang];
                args.extend_from_slice(run);
                if stable {
                    args.push("--stable");
                }
                cases.push(args);
            }
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(args) = cases.get(i) else { break };
                for columns in [80, 120] {
                    found.lock().unwrap().extend(too_wide(args, columns));
                }
            });
        }
    });
    let found = found.into_inner().unwrap();
    assert!(found.is_empty(), "{} lines too wide:\n{}", found.len(), found.join("\n"));
}

/// A narrow screen changes the layout, not what is said: the same addresses and the same
/// copies are there, the copies of a row on the line under it.
#[test]
fn the_narrow_layout_keeps_every_figure() {
    let args = ["--lang", "en", "two-node", "--ipc", "off", "--count", "2", "--period", "0", "--stable"];
    let wide = common::stdout_of(&args);
    let runtime = tempfile::tempdir().expect("a temporary directory");
    let out = common::command(runtime.path()).env("COLUMNS", "80").args(args).output().expect("runs");
    let narrow = common::succeeded(&args, out);
    let words = |text: &str| {
        let mut words: Vec<String> = text.split_whitespace().map(String::from).collect();
        words.sort();
        words
    };
    assert_eq!(words(&wide), words(&narrow));
    assert!(narrow.contains("\n      3  serialize 8 B + deserialize 8 B + copy into UniquePtr 4 B\n"), "{narrow}");
    assert!(wide.lines().any(|l| l.contains("──▶") && l.contains("serialize 8 B")), "{wide}");
}

/// `ipc-lab ps` fits too: when a row with its topics and command would be wider than the
/// screen, they go on the lines under the row.
#[test]
fn ps_puts_a_long_command_under_its_row() {
    let runtime = tempfile::tempdir().expect("a temporary directory");
    let mut demo = common::command(runtime.path())
        .args(["two-node", "--period", "50ms", "--count", "2000"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the demo starts");
    let ps = |columns: &str| {
        let out = common::command(runtime.path()).env("COLUMNS", columns).args(["ps", "--lang", "en"]).output();
        String::from_utf8(out.expect("ps runs").stdout).expect("utf-8")
    };
    // Its announcement appears within a generous deadline (the machine may be busy), node
    // by node and endpoint by endpoint: the consumer's subscription comes last.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(ps("1000").contains("producer,consumer") && ps("80").contains("number / number")) {
        assert!(std::time::Instant::now() < deadline, "the demo never showed up in ps");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (wide, narrow) = (ps("1000"), ps("80"));
    let _ = demo.kill();
    let _ = demo.wait();
    assert!(wide.lines().any(|l| l.contains("producer,consumer") && l.contains("two-node --period 50ms")), "{wide}");
    assert!(narrow.lines().all(|l| visible_width(l) <= 80), "{narrow}");
    let lines: Vec<&str> = narrow.lines().collect();
    let row = lines.iter().position(|l| l.contains("producer,consumer")).expect("the demo's row");
    assert_eq!(lines[row + 1], "    PUBLISHES / SUBSCRIBES: number / number", "{narrow}");
    assert!(lines[row + 2].starts_with("    ") && lines[row + 2].contains("ipc-lab two-node"), "{narrow}");
}
