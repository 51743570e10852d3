//! The small part of Markdown the lessons use, read into blocks: headings, paragraphs, list
//! items, quotes and fenced code blocks. The terminal draws these blocks, and
//! `tests/lessons.rs` runs the commands of the console blocks.
//!
//! A console block's info string says how its commands are checked:
//! `console` (run, and the output must be exactly the lines shown), `console illustration`
//! (real output kept as an example, not compared), `console dds` (a run that needs a build
//! with the `dds` feature, and for its `ros2` lines a ROS 2 install: never run by the tests)
//! or `console pending` (a command that does not exist yet).
//!
//! ```
//! use ipc_lab::lessons::markdown::{parse, Block, Check};
//!
//! let text = "# Title\n\nSome `code`,\nwrapped.\n\n```console\n$ ipc-lab copies U --stable   # try it\nresult\n```\n";
//! let blocks = parse(text);
//! assert_eq!(blocks[0], Block::Heading { level: 1, text: "Title".into() });
//! assert_eq!(blocks[1], Block::Paragraph("Some `code`, wrapped.".into()));
//! let Block::Code(code) = &blocks[2] else { panic!("a code block") };
//! assert_eq!(code.check, Check::Exact);
//! let steps = code.session();
//! assert_eq!(steps[0].args(), Some(vec!["copies", "U", "--stable"]));
//! assert_eq!(steps[0].output, ["result"]);
//! ```

/// One block of a lesson.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#` to `######`.
    Heading {
        level: usize,
        text: String,
    },
    /// Lines up to a blank line, joined with spaces.
    Paragraph(String),
    /// A list item (`-`, `*` or `1.`) with its continuation lines joined.
    Item {
        marker: String,
        text: String,
    },
    /// `>` lines, joined.
    Quote(String),
    /// An exercise's answer starts: `<details>` then `<summary>답 1</summary>`, a block
    /// GitHub shows folded, so the reader tries the exercise first. Its blocks follow, up
    /// to [`Block::AnswerEnd`].
    Answer {
        /// The summary's text, like `답 1`.
        title: String,
    },
    /// `</details>`: the answer ends.
    AnswerEnd,
    Code(CodeBlock),
    /// A line the terminal cannot draw (a table row), kept so the content check can refuse it.
    Unsupported {
        line: usize,
        text: String,
    },
}

/// A fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the info string: `console`, `text`, `cpp`...
    pub lang: String,
    pub check: Check,
    /// The line of the opening fence, from 1.
    pub line: usize,
    pub lines: Vec<String>,
}

/// How a block's commands are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Not a console session (`text`, `cpp`...): nothing runs.
    Nothing,
    /// `console`: every `$ ipc-lab` command runs and must print exactly the lines below it.
    Exact,
    /// `console illustration`: real output shown as an example (it depends on timing or on
    /// other processes); the commands must parse, the output is not compared.
    Illustration,
    /// `console pending`: commands that do not exist yet; no output is shown.
    Pending,
    /// `console dds`: a run that needs ipc-lab built with the `dds` feature (and, for its
    /// `ros2` lines, a ROS 2 install): never run by the tests; its ipc-lab commands must
    /// parse in a build with the feature and be refused only for want of DDS without it.
    Dds,
    /// `console` followed by a word the checker does not know (the content check refuses it).
    Unknown(String),
}

/// A command of a console block and the output printed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The line of the command, from 1.
    pub line: usize,
    /// What follows `$ `, without a trailing `# comment`.
    pub command: String,
    pub output: Vec<String>,
}

impl Step {
    /// The arguments after `ipc-lab`, when this is an ipc-lab command: up to a shell
    /// operator, so that `ipc-lab ... | grep x` gives ipc-lab what the shell gives it.
    pub fn args(&self) -> Option<Vec<&str>> {
        const OPERATORS: [&str; 7] = ["|", ">", ">>", "2>", "&&", "||", ";"];
        let mut words = self.command.split_whitespace();
        (words.next() == Some("ipc-lab")).then(|| words.take_while(|w| !OPERATORS.contains(w)).collect())
    }
}

/// Splits `command   # comment` before the comment's leading spaces.
pub fn split_comment(line: &str) -> (&str, &str) {
    match line.find(" #") {
        Some(at) => {
            let command = line[..at].trim_end();
            (command, &line[command.len()..])
        }
        None => (line, ""),
    }
}

impl CodeBlock {
    fn new(info: &str, line: usize, lines: Vec<String>) -> Self {
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or_default().to_string();
        let check = match (lang.as_str(), words.next()) {
            ("console", None) => Check::Exact,
            ("console", Some("illustration")) => Check::Illustration,
            ("console", Some("pending")) => Check::Pending,
            ("console", Some("dds")) => Check::Dds,
            ("console", Some(other)) => Check::Unknown(other.to_string()),
            _ => Check::Nothing,
        };
        Self { lang, check, line, lines }
    }

