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
    // A value that starts with a hyphen is still the option's value, and said wrong as one.
    (&["two-node", "--period", "-1s"], "-1s"),
    (&["node", "producer", "--period", "-1s"], "-1s"),
    (&["image-pipeline", "--size", "-320x240"], "-320x240"),
    (&["bench", "--sizes", "-64"], "-64"),
    (&["bench", "--pipeline-sizes", "-64x48"], "-64x48"),
    (&["copies", "U,X"], "X"),
    (&["copies", ""], "empty"),
    (&["copies", "U,U,U,U,U,U,U,U,U,U,U,U,U,U,U,U,U"], "at most"),
    (&["two-node", "--format", "xml"], "xml"),
    (&["two-node", "--depth", "1001"], "--depth"),
    (&["cyclic", "--distro", "iron"], "iron"),
    (&["node", "camera_node", "--depth", "3"], "--depth"),
    (&["two-node", "--bogus"], "--bogus"),
    (&["lesson", "99"], "99"),
    (&["bench", "--sizes", "0"], "--sizes"),
    (&["bench", "--sizes", "64,huge"], "64,huge"),
    (&["bench", "--sizes", "64MiB"], "32 MiB"),
    (&["bench", "--camera-write", "64,128"], "one size"),
    (&["bench", "--camera-write", "0"], "--camera-write"),
    (&["bench", "--camera-write", "100GiB"], "32 MiB"),
    (&["bench", "--camera-write", "abc"], "abc"),
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
    (&["two-node", "--stable=yes"], "takes no value"),
    (&["node", "camera_node", "--source", "synthetic", "--size", "7680x4320", "--count", "1"], "64 MiB"),
    (&["echo", ""], "topic name"),
    (&["echo", "\u{1b}[2J"], "topic name"),
    (&["node", "producer", "--count", "1"], "receives nothing"),
    (&["node", "consumer", "--period", "1s"], "--period"),
    (&["node", "producer", "--show", "none"], "--show"),
    (&["node", "image_view_node", "--size", "640x480"], "--size"),
    (&["image-pipeline", "--loan"], "--transport shm"),
    (&["image-pipeline", "--loan", "--transport", "shm", "--ipc", "both"], "--ipc both"),
    (&["node", "camera_node", "--loan"], "--transport shm"),
    (&["node", "watermark_node", "--loan", "--transport", "socket"], "--transport shm"),
    (&["node", "image_view_node", "--loan", "--transport", "shm"], "--loan"),
    (&["node", "camera_node", "--viewer-callback", "loaned"], "--viewer-callback"),
    (&["two-node", "--loan"], "--transport shm"),
    (&["two-node", "--loan", "--transport", "shm", "--ipc", "both"], "--ipc both"),
    (&["cyclic", "--loan", "--transport", "shm"], "cyclic"),
    (&["node", "consumer", "--loan"], "--transport shm"),
    (&["node", "pipe1", "--loan", "--transport", "shm"], "--loan"),
];

/// An option at the end of the line without its value says that the value is missing
/// (it said "expected one of" and an empty list).
#[test]
fn a_missing_value_is_named() {
    for args in
        [&["two-node", "--count"][..], &["cyclic", "--period"], &["bench", "--plot"], &["image-pipeline", "--show"]]
    {
        for (lang, said) in [("en", "needs a value"), ("ko", "값이 빠졌습니다")] {
            let runtime = tempfile::tempdir().unwrap();
            let out = common::command(runtime.path()).args(["--lang", lang]).args(args).output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(said) && stderr.contains(args[args.len() - 1]), "{args:?}: {stderr}");
        }
    }
}

