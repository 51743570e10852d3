//! Lessons in the terminal: `ipc-lab lesson` lists them, `ipc-lab lesson N` draws one.
//! Headings get a rule under them; paragraphs, list items and quotes are wrapped to the
//! width (Hangul counts two columns, a figure stays with its unit); code blocks stay as
//! written, so their columns line up as the tool prints them, and only a line wider than
//! the terminal is wrapped, under itself and between words. Colour goes through the [`Painter`]: without
//! it (piped, `NO_COLOR`, `--color never`) inline code keeps its backticks.
//!
//! ```
//! use ipc_lab::i18n::Lang;
//! use ipc_lab::lessons::{self, terminal::{render, Page}};
//! use ipc_lab::render::style::{visible_width, Painter};
//!
//! let page = Page { columns: 60, painter: Painter { enabled: false }, lang: Lang::Ko, answers: false };
//! let mut out = Vec::new();
//! render(&mut out, lessons::find("3").unwrap(), &page).unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.contains("two-node: 두 노드 파이프라인"));
//! // Prose and code fit in 60 columns; only a command to type stays whole.
//! assert!(text.lines().all(|l| visible_width(l) <= 60 || l.trim_start().starts_with("$ ")));
//! ```

use std::io::{self, Write};

use super::markdown::{self, Block, Check, CodeBlock};
use super::{all, Lesson};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::{Lang, Text};
use crate::render::fit;
use crate::render::style::{pad, visible_width, Painter};

/// Prose is wrapped at most this wide, even in a wider terminal: long lines are hard to read.
pub const MAX_COLUMNS: usize = 100;
/// Narrower than this, wrapping helps nobody.
const MIN_COLUMNS: usize = 20;
/// Code blocks are indented this much, so they stand out without a frame to copy along.
const CODE_INDENT: &str = "    ";
/// The rest of a code line too wide for the terminal goes under it, indented this much more.
const CODE_CONTINUED: &str = "      ";

const LIST_TITLE: Text = Text {
    ko: "ipc-lab 강의: 44장 프로세스 내 통신",
    en: "ipc-lab lessons (in Korean), following chapter 44",
};
const LIST_HINT: Text = Text {
    ko: "하나를 읽으려면: ipc-lab lesson N (번호나 이름)",
    en: "read one with: ipc-lab lesson N (a number or a name)",
};
const STILL_TO_COME: Text = Text { ko: "준비 중인 명령:", en: "commands still to come:" };
const LESSON: Text = Text { ko: "강의", en: "lesson" };
const NEXT: Text = Text { ko: "다음 강의", en: "next lesson" };
const LAST: Text = Text {
    ko: "마지막 강의입니다. 목록은 ipc-lab lesson",
    en: "this is the last lesson; the list: ipc-lab lesson",
};
const ILLUSTRATION: Text = Text {
    ko: "실행 예: 타이밍이나 다른 프로세스에 따라 실행마다 달라집니다",
    en: "an example run: it varies with timing and other processes",
};
const DDS: Text = Text {
    ko: "--features dds로 빌드한 ipc-lab이 있어야 하고, ros2 줄은 ROS 2 설치도 있어야 합니다: 테스트가 실행하지 않는 실행 예",
    en: "needs ipc-lab built with --features dds, and the ros2 lines a ROS 2 install: an example the tests do not run",
};

const PENDING: Text = Text {
    ko: "준비 중인 명령: 아직 실행할 수 없습니다",
    en: "a command still to come: it does not run yet",
};

/// How to draw: the terminal's width, colour, and the language of the tool's own words.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// The terminal's columns (prose uses at most [`MAX_COLUMNS`]).
    pub columns: usize,
    pub painter: Painter,
    pub lang: Lang,
    /// Show the exercises' answers (`--answers`); without it each answer is one line that
    /// says how to see it, so the learner tries the exercise first.
    pub answers: bool,
}

impl Page {
    fn width(&self) -> usize {
        self.columns.clamp(MIN_COLUMNS, MAX_COLUMNS)
    }
}

