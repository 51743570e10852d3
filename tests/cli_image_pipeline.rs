//! `ipc-lab image-pipeline` run as a learner would: the text lines the nodes draw on each
//! frame (snapshots, with `--stable` labels), the PNG frames themselves, what each frame
//! costs, and what happens without a camera.

mod common;

use std::path::Path;

use common::{events, ipc_lab, kind, stdout_of};

/// A fresh, empty folder for one test's files.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ipc-lab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// A short, repeatable run: the synthetic camera, labels, nothing shown.
fn run(extra: &[&str]) -> String {
    let mut args = vec!["image-pipeline", "--source", "synthetic", "--frames", "3", "--show", "none", "--stable"];
    args.extend(extra);
    stdout_of(&args)
}

/// Every line each node drew, frame after frame (`--format classic`): with IPC on one pid
/// label and one pointer label per frame; with IPC off new pointers along the way; with two
/// owning views one copy; with two sharing views none.
#[test]
fn drawn_lines_per_frame() {
    let cases: &[(&str, &[&str])] = &[
        ("on", &["--ipc", "on"]),
        ("off", &["--ipc", "off"]),
        ("both", &["--ipc", "both"]),
        ("two-views", &["--viewers", "2"]),
        ("two-shared-views", &["--viewers", "2", "--viewer-callback", "shared"]),
        ("two-views-off", &["--viewers", "2", "--ipc", "off"]),
    ];
    for (name, args) in cases {
        let mut args = args.to_vec();
        args.extend(["--format", "classic"]);
        snapshot!(format!("image-pipeline-{name}-lines"), run(&args));
    }
}

/// The side view: a row per hop, the copy highlighted, and per-frame figures.
#[test]
fn side_views() {
    for lang in ["en", "ko"] {
        snapshot!(format!("image-pipeline-two-views-side-{lang}"), run(&["--viewers", "2", "--lang", lang]));
        snapshot!(format!("image-pipeline-both-side-{lang}"), run(&["--ipc", "both", "--lang", lang]));
    }
}

/// Two owning views: exactly one `copied` event per frame. The camera filling each new
/// message is a `filled` event of its own, with no `copied` beside it.
#[test]
fn json_two_views_one_copy_per_frame() {
    let json = run(&["--viewers", "2", "--format", "json"]);
    let events = events(&json);
    let copied = kind(&events, "copied");
    assert_eq!(copied.len(), 3);
    assert!(copied.iter().all(|e| e["node"] == "watermark_node" && e["reason"] == "not_last"));
    let filled = kind(&events, "filled");
    assert_eq!(filled.len(), 3);
    assert!(filled.iter().all(|e| e["node"] == "camera_node" && e["bytes"] == 320 * 240 * 3));
    assert_eq!(kind(&events, "shown").len(), 6);
}

/// The pointers written on each frame (the `drawn` events of a `--format json` run), frame
/// by frame: three lines per frame with one view.
fn pointers_per_frame(json: &str) -> Vec<Vec<String>> {
    let events = events(json);
    let lines: Vec<String> = kind(&events, "drawn").iter().map(|e| e["text"].as_str().unwrap().to_string()).collect();
    lines
        .chunks(3)
        .map(|frame| {
            frame.iter().map(|l| l.split("ptr: ").nth(1).unwrap().split(' ').next().unwrap().to_string()).collect()
        })
        .collect()
}

