//! Every summary a learner reads adds up: each `요약`/`summary` line in the lessons and both
//! READMEs, illustrations included, is parsed and its arithmetic checked. `received × per
//! message = total` (to the rounding of what is shown), a scope split (this process + the
//! sending process) adds up to the total, and `in all` is the total plus every share named
//! beside it. The summaries of today's format must be there (no document keeps the old one).

use std::path::{Path, PathBuf};

/// A figure as shown: copies, and bytes with the rounding their unit allows.
#[derive(Debug, Clone, Copy)]
struct Shown {
    copies: f64,
    bytes: f64,
    /// Half the last shown digit of `bytes`, in bytes.
    slack: f64,
}

/// `20 B`, `225.1 KiB`, `1.3 MiB` at the start of `text`.
fn bytes_at(text: &str) -> Option<(f64, f64)> {
    let mut words = text.split_whitespace();
    let number: f64 = words.next()?.trim_start_matches('(').parse().ok()?;
    let unit = words.next()?.trim_end_matches([')', ',']);
    let (scale, slack) = match unit {
        "B" => (1.0, 0.5),
        "KiB" => (1024.0, 0.05 * 1024.0),
        "MiB" => (1024.0 * 1024.0, 0.05 * 1024.0 * 1024.0),
        "GiB" => (1024.0 * 1024.0 * 1024.0, 0.05 * 1024.0 * 1024.0 * 1024.0),
        _ => return None,
    };
    Some((number * scale, slack))
}

/// The figures of one part: `3번 (20 B)`, `3.0 copies (20 B)`, `9 copies (60 B) in this …`.
fn figure(part: &str) -> Option<Shown> {
    let words: Vec<&str> = part.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let number = word.trim_end_matches('번');
        let Ok(copies) = number.parse::<f64>() else { continue };
        let counted = word.ends_with('번') || words.get(i + 1).is_some_and(|w| w.starts_with("cop"));
        let after = if word.ends_with('번') { i + 1 } else { i + 2 };
        if !counted || !words.get(after).is_some_and(|w| w.starts_with('(')) {
            continue;
        }
        let (bytes, slack) = bytes_at(&words[after..].join(" "))?;
        return Some(Shown { copies, bytes, slack });
    }
    None
}

/// What is wrong with one summary line, if anything.
fn check(line: &str) -> Option<String> {
    let body = line.split_once(": ")?.1;
    let mut parts = body.split(" · ");
    let head = parts.next()?;
    let (received, rest) = head.split_once(" × ")?;
    let n: f64 = received.split_whitespace().find_map(|w| w.trim_end_matches('개').parse().ok())?;
    let (each, total) = rest.split_once(" = ")?;
    let (each, total) = (figure(each)?, figure(total)?);
    let mut problems = Vec::new();
    if (n * each.copies - total.copies).abs() > n * 0.005 + 1e-9 {
        problems.push(format!("{n} × {} copies is not {}", each.copies, total.copies));
    }
    if (n * each.bytes - total.bytes).abs() > n * (each.slack + 0.5) + total.slack {
        problems.push(format!("{n} × {} B is not {} B", each.bytes, total.bytes));
    }
    if let Some((_, split)) = rest.split_once(": ") {
        let halves: Vec<Shown> = split.split(" + ").filter_map(figure).collect();
        let sum = halves.iter().map(|h| h.copies).sum::<f64>();
        if halves.len() == 2 && (sum - total.copies).abs() > 1e-9 {
            problems.push(format!("the scope's parts make {sum}, not {}", total.copies));
        }
    }
    let shares: Vec<(&str, Shown)> = parts.filter_map(|p| figure(p).map(|f| (p, f))).collect();
    if let Some(((_, all), named)) = shares.split_last().filter(|(last, _)| is_all(last.0)) {
        let copies = total.copies + named.iter().map(|(_, s)| s.copies).sum::<f64>();
        let bytes = total.bytes + named.iter().map(|(_, s)| s.bytes).sum::<f64>();
        let slack = total.slack + all.slack + named.iter().map(|(_, s)| s.slack).sum::<f64>();
        if (copies - all.copies).abs() > 1e-9 || (bytes - all.bytes).abs() > slack {
            problems.push(format!(
                "the shares make {copies} copies, {bytes} B, not {} copies, {} B",
                all.copies, all.bytes
            ));
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn is_all(part: &str) -> bool {
    part.starts_with("모두") || part.starts_with("in all")
}

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("lessons"))
        .expect("lessons/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.extend(["README.md", "README.ko.md"].map(|f| root.join(f)));
    docs
}

/// The tentpole: no summary in the documents contradicts itself.
#[test]
fn every_summary_in_the_documents_adds_up() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("a document");
        for (i, line) in text.lines().enumerate() {
            let at = format!("{}:{}", doc.display(), i + 1);
            if line.contains("복사 모두") || line.contains("copies in all") {
                problems.push(format!("{at}: a summary in the old format: {line}"));
            }
            if !(line.starts_with("요약") || line.starts_with("summary")) || !line.contains(" × ") {
                continue;
            }
            checked += 1;
            if let Some(problem) = check(line) {
                problems.push(format!("{at}: {problem}: {line}"));
            }
        }
    }
    assert!(checked >= 20, "only {checked} summaries found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself catches a summary that does not add up.
#[test]
fn a_summary_that_does_not_add_up_is_caught() {
    let good = "요약: 받은 메시지 4개 × 복사 3.0번 (20 B) = 12번 (80 B), 한 프로세스 안에서 · 멈출 때 아직 가던 메시지 몫 1번 (8 B) · 모두 13번 (88 B) · 덮어쓰기 0개";
    assert_eq!(check(good), None);
    assert!(check(&good.replace("= 12번 (80 B)", "= 13번 (80 B)")).is_some());
    assert!(check(&good.replace("모두 13번 (88 B)", "모두 14번 (88 B)")).is_some());
    let split = "summary: 3 messages received × 5.0 copies (36 B) = 15 copies (108 B), end to end: 9 copies (60 B) in this process + 6 copies (48 B) in the sending process (as its frames say) · 0 overwritten";
    assert_eq!(check(split), None);
    assert!(check(&split.replace("6 copies (48 B) in the", "7 copies (48 B) in the")).is_some());
}