/// `ipc-lab lesson`: every lesson with its number, name and title.
pub fn list(out: &mut dyn Write, page: &Page) -> io::Result<()> {
    let p = page.painter;
    writeln!(out, "{}", p.heading(LIST_TITLE.get(page.lang)))?;
    let name_width = all().iter().map(|l| l.name.len()).max().unwrap_or(0);
    for lesson in all() {
        let title = lesson.title(page.lang);
        let mut line = format!("{:>4}  {}  {title}", lesson.number, pad(&p.code(&lesson.name), name_width));
        if !lesson.pending.is_empty() {
            line.push_str(&p.dim(&format!("  ({} {})", STILL_TO_COME.get(page.lang), lesson.pending.join(", "))));
        }
        // A long title goes on under itself.
        let hang = " ".repeat(4 + 2 + name_width + 2);
        write_lines(out, fit::lines(&line, Some(page.width()), &hang))?;
    }
    writeln!(out, "{}", p.dim(LIST_HINT.get(page.lang)))
}

/// `ipc-lab lesson N`: one lesson, then where to go next.
pub fn render(out: &mut dyn Write, lesson: &Lesson, page: &Page) -> io::Result<()> {
    // The tool's words around a lesson ("next lesson", "an example run") are part of the
    // page the learner reads: they follow the lesson's language, not the locale's.
    let page = &Page { lang: super::LANGUAGE, ..*page };
    let total = all().len();
    note(out, &format!("ipc-lab {} {}/{total} · {}", LESSON.get(page.lang), lesson.number, lesson.name), page)?;
    let mut previous: Option<Block> = None;
    let mut in_answer = false;
    for block in markdown::parse(lesson.text) {
        match &block {
            Block::Answer { .. } => in_answer = true,
            Block::AnswerEnd => {
                in_answer = false;
                continue;
            }
            _ if in_answer && !page.answers => continue,
            _ => {}
        }
        // Items of one list stay together; everything else is set apart by a blank line.
        let same_list = matches!((&previous, &block), (Some(Block::Item { .. }), Block::Item { .. }));
        if !same_list {
            writeln!(out)?;
        }
        match &block {
            Block::Answer { title } if !page.answers => note(out, &kept_back(title, lesson, page.lang), page)?,
            _ => draw(out, &block, page)?,
        }
        previous = Some(block);
    }
    writeln!(out)?;
    let next = match all().get(lesson.number) {
        Some(next) => format!("{}: ipc-lab lesson {} ({})", NEXT.get(page.lang), next.number, next.title(page.lang)),
        None => LAST.get(page.lang).to_string(),
    };
    note(out, &next, page)
}

/// The line that stands for an answer kept back, and says how to see it.
fn kept_back(title: &str, lesson: &Lesson, lang: Lang) -> String {
    let command = format!("{} --answers", lesson.command());
    match lang {
        Lang::Ko => format!(
            "▸ {title}{} 감춰 두었습니다. 먼저 풀어 본 뒤 {command}{} 보세요",
            particle(title, Particle::Topic),
            particle(&command, Particle::Direction)
        ),
        Lang::En => format!("▸ {title} is kept back: try the exercise first, then see it with {command}"),
    }
}

/// The tool's own words around a lesson: wrapped, and dimmed as a whole.
fn note(out: &mut dyn Write, text: &str, page: &Page) -> io::Result<()> {
    let plain = Painter { enabled: false };
    for line in wrap(&[Piece { text: text.to_string(), style: Style::Plain }], "", "", page.width(), plain) {
        writeln!(out, "{}", page.painter.dim(&line))?;
    }
    Ok(())
}

fn draw(out: &mut dyn Write, block: &Block, page: &Page) -> io::Result<()> {
    let p = page.painter;
    let width = page.width();
    match block {
        Block::Heading { level, text } => {
            let pieces = inline(text, Style::Strong);
            let drawn: String = pieces.iter().map(|piece| piece.paint(p)).collect();
            let rule = match level {
                1 => "═",
                2 => "─",
                // Smaller headings have no rule; a mark keeps them apart from paragraphs.
                _ => return writeln!(out, "{} {drawn}", p.dim("▸")),
            };
            writeln!(out, "{drawn}")?;
            let length = pieces.iter().map(|piece| piece.width(p)).sum::<usize>();
            writeln!(out, "{}", p.dim(&rule.repeat(length)))
        }
        Block::Paragraph(text) => write_lines(out, wrap(&inline(text, Style::Plain), "", "", width, p)),
        Block::Item { marker, text } => {
            let marker = if marker.ends_with('.') { format!("{marker} ") } else { "• ".to_string() };
            let hang = " ".repeat(visible_width(&marker));
            write_lines(out, wrap(&inline(text, Style::Plain), &marker, &hang, width, p))
        }
        Block::Quote(text) => {
            let bar = p.dim("│ ");
            write_lines(out, wrap(&inline(text, Style::Plain), &bar, &bar, width, p))
        }
        Block::Code(code) => draw_code(out, code, page),
        Block::Answer { title } => writeln!(out, "{} {}", p.dim("▸"), p.heading(title)),
        Block::AnswerEnd => Ok(()),
        Block::Unsupported { text, .. } => writeln!(out, "{text}"),
    }
}

