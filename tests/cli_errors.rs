//! Bad input gets one clear line in the user's language and exit code 2: no panic, no
//! backtrace, nothing on stdout.

mod common;

use common::{ipc_lab, stdout_of};

/// (arguments, a word the English message must contain)
const CASES: &[(&[&str], &str)] = &[
    (&["frobnicate"], "frobnicate"),
    (&["two-node", "--ipc", "maybe"], "maybe"),
    (&["two-node", "--count", "-1"], "-1"),
    (&["two-node", "--count", "0"], "--count"),
    (&["cyclic", "--period", "abc"], "abc"),
    (&["cyclic", "--period", "5"], "--period"),
    (&["copies", "U,X"], "X"),
    (&["copies", ""], "empty"),
    (&["copies", "U,U,U,U,U,U,U,U,U,U,U,U,U,U,U,U,U"], "at most"),
    (&["two-node", "--format", "xml"], "xml"),
    (&["two-node", "--bogus"], "--bogus"),
    (&["lesson", "99"], "99"),
    (&["bench", "--sizes", "0"], "--sizes"),
    (&["bench", "--sizes", "64,huge"], "64,huge"),
    (&["bench", "--sizes", "64MiB"], "32 MiB"),
    (&["image-pipeline", "--size", "320"], "320"),
    (&["image-pipeline", "--size", "10x10"], "--size"),
    (&["image-pipeline", "--viewers", "3"], "--viewers"),
    (&["image-pipeline", "--viewer-callback", "weak"], "weak"),
    (&["image-pipeline", "--source", "camera:x"], "camera:x"),
    (&["image-pipeline", "--source", "/no/such/clip.mp4"], "/no/such/clip.mp4"),
    (&["image-pipeline", "--show", "png:"], "--show"),
    (&["image-pipeline", "--show", "tv"], "tv"),
    (&["image-pipeline", "--frames", "0"], "--frames"),
    (&["image-pipeline", "--fps", "-1"], "--fps"),
    (&["image-pipeline", "--text-scale", "9"], "--text-scale"),
    (&[], "command"),
];

fn check(args: &[&str], lang: &str) -> String {
    let mut full = args.to_vec();
    full.extend(["--lang", lang]);
    // The locale stays neutral: `--lang` alone must choose the language, even where clap
    // never gets to parse it (after an unknown subcommand).
    let runtime = tempfile::tempdir().unwrap();
    let out = common::command(runtime.path()).args(&full).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: not one line: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    stderr
}

#[test]
fn bad_input_is_one_line_and_exit_code_2_in_english() {
    for (args, word) in CASES {
        let line = check(args, "en");
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains(word), "{args:?}: '{line}' does not mention {word}");
        // Where to look next: the help, or for a lesson that does not exist, the list.
        assert!(line.contains("'ipc-lab --help'") || line.contains("'ipc-lab lesson'"), "{line}");
    }
}

#[test]
fn bad_input_is_explained_in_korean() {
    for (args, _) in CASES {
        let line = check(args, "ko");
        assert!(line.starts_with("오류: "), "{args:?}: {line}");
        // The explanation itself is Korean, not clap's English behind a Korean prefix.
        let body = line.trim_start_matches("오류: ");
        assert!(body.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)), "{args:?}: {line}");
    }
}

/// `--help` and `--version` are not errors.
#[test]
fn help_and_version_exit_zero() {
    assert!(stdout_of(&["--help"]).contains("two-node"));
    assert!(stdout_of(&["--version"]).starts_with("ipc-lab "));
    assert_eq!(ipc_lab(&["copies", "--help"]).status.code(), Some(0));
}

/// Korean `--help` for a Korean learner on `LANG=C.UTF-8`: by `--lang ko`, or once for
/// every command by `IPC_LAB_LANG=ko`; `--lang` still wins over the variable.
#[test]
fn help_is_korean_with_lang_ko_or_ipc_lab_lang() {
    let korean = |out: std::process::Output| {
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        (text.contains("사용법:") && text.contains("옵션:") && !text.contains("Options:"), text)
    };
    let (ko, text) = korean(ipc_lab(&["two-node", "--help", "--lang", "ko"]));
    assert!(ko, "{text}");
    let runtime = tempfile::tempdir().unwrap();
    let with_var =
        |args: &[&str]| common::command(runtime.path()).env("IPC_LAB_LANG", "ko").args(args).output().unwrap();
    let (ko, text) = korean(with_var(&["copies", "--help"]));
    assert!(ko, "{text}");
    let (ko, text) = korean(with_var(&["--help", "--lang", "en"]));
    assert!(!ko && text.contains("Options:"), "{text}");
    // The variable reaches everything the tool says, errors included.
    let out = with_var(&["two-node", "--ipc", "maybe"]);
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("오류: "));
}

/// An unset ROS_DOMAIN_ID is not shown as `[env: ROS_DOMAIN_ID=]`, an empty value.
#[test]
fn help_shows_no_empty_environment_value() {
    let help = stdout_of(&["two-node", "--help"]);
    assert!(help.contains("ROS_DOMAIN_ID]") && !help.contains("ROS_DOMAIN_ID="), "{help}");
}

/// A reader that goes away early (`| head`) ends the run quietly, with success.
#[test]
fn closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let runtime = tempfile::tempdir().unwrap();
    let mut child = common::command(runtime.path())
        .args(["two-node", "--period", "0", "--format", "classic"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
