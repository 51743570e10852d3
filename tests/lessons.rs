//! Lessons stay true. Every `$ ipc-lab ...` line of a `console` block, in the lessons and in
//! both READMEs, runs as a learner would type it, and what it prints must be exactly what
//! the document shows under it. `console illustration` blocks (timing, other processes) must
//! still parse; `console pending` commands must not exist yet. A content check keeps the
//! index, the links and the shape of every lesson sound.
//!
//! After changing the tool's output on purpose, `LESSONS_BLESS=1 cargo test --test lessons`
//! writes the real outputs into the documents' `console` blocks: review that diff like any
//! other change. CI never sets it.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::CommandFactory;
use ipc_lab::cli::args::Cli;
use ipc_lab::lessons::markdown::{self, Block, Check, CodeBlock, Step};
use ipc_lab::lessons::{self, Lesson};
use ipc_lab::render::style::visible_width;

/// The sections every lesson has, in this order (others may stand between them).
const SECTIONS: [&str; 5] = ["목표", "개념", "따라 하기", "연습 문제", "소스 파일"];
/// The summary of an exercise's folded answer (`<details><summary>답 1</summary>`).
const ANSWER: &str = "답";
/// The width the shown outputs are printed at: an 80-column terminal less the four columns
/// `ipc-lab lesson` indents a code block by, so a lesson read in such a terminal shows every
/// output as the tool drew it.
const SHOWN_COLUMNS: &str = "76";
/// A shown command that has not finished by then is reported, not waited for.
const TIMEOUT: Duration = Duration::from_secs(60);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A document whose console blocks are checked, as it is on disk.
struct Document {
    /// Relative to the repository, for messages.
    path: PathBuf,
    text: String,
}

fn documents() -> Vec<Document> {
    let lessons = lessons::all().iter().map(|l| PathBuf::from("lessons").join(l.file));
    let readmes = ["README.md", "README.ko.md"].into_iter().map(PathBuf::from);
    lessons
        .chain(readmes)
        .map(|path| {
            let text =
                std::fs::read_to_string(root().join(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Document { path, text }
        })
        .collect()
}

fn code_blocks(text: &str) -> Vec<CodeBlock> {
    markdown::parse(text)
        .into_iter()
        .filter_map(|b| match b {
            Block::Code(code) => Some(code),
            _ => None,
        })
        .collect()
}

/// Runs `ipc-lab ARGS` the way a learner would, but alone: its own runtime directory (no
/// other ipc-lab process to hear), no colour, the locale of most containers (`C.UTF-8`)
/// with `IPC_LAB_LANG=ko` for a Korean document (as README.ko.md's install sets it),
/// [`SHOWN_COLUMNS`] wide, and a directory far from the repository (lessons are compiled in).
/// Stdout, then stderr, as the terminal shows them for the commands the lessons use.
fn run(args: &[&str], korean: bool) -> String {
    let runtime = tempfile::tempdir().expect("a temporary directory");
    let mut command = common::command(runtime.path());
    if korean {
        command.env(ipc_lab::i18n::LANG_VAR, "ko");
    }
    let mut child = command
        .env("COLUMNS", SHOWN_COLUMNS)
        .current_dir(runtime.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ipc-lab binary runs");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    while child.try_wait().expect("waiting works").is_none() {
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return format!("(did not finish within {TIMEOUT:?}: does it have a --count?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut text = stdout.join().expect("reader");
    text.push_str(&stderr.join().expect("reader"));
    text
}

/// The lessons and README.ko.md are Korean; README.md is English.
fn is_korean(path: &Path) -> bool {
    path != Path::new("README.md")
}

/// One shown command and what the document says it prints.
struct Shown {
    path: PathBuf,
    step: Step,
}

/// Every ipc-lab command of every `console` block, run in parallel; a command whose output
/// differs from the shown one is run again, up to [`ATTEMPTS`] times.
fn run_all(shown: &[Shown]) -> Vec<String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut outputs = vec![String::new(); shown.len()];
    let slots: Vec<std::sync::Mutex<&mut String>> = outputs.iter_mut().map(std::sync::Mutex::new).collect();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = shown.get(i) else { break };
                let args = item.step.args().expect("only ipc-lab commands are collected");
                **slots[i].lock().unwrap() = run(&args, is_korean(&item.path));
            });
        }
    });
    drop(slots);
    outputs
}