/// A code block as written, indented; in a console block the commands stand out.
fn draw_code(out: &mut dyn Write, code: &CodeBlock, page: &Page) -> io::Result<()> {
    let p = page.painter;
    let caption = match code.check {
        Check::Illustration => Some(ILLUSTRATION),
        Check::Pending => Some(PENDING),
        Check::Dds => Some(DDS),
        _ => None,
    };
    if let Some(caption) = caption {
        let caption = format!("{CODE_INDENT}({})", caption.get(page.lang));
        for line in fit::lines(&caption, Some(page.width()), &format!("{CODE_INDENT} ")) {
            writeln!(out, "{}", p.dim(&line))?;
        }
    }
    for line in &code.lines {
        let drawn = match line.strip_prefix("$ ") {
            Some(command) if code.lang == "console" => {
                let (command, comment) = markdown::split_comment(command);
                let comment = if comment.is_empty() { String::new() } else { p.dim(comment) };
                vec![format!("{} {}{comment}", p.dim("$"), p.command(command))]
            }
            _ => code_lines(line, page.columns),
        };
        for line in drawn {
            writeln!(out, "{}", format!("{CODE_INDENT}{line}").trim_end())?;
        }
    }
    Ok(())
}

/// A line of output as the tool printed it, or, wider than the terminal, wrapped between
/// words (never between a figure and its unit), the rest under it and indented.
fn code_lines(line: &str, columns: usize) -> Vec<String> {
    let room = columns.max(MIN_COLUMNS).saturating_sub(CODE_INDENT.len());
    if visible_width(line) <= room {
        return vec![line.to_string()];
    }
    let words = line.trim_start_matches(' ');
    let indent = &line[..line.len() - words.len()];
    fit::wrap(words, room, indent, &format!("{indent}{CODE_CONTINUED}"))
}

/// How a piece of running text looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Strong,
    Code,
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    text: String,
    style: Style,
}

impl Piece {
    fn paint(&self, p: Painter) -> String {
        match self.style {
            Style::Plain => self.text.clone(),
            Style::Strong => p.heading(&self.text),
            Style::Code if p.enabled => p.code(&self.text),
            Style::Code => format!("`{}`", self.text),
        }
    }

    fn width(&self, p: Painter) -> usize {
        let backticks = if self.style == Style::Code && !p.enabled { 2 } else { 0 };
        visible_width(&self.text) + backticks
    }
}

/// Reads `code`, `**strong**` and `[label](target)` in running text. A link shows its label,
/// and its target too when that says more: a link to `../src/x.rs` labelled `src/x.rs`
/// shows once.
fn inline(text: &str, base: Style) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut style = base;
    let mut plain = String::new();
    let flush = |plain: &mut String, pieces: &mut Vec<Piece>, style: Style| {
        if !plain.is_empty() {
            pieces.push(Piece { text: std::mem::take(plain), style });
        }
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            if let Some(end) = rest[1..].find('`') {
                flush(&mut plain, &mut pieces, style);
                pieces.push(Piece { text: rest[1..1 + end].to_string(), style: Style::Code });
                rest = &rest[end + 2..];
                continue;
            }
        } else if let Some(after) = rest.strip_prefix("**") {
            flush(&mut plain, &mut pieces, style);
            style = if style == Style::Strong { base } else { Style::Strong };
            rest = after;
            continue;
        } else if let Some((label, target, after)) = link(rest) {
            flush(&mut plain, &mut pieces, style);
            pieces.extend(inline(label, style));
            let shown = target.trim_start_matches("./").trim_start_matches("../");
            if label.replace('`', "") != shown {
                pieces.push(Piece { text: format!(" ({shown})"), style: Style::Plain });
            }
            rest = after;
            continue;
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut plain, &mut pieces, style);
    pieces
}

