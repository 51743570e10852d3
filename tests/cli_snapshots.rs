//! Snapshots of every demo in every `--ipc` mode and format, in both languages, with
//! `--stable` labels so "same address" and "different address" stay visible.

mod common;

use common::stdout_of;

const DEMOS: [&str; 2] = ["two-node", "cyclic"];
const MODES: [&str; 3] = ["on", "off", "both"];

fn run(demo: &str, ipc: &str, format: &str, lang: &str) -> String {
    stdout_of(&[demo, "--ipc", ipc, "--format", format, "--lang", lang, "--stable", "--period", "0", "--count", "3"])
}

/// The side view, in English and Korean.
#[test]
fn side_views() {
    for demo in DEMOS {
        for ipc in MODES {
            for lang in ["en", "ko"] {
                snapshot!(format!("{demo}-{ipc}-side-{lang}"), run(demo, ipc, "side", lang));
            }
        }
    }
}

/// Upstream's own lines and the JSON events carry none of the tool's words: the same in
/// both languages, so one snapshot each, and a check that Korean changes nothing. Only the
/// column headings of `--ipc both --format classic` are the tool's, so that one has two.
#[test]
fn classic_and_json_views() {
    for demo in DEMOS {
        for ipc in MODES {
            for format in ["classic", "json"] {
                let (en, ko) = (run(demo, ipc, format, "en"), run(demo, ipc, format, "ko"));
                if ipc == "both" && format == "classic" {
                    assert_eq!(en.lines().skip(1).collect::<Vec<_>>(), ko.lines().skip(1).collect::<Vec<_>>());
                    snapshot!(format!("{demo}-{ipc}-{format}-ko"), ko);
                } else {
                    assert_eq!(en, ko, "{demo} {ipc} {format} depends on the language");
                }
                snapshot!(format!("{demo}-{ipc}-{format}"), en);
            }
        }
    }
}

/// `ipc-lab copies` for every row of the design table, and with an outside subscriber.
#[test]
fn copies_tables() {
    for spec in ["U", "U,U", "S", "S,S", "U,S", "U,S,S", "U,U,S,S"] {
        snapshot!(format!("copies-{spec}"), stdout_of(&["copies", spec, "--stable"]));
    }
    snapshot!("copies-U,S-inter-ko", stdout_of(&["copies", "U,S", "--inter", "--stable", "--lang", "ko"]));
}

/// `const T &` (R) and `SharedPtr` (P) callbacks are owners; a `SharedPtr` buffer behind a
/// `UniquePtr` callback (`U/S`) copies when the callback takes the message.
#[test]
fn copies_tables_for_every_signature() {
    for spec in ["R", "R,R", "P,S"] {
        snapshot!(format!("copies-{spec}"), stdout_of(&["copies", spec, "--stable"]));
    }
    snapshot!("copies-U-with-shared-buffer", stdout_of(&["copies", "U/S", "--stable"]));
}

/// `copies` takes `--format json` like the demos; `--json`, the flag it had first, stays.
#[test]
fn copies_takes_format_json_and_keeps_json() {
    let format = common::stdout_of(&["copies", "U,S", "--stable", "--format", "json"]);
    let alias = common::stdout_of(&["copies", "U,S", "--stable", "--json"]);
    assert_eq!(format, alias);
    assert!(!common::events(&format).is_empty());
}