/// Where the shown output and the real one part, for the failure message.
fn difference(path: &Path, step: &Step, real: &str) -> Option<String> {
    let real: Vec<&str> = real.lines().collect();
    if real == step.output {
        return None;
    }
    let at = real.iter().zip(&step.output).position(|(r, s)| r != s).unwrap_or(real.len().min(step.output.len()));
    let line = |lines: &[&str]| lines.get(at).map_or("(nothing)".to_string(), |l| format!("{l:?}"));
    let shown: Vec<&str> = step.output.iter().map(String::as_str).collect();
    let mut message = format!(
        "{}:{}: `{}` prints something else than shown\n  first difference, output line {}:\n    shown: {}\n    real:  {}\n  the real output:\n",
        path.display(),
        step.line,
        step.command,
        at + 1,
        line(&shown),
        line(&real),
    );
    for l in &real {
        message.push_str(&format!("    {l}\n"));
    }
    Some(message)
}

/// Rewrites the `console` blocks of `text` with the real outputs (`LESSONS_BLESS=1`).
fn bless(text: &str, real: &[(usize, String)]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut steps: Vec<(Step, usize)> = Vec::new();
    for code in code_blocks(text).into_iter().filter(|c| c.check == Check::Exact) {
        let end = code.line + code.lines.len();
        let session = code.session();
        for (i, step) in session.iter().enumerate() {
            let next = session.get(i + 1).map_or(end, |s| s.line - 1);
            steps.push((step.clone(), next));
        }
    }
    // From the end, so earlier line numbers stay valid.
    for (step, end) in steps.iter().rev() {
        if let Some((_, output)) = real.iter().find(|(line, _)| *line == step.line) {
            lines.splice(step.line..*end, output.lines().map(String::from));
        }
    }
    lines.join("\n") + "\n"
}

/// The tentpole: what a lesson shows is what the tool prints.
#[test]
fn shown_outputs_are_the_real_outputs() {
    let documents = documents();
    let mut shown = Vec::new();
    for doc in &documents {
        for code in code_blocks(&doc.text).into_iter().filter(|c| c.check == Check::Exact) {
            for step in code.session() {
                if step.args().is_some() {
                    shown.push(Shown { path: doc.path.clone(), step });
                }
            }
        }
    }
    assert!(shown.len() >= 30, "only {} commands are checked", shown.len());
    let outputs = run_all(&shown);

    if std::env::var_os("LESSONS_BLESS").is_some() {
        for doc in &documents {
            let real: Vec<(usize, String)> = shown
                .iter()
                .zip(&outputs)
                .filter(|(s, _)| s.path == doc.path)
                .map(|(s, out)| (s.step.line, out.clone()))
                .collect();
            std::fs::write(root().join(&doc.path), bless(&doc.text, &real)).expect("the document is writable");
        }
        return;
    }
    let drifts: Vec<String> =
        shown.iter().zip(&outputs).filter_map(|(s, real)| difference(&s.path, &s.step, real)).collect();
    assert!(
        drifts.is_empty(),
        "{} of {} shown outputs are not what ipc-lab prints (fix the tool, or run `LESSONS_BLESS=1 cargo test --test lessons` and review the diff):\n\n{}",
        drifts.len(),
        shown.len(),
        drifts.join("\n")
    );
}