/// `[label](target)rest` -> (label, target, rest).
fn link(text: &str) -> Option<(&str, &str, &str)> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find("](")?;
    let after_label = &inner[close + 2..];
    let end = after_label.find(')')?;
    Some((&inner[..close], &after_label[..end], &after_label[end + 1..]))
}

/// Splits pieces into words at spaces; code is never split, so a command stays on one line,
/// and a figure stays with the word after it (`4 B`).
fn words(pieces: &[Piece]) -> Vec<Vec<Piece>> {
    let mut words: Vec<Vec<Piece>> = Vec::new();
    for word in split_words(pieces) {
        let glued = words.last().is_some_and(|last: &Vec<Piece>| {
            let text: String = last.iter().map(|piece| piece.text.as_str()).collect();
            last.iter().all(|piece| piece.style != Style::Code) && fit::keeps_next(&text)
        });
        match words.last_mut() {
            Some(last) if glued => {
                last.push(Piece { text: " ".to_string(), style: Style::Plain });
                last.extend(word);
            }
            _ => words.push(word),
        }
    }
    words
}

fn split_words(pieces: &[Piece]) -> Vec<Vec<Piece>> {
    let mut words = Vec::new();
    let mut word: Vec<Piece> = Vec::new();
    for piece in pieces {
        if piece.style == Style::Code {
            word.push(piece.clone());
            continue;
        }
        for (i, part) in piece.text.split(' ').enumerate() {
            if i > 0 && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if !part.is_empty() {
                word.push(Piece { text: part.to_string(), style: piece.style });
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn write_lines(out: &mut dyn Write, lines: Vec<String>) -> io::Result<()> {
    lines.iter().try_for_each(|line| writeln!(out, "{line}"))
}

/// Fills lines up to `width` columns: `first` before the first line, `rest` before the others.
/// A word wider than a whole line gets a line of its own.
fn wrap(pieces: &[Piece], first: &str, rest: &str, width: usize, p: Painter) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut used = visible_width(first);
    let mut empty = true;
    for word in words(pieces) {
        let word_width: usize = word.iter().map(|piece| piece.width(p)).sum();
        if !empty && used + 1 + word_width > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            used = visible_width(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
            used += 1;
        }
        line.extend(word.iter().map(|piece| piece.paint(p)));
        used += word_width;
        empty = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str, width: usize) -> String {
        wrap(&inline(text, Style::Plain), "• ", "  ", width, Painter { enabled: false }).join("\n") + "\n"
    }

    #[test]
    fn hangul_counts_two_columns_when_wrapping() {
        // "• " + 가나다 (6) = 8 columns; the next word would make 15.
        assert_eq!(plain("가나다 라마바", 12), "• 가나다\n  라마바\n");
        assert_eq!(plain("가나다 라마바", 15), "• 가나다 라마바\n");
    }

    #[test]
    fn a_figure_stays_with_its_unit() {
        assert_eq!(plain("복사 한 번에 4 B입니다", 16), "• 복사 한 번에\n  4 B입니다\n");
    }

    #[test]
    fn code_keeps_its_backticks_without_colour_and_never_splits() {
        assert_eq!(plain("run `ipc-lab two-node --ipc on` now", 20), "• run\n  `ipc-lab two-node --ipc on`\n  now\n");
    }

    #[test]
    fn links_show_the_target_only_when_it_says_more() {
        let pieces = inline("[`src/ps.rs`](../src/ps.rs) and [the code](../src/app/mod.rs)", Style::Plain);
        let text: String = pieces.iter().map(|piece| piece.paint(Painter { enabled: false })).collect();
        assert_eq!(text, "`src/ps.rs` and the code (src/app/mod.rs)");
    }

    #[test]
    fn strong_text_is_bold_only_with_colour() {
        let pieces = inline("a **b** c", Style::Plain);
        assert_eq!(pieces[1], Piece { text: "b".into(), style: Style::Strong });
        let text: String = pieces.iter().map(|piece| piece.paint(Painter { enabled: false })).collect();
        assert_eq!(text, "a b c");
    }
}
