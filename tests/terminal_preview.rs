//! `--show terminal` as a learner sees it: the pictures apart from the table, the text the
//! nodes drew on each frame written as text under its picture, the screen's width kept.

mod common;

use std::io::Read;
use std::process::Stdio;

/// Piped, the pictures are one final frame on stderr, whatever the format: stdout carries
/// the table (or upstream's lines) and nothing of a picture; stderr has one picture per
/// view, no wider than `COLUMNS`, with the three lines drawn on that frame under it.
#[test]
fn piped_the_last_frame_is_written_once_apart_from_the_table() {
    for format in ["side", "classic"] {
        let args = [
            "image-pipeline",
            "--source",
            "synthetic",
            "--frames",
            "4",
            "--show",
            "terminal",
            "--stable",
            "--lang",
            "en",
            "--format",
            format,
        ];
        let runtime = tempfile::tempdir().unwrap();
        let out = common::command(runtime.path()).env("COLUMNS", "60").args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stdout.contains("── image_view_node"), "{format}: a picture in the table:\n{stdout}");
        let titles: Vec<&str> = stderr.lines().filter(|l| l.starts_with("── ")).collect();
        assert_eq!(titles, ["── image_view_node · frame 4 · 320x240 bgr8"], "{format}:\n{stderr}");
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        assert_eq!(
            tail,
            [
                "image_view_node: pid: pid#1, ptr: @4",
                "watermark_node: pid: pid#1, ptr: @4 Hello world!",
                "camera_node: pid: pid#1, ptr: @4"
            ],
            "{format}:\n{stderr}"
        );
        let widest = stderr.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!((50..=60).contains(&widest), "{format}: pictures {widest} wide in 60 columns:\n{stderr}");
    }
}

/// On a terminal (a pseudo-terminal from `script`), the pictures are redrawn in place under
/// the table: between two redraws the new rows come first and the picture after them, never
/// a row inside a picture.
#[test]
fn on_a_terminal_the_pictures_are_redrawn_under_the_table() {
    let runtime = tempfile::tempdir().unwrap();
    let shown = format!(
        "{} image-pipeline --source synthetic --frames 45 --show terminal --lang en",
        env!("CARGO_BIN_EXE_ipc-lab")
    );
    let mut script = std::process::Command::new("script")
        .args(["-qfec", &shown, "/dev/null"])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("LANG", "C.UTF-8")
        .env("COLUMNS", "100")
        .env("LINES", "40")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut seen = Vec::new();
    script.stdout.take().unwrap().read_to_end(&mut seen).unwrap();
    assert!(script.wait().unwrap().success());
    let text = String::from_utf8_lossy(&seen).replace('\r', "");
    // Every redraw starts by going up to the pictures' first line and clearing down.
    let redraws: Vec<&str> = text.split("F\x1b[J").collect();
    assert!(redraws.len() > 2, "not redrawn in place:\n{text}");
    for chunk in &redraws[1..] {
        let lines: Vec<&str> = chunk.lines().collect();
        let title = lines.iter().position(|l| l.starts_with("── image_view_node · frame "));
        let title = title.unwrap_or_else(|| panic!("a redraw without a picture:\n{chunk}"));
        assert!(lines[title..].iter().all(|l| !l.contains("──▶")), "a row inside the picture:\n{chunk}");
        assert!(lines[title..].iter().any(|l| l.starts_with("camera_node: pid: ")), "no text under it:\n{chunk}");
    }
    assert!(text.contains(": 90 messages received"), "{text}");
}
