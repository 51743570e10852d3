//! `--diagram FILE.svg` draws what the text view shows: one arrow per delivery, labelled
//! with the same addresses, copies in red.

mod common;

/// The text of every `<text class="label" ...>` element, in order.
fn labels(svg: &str) -> Vec<String> {
    svg.split("<text class=\"label\"")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').expect("a closed tag") + 1;
            let end = rest.find("</text>").expect("an end tag");
            rest[start..end].replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")
        })
        .collect()
}

/// The sender's and receiver's address labels of each row of the side view.
fn rows(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|l| {
            let addrs: Vec<&str> = l.split_whitespace().filter(|w| w.starts_with('@')).collect();
            (addrs[0].to_string(), addrs[1].to_string())
        })
        .collect()
}

#[test]
fn one_arrow_per_delivery_with_the_text_views_addresses() {
    for (args, copies) in [
        (&["two-node", "--ipc", "off", "--count", "3", "--period", "0"][..], 3),
        (&["cyclic", "--count", "4", "--period", "0"][..], 0),
        (&["image-pipeline", "--viewers", "2", "--source", "synthetic", "--frames", "2", "--show", "none"][..], 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.svg");
        let mut full: Vec<&str> = args.to_vec();
        let path_arg = path.to_str().unwrap();
        full.extend(["--stable", "--lang", "en", "--diagram", path_arg]);
        let text = common::stdout_of(&full);
        let svg = std::fs::read_to_string(&path).expect("the diagram is written");
        assert!(svg.starts_with("<svg"), "{svg}");
        let rows = rows(&text);
        assert!(!rows.is_empty(), "{text}");
        assert_eq!(svg.matches("class=\"delivery").count(), rows.len(), "{args:?}:\n{text}\n{svg}");
        let labels = labels(&svg);
        for ((from, to), label) in rows.iter().zip(&labels) {
            assert!(label.contains(&format!("{from} → {to}")), "{args:?}: {label} is not {from} → {to}");
        }
        assert_eq!(svg.matches("class=\"delivery copy\"").count(), copies, "{args:?}");
    }
}

/// The pictures in lessons/ are what the command the lesson shows draws today.
#[test]
fn lesson_pictures_are_real_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let Some(command) = line.strip_prefix("$ ipc-lab ") else { continue };
            let args: Vec<&str> = command.split_whitespace().collect();
            let Some(at) = args.iter().position(|a| *a == "--diagram") else { continue };
            let file = args[at + 1];
            let runtime = tempfile::tempdir().unwrap();
            let out = common::command(runtime.path())
                .env("IPC_LAB_LANG", "ko")
                .current_dir(runtime.path())
                .args(&args)
                .output()
                .unwrap();
            assert!(out.status.success(), "{command}");
            let drawn = std::fs::read_to_string(runtime.path().join(file)).unwrap();
            let kept = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            assert!(drawn == kept, "lessons/{file} is not what `ipc-lab {command}` draws: run it in lessons/");
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} pictures");
}

/// `--ipc both` draws both runs, IPC off beside IPC on as the side view puts them, each
/// arrow with the addresses its side of the row shows: the IPC-off run was left out before.
#[test]
fn both_runs_are_drawn_side_by_side() {
    for (args, on_copies, off_copies) in [
        (&["two-node", "--ipc", "both", "--count", "3", "--period", "0"][..], 0, 3),
        (&["image-pipeline", "--ipc", "both", "--source", "synthetic", "--frames", "2", "--show", "none"][..], 0, 4),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("both.svg");
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--stable", "--lang", "en", "--diagram", path.to_str().unwrap()]);
        let text = common::stdout_of(&full);
        let svg = std::fs::read_to_string(&path).expect("the diagram is written");
        // Each row: the IPC-on sender and receiver, then the IPC-off ones.
        let rows: Vec<Vec<String>> = text
            .lines()
            .filter(|l| l.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()))
            .map(|l| l.split_whitespace().filter(|w| w.starts_with('@')).map(String::from).collect())
            .collect();
        assert!(!rows.is_empty() && rows.iter().all(|r| r.len() == 4), "{text}");
        let (on, off) = svg
            .split_once("class=\"run\" x=")
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split_once("class=\"run\" x="))
            .expect("two runs, named");
        assert!(on.contains(">IPC on</text>") && off.contains(">IPC off</text>"), "{svg}");
        for (half, pick, copies) in [(on, 0, on_copies), (off, 2, off_copies)] {
            assert_eq!(half.matches("class=\"delivery").count(), rows.len(), "{args:?}:\n{text}\n{svg}");
            assert_eq!(half.matches("class=\"delivery copy\"").count(), copies, "{args:?}:\n{svg}");
            for (row, label) in rows.iter().zip(labels(half)) {
                let (from, to) = (&row[pick], &row[pick + 1]);
                assert!(label.contains(&format!("{from} → {to}")), "{args:?}: {label} is not {from} → {to}");
            }
        }
    }
}