/// Illustrations are real output that cannot be compared, but their commands must still be
/// ones the tool accepts; pending commands must still be ones it refuses, or they are ready
/// to be switched on.
#[test]
fn illustrated_commands_parse_and_pending_ones_do_not_yet() {
    let mut problems = Vec::new();
    for doc in documents() {
        for code in code_blocks(&doc.text) {
            for step in code.session() {
                let Some(args) = step.args() else { continue };
                let parsed = ipc_lab::cli::parse(std::iter::once("ipc-lab").chain(args.iter().copied()));
                let at = format!("{}:{}: `{}`", doc.path.display(), step.line, step.command);
                match (&code.check, parsed) {
                    (Check::Illustration, Err(e)) => problems.push(format!("{at} is refused: {}", e.message)),
                    // Without the feature, only the want of DDS may refuse it.
                    (Check::Dds, Err(e)) if cfg!(feature = "dds") || !(e.message.contains("built without DDS") || e.message.contains("DDS 없이 빌드")) => {
                        problems.push(format!("{at} is refused: {}", e.message))
                    }
                    (Check::Pending, Ok(_)) => problems.push(format!(
                        "{at} runs now: make its block a `console` block with the real output (LESSONS_BLESS=1 fills it in)"
                    )),
                    (Check::Pending, Err(_)) if !step.output.is_empty() => {
                        problems.push(format!("{at} is pending, so it shows no output"))
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn subcommands() -> HashSet<String> {
    Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

/// Paths a document points at: link targets (relative to `base`, the document's folder),
/// and inline code that names a file of the repository.
fn referenced_paths(text: &str, base: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = &after[..end];
        if !target.contains("://") && !target.starts_with('#') {
            paths.push(base.join(target));
        }
        rest = &after[end..];
    }
    for code in text.split('`').skip(1).step_by(2) {
        let looks_like_a_file = ["src/", "tests/", "lessons/", "snapshots/"].iter().any(|p| code.starts_with(p))
            && !code.contains(' ')
            && !code.contains('*');
        if looks_like_a_file {
            paths.push(PathBuf::from(code));
        }
    }
    paths
}

/// What is wrong with one lesson's shape, links and commands.
fn check_lesson(lesson: &Lesson, subcommands: &HashSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(format!("lessons/{}: {p}", lesson.file));
    let blocks = markdown::parse(lesson.text);
    check_shape(lesson, &blocks, &mut problem);
    check_commands(lesson, &blocks, subcommands, &mut problem);
    problems
}

/// The title, the sections in order, folded answers, and links that lead somewhere.
fn check_shape(lesson: &Lesson, blocks: &[Block], problem: &mut dyn FnMut(String)) {
    if blocks.first() != Some(&Block::Heading { level: 1, text: lesson.title.clone() }) {
        problem(format!("must start with `# {}`, the title in the index", lesson.title));
    }
    let headings: Vec<(usize, &str)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, text } => Some((*level, text.as_str())),
            _ => None,
        })
        .collect();
    let mut from = 0;
    for section in SECTIONS {
        match headings[from..].iter().position(|&(level, text)| level == 2 && text == section) {
            Some(i) => from += i + 1,
            None => problem(format!("has no `## {section}` section after the ones before it ({SECTIONS:?})")),
        }
    }
    let answers: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Answer { title } => Some(title.as_str()),
            _ => None,
        })
        .collect();
    if !answers.iter().any(|t| t.starts_with(ANSWER)) {
        problem(format!("its exercises have no answer (a <details> block with <summary>{ANSWER} N</summary>)"));
    }
    if let Some((_, heading)) = headings.iter().find(|&&(_, t)| t.starts_with(ANSWER)) {
        problem(format!("`{heading}` is a heading: fold it in <details> so the learner tries the exercise first"));
    }
    let opened = answers.len();
    let closed = blocks.iter().filter(|b| matches!(b, Block::AnswerEnd)).count();
    if opened != closed {
        problem(format!("{opened} answers open and {closed} close (</details>)"));
    }
    if !lesson.text.contains("](../src/") {
        problem("links to no source file under src/".into());
    }
    for path in referenced_paths(lesson.text, Path::new("lessons")) {
        if !root().join(&path).exists() {
            problem(format!("points at {}, which does not exist", path.display()));
        }
    }
}

/// Every command a block runs is listed in the index, and every listed command exists and
/// is run.
fn check_commands(lesson: &Lesson, blocks: &[Block], subcommands: &HashSet<String>, problem: &mut dyn FnMut(String)) {
    let mut used = HashSet::new();
    for block in blocks {
        match block {
            Block::Unsupported { line, text } => {
                problem(format!("line {line}: the terminal cannot draw this (a table?): {text}"))
            }
            Block::Code(code) => {
                if let Check::Unknown(word) = &code.check {
                    problem(format!(
                        "line {}: `console {word}`: use console, console illustration or console pending",
                        code.line
                    ));
                }
                for step in code.session() {
                    let Some(args) = step.args() else { continue };
                    let Some(sub) = args.iter().find(|a| !a.starts_with('-')) else { continue };
                    used.insert(sub.to_string());
                    let listed = match code.check {
                        Check::Pending => &lesson.pending,
                        _ => &lesson.commands,
                    };
                    if !listed.iter().any(|c| c == sub) {
                        let field = if code.check == Check::Pending { "pending" } else { "commands" };
                        problem(format!(
                            "line {}: runs `{sub}`, which its `{field}` in the index does not list",
                            step.line
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    for command in &lesson.commands {
        if !subcommands.contains(command) {
            problem(format!("the index lists `{command}` in its commands, but ipc-lab has no such command"));
        }
        if !used.contains(command) {
            problem(format!("the index lists `{command}` in its commands, but no block runs it"));
        }
    }
    for command in &lesson.pending {
        if subcommands.contains(command) {
            problem(format!(
                "`ipc-lab {command}` exists now: move it from `pending` to `commands` in the index and turn its `console pending` blocks into `console` blocks with real output"
            ));
        }
    }
}

/// The content check: the index and every lesson in it.
#[test]
fn content_check() {
    let all = lessons::all();
    assert!(all.len() >= 8, "the issue asks for at least eight lessons, the index has {}", all.len());
    let subcommands = subcommands();
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    for lesson in all {
        if !names.insert(&lesson.name) {
            problems.push(format!("lessons/index.toml: the name `{}` is used twice", lesson.name));
        }
        if !lesson.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            problems
                .push(format!("lessons/index.toml: `{}` is not lowercase letters, digits and hyphens", lesson.name));
        }
        problems.extend(check_lesson(lesson, &subcommands));
    }
    let files: HashSet<&str> = all.iter().map(|l| l.file).collect();
    for entry in std::fs::read_dir(root().join("lessons")).expect("lessons/ exists").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") && name != "README.md" && !files.contains(name.as_str()) {
            problems.push(format!("lessons/{name} is not in lessons/index.toml"));
        }
    }
    for (readme, korean) in [("README.md", false), ("README.ko.md", true)] {
        let text = std::fs::read_to_string(root().join(readme)).expect("the README exists");
        for lesson in all {
            let title = if korean { &lesson.title } else { &lesson.title_en };
            if !text.contains(title.as_str()) {
                problems.push(format!("{readme} does not list lesson {} ({title})", lesson.number));
            }
        }
        for path in referenced_paths(&text, Path::new("")) {
            if !root().join(&path).exists() {
                problems.push(format!("{readme} points at {}, which does not exist", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every `.rs` file under `src/`, as (path, trimmed non-empty lines).
fn sources(dir: &Path, found: &mut Vec<(PathBuf, Vec<String>)>) {
    for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            found.push((path, text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()));
        }
    }
}

/// A `rust` block in a lesson is an excerpt of the crate's own code, line for line (the
/// indentation aside), so the code a lesson explains is the code that runs.
#[test]
fn source_excerpts_are_verbatim() {
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let mut problems = Vec::new();
    for lesson in lessons::all() {
        for code in code_blocks(lesson.text).into_iter().filter(|c| c.lang == "rust") {
            let excerpt: Vec<&str> = code.lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
            let found = files.iter().any(|(_, lines)| lines.windows(excerpt.len()).any(|w| w == excerpt.as_slice()));
            if !found {
                problems
                    .push(format!("lessons/{}:{}: this Rust excerpt is in no file under src/", lesson.file, code.line));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn lesson(args: &[&str], columns: Option<&str>) -> std::process::Output {
    let runtime = tempfile::tempdir().unwrap();
    let mut command = common::command(runtime.path());
    command.current_dir(runtime.path()).args(args).env_remove("COLUMNS");
    if let Some(columns) = columns {
        command.env("COLUMNS", columns);
    }
    command.output().unwrap()
}

/// `ipc-lab lesson` lists every lesson, and `ipc-lab lesson 3` (or its name) prints the
/// two-node lesson, from a directory that is not the repository.
#[test]
fn lesson_lists_and_prints_lessons_from_anywhere() {
    // Wide enough that no title wraps.
    let list = lesson(&["lesson", "--lang", "ko"], Some("200"));
    assert!(list.status.success());
    let list = String::from_utf8(list.stdout).unwrap();
    for l in lessons::all() {
        assert!(list.contains(&l.name) && list.contains(&l.title), "the list misses {}:\n{list}", l.name);
    }
    let three = lesson(&["lesson", "3"], None);
    assert!(three.status.success());
    let text = String::from_utf8(three.stdout).unwrap();
    assert!(text.contains("two-node: 두 노드 파이프라인"), "{text}");
    assert!(text.contains("ipc-lab two-node --count 3 --period 0 --stable --format classic"), "{text}");
    assert_eq!(lesson(&["lesson", "two-node"], None).stdout, text.as_bytes());
}

/// Plain when piped or with NO_COLOR, coloured on request; prose wrapped to `COLUMNS`
/// (Hangul counted two columns wide), code blocks left as the tool prints them.
#[test]
fn lessons_are_plain_when_piped_wrapped_to_the_width_and_free_of_markup() {
    for l in lessons::all() {
        let number = l.number.to_string();
        let out = lesson(&["lesson", &number], Some("60"));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains('\u{1b}'), "lesson {number} has colour codes when piped");
        for line in text.lines().filter(|line| !line.starts_with("    ")) {
            assert!(visible_width(line) <= 60, "lesson {number}: wider than 60 columns: {line}");
            assert!(!line.contains("**") && !line.contains("]("), "lesson {number}: markup left over: {line}");
        }
    }
    let coloured = lesson(&["lesson", "3", "--color", "always"], None);
    assert!(String::from_utf8(coloured.stdout).unwrap().contains('\u{1b}'));
}

/// Read in an 80-column terminal, a lesson fits: every line (code too; only a command to
/// type and a word with no space to break at, such as a JSON line, stay whole) is at most
/// 80 columns, and no figure is parted from its unit at the end
/// of a line, in prose or in a wrapped output.
#[test]
fn lessons_fit_80_columns_and_keep_figures_with_their_units() {
    const UNITS: [&str; 8] = ["B", "KiB", "MiB", "GiB", "B)", "KiB)", "MiB)", "GiB)"];
    for l in lessons::all() {
        let number = l.number.to_string();
        for columns in [60, 80] {
            let out = lesson(&["lesson", &number, "--answers"], Some(&columns.to_string()));
            let text = String::from_utf8(out.stdout).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines {
                let whole = line.trim_start().starts_with("$ ") || !line.trim().contains(' ');
                assert!(columns < 80 || whole || visible_width(line) <= 80, "lesson {number}: wider than 80: {line}");
            }
            for pair in lines.windows(2) {
                let ends_with_figure = pair[0].split(' ').next_back().is_some_and(|w| w.parse::<f64>().is_ok());
                let starts_with_unit = pair[1].split_whitespace().next().is_some_and(|w| UNITS.contains(&w));
                assert!(
                    !(ends_with_figure && starts_with_unit),
                    "lesson {number} at {columns} columns parts a figure from its unit:\n{}\n{}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }
}

/// Inside a lesson the tool's own words ("next lesson") are Korean like the lesson, even
/// for a learner whose locale or `--lang` says English.
#[test]
fn a_lessons_own_words_follow_the_lesson_not_the_locale() {
    let out = lesson(&["lesson", "3", "--lang", "en"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("다음 강의: ipc-lab lesson 4"), "{text}");
    assert!(!text.contains("next lesson"), "{text}");
}

/// `ipc-lab lesson N` keeps the answers back and says how to see them; `--answers` shows them.
#[test]
fn answers_are_kept_back_until_asked_for() {
    let text = |args: &[&str]| String::from_utf8(lesson(args, None).stdout).unwrap();
    let without = text(&["lesson", "3"]);
    let with = text(&["lesson", "3", "--answers"]);
    // The first answer of lesson 3 explains the allocator's reuse.
    let answer = "할당기의 재사용";
    assert!(!without.contains(answer), "{without}");
    assert!(without.contains("ipc-lab lesson 3 --answers"), "{without}");
    assert!(with.contains(answer) && with.contains("답 1"), "{with}");
    assert!(!with.contains("--answers"), "{with}");
}