    /// The commands (`$ ` lines) and the lines under each. Lines before the first command
    /// belong to a step with an empty command.
    pub fn session(&self) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            // The fence is line `self.line`; the block's lines follow it.
            let number = self.line + 1 + i;
            match line.strip_prefix("$ ") {
                Some(command) => {
                    let command = split_comment(command).0.to_string();
                    steps.push(Step { line: number, command, output: Vec::new() });
                }
                None => match steps.last_mut() {
                    Some(step) => step.output.push(line.clone()),
                    None => steps.push(Step { line: number, command: String::new(), output: vec![line.clone()] }),
                },
            }
        }
        steps
    }
}

/// `## Title` -> (2, "Title").
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    let text = line[level..].strip_prefix(' ')?;
    (1..=6).contains(&level).then(|| (level, text.trim()))
}

/// `- text`, `* text` or `12. text` -> (marker, text).
fn list_item(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    if let Some(text) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some((&line[..1], text));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let text = line.get(digits..)?.strip_prefix(". ")?;
    (digits > 0).then(|| (&line[..digits + 1], text))
}

/// Reads a lesson into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    // The paragraph, item or quote that following lines continue.
    let mut open: Option<Block> = None;
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            blocks.extend(open.take());
            let body: Vec<String> =
                lines.by_ref().map(|(_, l)| l).take_while(|l| l.trim_end() != "```").map(String::from).collect();
            blocks.push(Block::Code(CodeBlock::new(info, i + 1, body)));
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "<details>" {
            blocks.extend(open.take());
        } else if let Some(title) = trimmed.strip_prefix("<summary>").and_then(|t| t.strip_suffix("</summary>")) {
            blocks.extend(open.take());
            blocks.push(Block::Answer { title: title.trim().to_string() });
        } else if trimmed == "</details>" {
            blocks.extend(open.take());
            blocks.push(Block::AnswerEnd);
        } else if let Some((level, text)) = heading(line) {
            blocks.extend(open.take());
            blocks.push(Block::Heading { level, text: text.to_string() });
        } else if let Some((marker, text)) = list_item(line) {
            blocks.extend(open.take());
            open = Some(Block::Item { marker: marker.to_string(), text: text.trim().to_string() });
        } else if let Some(quoted) = trimmed.strip_prefix('>') {
            match &mut open {
                Some(Block::Quote(text)) => {
                    text.push(' ');
                    text.push_str(quoted.trim());
                }
                _ => {
                    blocks.extend(open.take());
                    open = Some(Block::Quote(quoted.trim().to_string()));
                }
            }
        } else if trimmed.starts_with('|') {
            blocks.extend(open.take());
            blocks.push(Block::Unsupported { line: i + 1, text: trimmed.to_string() });
        } else {
            match &mut open {
                Some(Block::Paragraph(text) | Block::Item { text, .. } | Block::Quote(text)) => {
                    text.push(' ');
                    text.push_str(trimmed);
                }
                _ => open = Some(Block::Paragraph(trimmed.to_string())),
            }
        }
    }
    blocks.extend(open);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_quotes_and_block_kinds() {
        let text = "- one\n  more\n2. two\n\n> a\n> b\n\n```console illustration\n$ ipc-lab ps\nPID\n```\n```console pending\n$ ipc-lab bench\n```\n```text\nplain\n```\n| a | b |\n";
        let blocks = parse(text);
        assert_eq!(blocks[0], Block::Item { marker: "-".into(), text: "one more".into() });
        assert_eq!(blocks[1], Block::Item { marker: "2.".into(), text: "two".into() });
        assert_eq!(blocks[2], Block::Quote("a b".into()));
        let checks: Vec<Check> = blocks
            .iter()
            .filter_map(|b| match b {
                Block::Code(c) => Some(c.check.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(checks, [Check::Illustration, Check::Pending, Check::Nothing]);
        assert!(matches!(blocks.last(), Some(Block::Unsupported { line: 18, .. })));
    }

    /// An answer in a foldable `<details>` block is its own span of blocks.
    #[test]
    fn answers_are_folded_blocks() {
        let blocks = parse("### 문제 1\n\nWhy?\n\n<details>\n<summary>답 1</summary>\n\nBecause.\n\n</details>\n");
        assert_eq!(
            blocks[2..],
            [Block::Answer { title: "답 1".into() }, Block::Paragraph("Because.".into()), Block::AnswerEnd]
        );
    }

    #[test]
    fn steps_know_their_lines_and_drop_comments() {
        let blocks = parse("text\n\n```console\n$ ipc-lab ps   # look\nnone\n$ cargo test\n```\n");
        let Block::Code(code) = &blocks[1] else { panic!("a code block") };
        let steps = code.session();
        assert_eq!(steps[0], Step { line: 4, command: "ipc-lab ps".into(), output: vec!["none".into()] });
        assert_eq!(steps[1].args(), None);
        assert_eq!(split_comment("ipc-lab ps   # look"), ("ipc-lab ps", "   # look"));
        let piped = Step { line: 1, command: "ipc-lab ps --json | grep '!|x'".into(), output: Vec::new() };
        assert_eq!(piped.args(), Some(vec!["ps", "--json"]));
    }
}