/// The done-when of issue 4: five PNG frames per run; with IPC on each frame's three lines
/// show one pid label and one pointer label, with IPC off the pointers differ.
#[test]
fn png_frames_with_ipc_on_and_off() {
    for ipc in ["on", "off"] {
        let dir = scratch(&format!("png-{ipc}"));
        let show = format!("png:{}", dir.display());
        let json = stdout_of(&[
            "image-pipeline",
            "--source",
            "synthetic",
            "--frames",
            "5",
            "--show",
            &show,
            "--stable",
            "--ipc",
            ipc,
            "--format",
            "json",
        ]);
        for n in 1..=5 {
            let file = dir.join(format!("image_view_node-{n:04}.png"));
            let (width, height, _) = decode(&file);
            assert_eq!((width, height), (320, 240), "{}", file.display());
        }
        let events = events(&json);
        assert!(kind(&events, "drawn").iter().all(|e| e["text"].as_str().unwrap().starts_with("pid: pid#1, ptr: @")));
        let frames = pointers_per_frame(&json);
        assert_eq!(frames.len(), 5);
        for frame in frames {
            if ipc == "on" {
                assert!(frame.iter().all(|p| *p == frame[0]), "{frame:?}");
            } else {
                assert_ne!(frame[0], frame[1], "{frame:?}");
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// A PNG file's width, height and RGB pixels.
fn decode(file: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(file).expect("the PNG file")));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

/// The first frame the view shows, as a PNG file.
fn first_frame(name: &str) -> (u32, u32, Vec<u8>) {
    let dir = scratch(name);
    let show = format!("png:{}", dir.display());
    stdout_of(&["image-pipeline", "--source", "synthetic", "--frames", "1", "--show", &show, "--stable"]);
    let frame = decode(&dir.join("image_view_node-0001.png"));
    std::fs::remove_dir_all(dir).unwrap();
    frame
}

/// The built-in backend draws pixel for pixel the same frame every time: the synthetic
/// camera's first frame with the three lines in the built-in font. To accept a change on
/// purpose, run with `IPC_LAB_UPDATE_GOLDEN=1` and look at the new file.
#[cfg(not(feature = "opencv"))]
#[test]
fn golden_frame() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/image_view_node-0001.png");
    let dir = scratch("golden");
    let show = format!("png:{}", dir.display());
    stdout_of(&["image-pipeline", "--source", "synthetic", "--frames", "1", "--show", &show, "--stable"]);
    let made = dir.join("image_view_node-0001.png");
    if std::env::var_os("IPC_LAB_UPDATE_GOLDEN").is_some() {
        std::fs::copy(&made, &golden).unwrap();
    }
    assert!(decode(&made) == decode(&golden), "the frame differs from {}", golden.display());
    std::fs::remove_dir_all(dir).unwrap();
}

/// With OpenCV the text comes from `putText`: upstream's green appears where the lines go
/// (the dark band on top), and nowhere else in the band.
#[cfg(feature = "opencv")]
#[test]
fn opencv_draws_with_put_text() {
    let (width, _, pixels) = first_frame("opencv");
    let green = |y: u32| (0..width).filter(|&x| pixels[((y * width + x) * 3) as usize..][..3] == [0, 255, 0]).count();
    for baseline in [20, 40, 60] {
        let lit: usize = (baseline - 8..=baseline).map(green).sum();
        assert!(lit > 50, "too little green above baseline {baseline}: {lit}");
    }
    assert_eq!(green(2), 0);
}

/// Both builds: a frame is the synthetic pattern with the three lines in green on top.
#[test]
fn frames_carry_the_three_lines() {
    let (width, height, pixels) = first_frame("lines");
    assert_eq!((width, height), (320, 240));
    let green_rows =
        (0..70).filter(|&y: &u32| (0..width).any(|x| pixels[((y * width + x) * 3) as usize..][..3] == [0, 255, 0]));
    assert!(green_rows.count() >= 15);
}

/// No camera: upstream's words and exit code 1. Each upstream `main` ends the line its own
/// way: `image_pipeline_all_in_one` with a space (`Exiting ..`), the others without.
#[test]
fn no_camera_fails_like_upstream() {
    for (viewers, said) in [("1", "Exiting .."), ("2", "Exiting..")] {
        let args = ["image-pipeline", "--viewers", viewers, "--source", "camera:7", "--frames", "1", "--show", "none"];
        let out = ipc_lab(&[&args[..], &["--lang", "en"]].concat());
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().next(), Some(format!("Could not open video stream! {said}").as_str()));
        assert!(out.stdout.is_empty());
    }
}

/// `--source auto` without a camera: the synthetic camera, and one line that says so.
#[test]
fn auto_falls_back_to_the_synthetic_camera() {
    let out = ipc_lab(&["image-pipeline", "--frames", "2", "--show", "none", "--stable", "--lang", "en"]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("note: ") && stderr.contains("synthetic"), "{stderr}");
    assert!(String::from_utf8(out.stdout).unwrap().contains("2 frames captured, 2 shown"));
}

/// A window where there can be none (no opencv, or no display): the terminal instead, said
/// in one line, and the frames drawn on stderr in plain characters.
#[test]
fn window_falls_back_to_the_terminal() {
    let out =
        ipc_lab(&["image-pipeline", "--source", "synthetic", "--frames", "1", "--show", "window", "--lang", "en"]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let mut lines = stderr.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("note: ") && l.contains("--show terminal")), "{stderr}");
    assert!(lines.next().is_some_and(|l| l.starts_with("── image_view_node · frame 1 · 320x240 bgr8")), "{stderr}");
}

/// A video file that is there but is no video: an error that names it, exit code 1 (last,
/// after whatever OpenCV's decoder says itself).
#[test]
fn unreadable_video_file_is_named() {
    let dir = scratch("video");
    let file = dir.join("not-a-video.mp4");
    std::fs::write(&file, b"hello").unwrap();
    let out = ipc_lab(&["image-pipeline", "--source", file.to_str().unwrap(), "--show", "none", "--lang", "en"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains("not-a-video.mp4"), "{stderr}");
    if cfg!(not(feature = "opencv")) {
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A frame that cannot be written (its file name is taken by a folder): the run stops with
/// an error that names the file and exit code 1, in Korean too; the frames before it stay.
#[test]
fn a_frame_that_cannot_be_shown_is_an_error() {
    for lang in ["en", "ko"] {
        let dir = scratch(&format!("png-blocked-{lang}"));
        std::fs::create_dir(dir.join("image_view_node-0002.png")).unwrap();
        let show = format!("png:{}", dir.display());
        let args = ["image-pipeline", "--source", "synthetic", "--frames", "5", "--show", &show, "--lang", lang];
        let out = ipc_lab(&args);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        let prefix = if lang == "en" {
            "error: cannot show a frame: "
        } else {
            "오류: 프레임을 보여 줄 수 없습니다: "
        };
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(prefix) && stderr.contains("image_view_node-0002.png"), "{stderr}");
        assert!(dir.join("image_view_node-0001.png").is_file());
        assert!(!dir.join("image_view_node-0003.png").exists(), "the run went on after the failure");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