/// An option followed by another option has no value: the next option is not taken as its
/// value (`--count --lang ko` and `--period --lang ko` said "unknown argument 'ko'").
#[test]
fn the_next_option_is_not_a_missing_value() {
    let options: [&[&str]; 8] = [
        &["two-node", "--count"],
        &["image-pipeline", "--frames"],
        &["two-node", "--depth"],
        &["two-node", "--period"],
        &["node", "producer", "--period"],
        &["image-pipeline", "--size"],
        &["bench", "--sizes"],
        &["bench", "--pipeline-sizes"],
    ];
    for args in options {
        for (lang, said) in [("en", "needs a value"), ("ko", "값이 빠졌습니다")] {
            let runtime = tempfile::tempdir().unwrap();
            let out = common::command(runtime.path()).args(args).args(["--lang", lang]).output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(said) && stderr.contains(args[args.len() - 1]), "{args:?}: {stderr}");
        }
    }
}

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

/// What rclcpp refuses with IPC on is one line too, in rclcpp's words plus what to do, and
/// exit code 1 (the demo could not start): transient local under Humble.
#[test]
fn a_qos_rclcpp_refuses_is_one_line() {
    let cases: [(&[&str], &str, &str); 1] = [(
        &["--durability", "transient-local", "--distro", "humble"],
        "allowed only with volatile durability",
        "--distro jazzy",
    )];
    for (qos, said, what_to_do) in cases {
        for (lang, korean) in [("en", false), ("ko", true)] {
            let runtime = tempfile::tempdir().unwrap();
            let mut args = vec!["--lang", lang, "two-node", "--count", "1", "--period", "0"];
            args.extend(qos);
            let out = common::command(runtime.path()).args(&args).output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.contains(said) && !stderr.contains("panicked at"), "{stderr}");
            // What to do, in the user's language.
            assert!(stderr.contains(what_to_do), "{stderr}");
            assert_eq!(stderr.starts_with("오류: "), korean, "{stderr}");
        }
    }
    // Jazzy takes it.
    let out =
        ipc_lab(&["two-node", "--count", "1", "--period", "0", "--durability", "transient-local", "--distro", "jazzy"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Depth 0 is the middleware's default (keep last 1), with IPC on too: rclcpp reads back
    // the QoS the middleware reports.
    let out = ipc_lab(&["two-node", "--count", "1", "--period", "0", "--depth", "0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `--help` and `--version` are not errors.
#[test]
fn help_and_version_exit_zero() {
    assert!(stdout_of(&["--help"]).contains("two-node"));
    assert!(stdout_of(&["--version"]).starts_with("ipc-lab "));
    assert_eq!(ipc_lab(&["copies", "--help"]).status.code(), Some(0));
    assert!(stdout_of(&["help", "--help"]).contains("two-node"));
}

/// An empty `ROS_DOMAIN_ID` is unset, as in ROS 2: domain 0, not an error.
#[test]
fn an_empty_ros_domain_id_is_the_default_domain() {
    let runtime = tempfile::tempdir().unwrap();
    let out = common::command(runtime.path()).env("ROS_DOMAIN_ID", "").args(["ps", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = common::command(runtime.path()).env("ROS_DOMAIN_ID", "x").args(["ps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A runtime directory others can write to: `ps` and `--split` say so once, with its real
/// mode, and exit 1 (`ps` said nobody runs; `--split` printed an empty table, and the error
/// once per child).
#[test]
fn an_unsafe_runtime_dir_is_one_error() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o777, 0o1777] {
        let runtime = tempfile::tempdir().unwrap();
        let dir = runtime.path().join("ipc-lab");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        for args in [&["ps"][..], &["two-node", "--split", "--count", "1", "--period", "0"]] {
            let out = common::command(runtime.path()).args(args).output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.contains(&format!("mode {mode:o}")), "{args:?}: {stderr}");
        }
    }
}

/// `--show png:FILE` where FILE is a file says it is not a folder (it said "File exists").
#[test]
fn a_png_folder_that_is_a_file_is_named() {
    let runtime = tempfile::tempdir().unwrap();
    let file = runtime.path().join("frames");
    std::fs::write(&file, b"").unwrap();
    let show = format!("png:{}", file.display());
    let out = common::command(runtime.path())
        .args(["image-pipeline", "--source", "synthetic", "--frames", "1", "--show", &show])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a folder"), "{stderr}");
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
