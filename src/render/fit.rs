//! Fitting text to the terminal: how wide the screen is, and wrapping that counts Hangul as
//! two columns and never leaves a figure at the end of a line without its unit.
//!
//! The width rule (said in `--help` and the READMEs): `COLUMNS` when it is set, else the
//! width of the terminal that stdout is; when stdout is not a terminal (a pipe, a file), no
//! limit. A piped run keeps one line per row and per summary, so `grep`, `diff`, `wc -l` and
//! the snapshots see the same lines whatever the window was; `COLUMNS=80 ipc-lab ... | less`
//! asks for the narrow layout on purpose.
//!
//! ```
//! use ipc_lab::render::fit::wrap;
//!
//! // "8 B" stays together although "8" alone would still fit on the first line.
//! let lines = wrap("serialize 8 B + deserialize 8 B", 12, "", "  ");
//! assert_eq!(lines, ["serialize", "  8 B", "  + deserialize", "  8 B"]);
//! ```

use std::io::IsTerminal;

use super::style::visible_width;

/// Below this many columns the compact layouts cannot fit either; lines may wrap there.
pub const NARROWEST: usize = 40;

/// The screen's width for a run's views: `COLUMNS`, else stdout's terminal, else none
/// (piped: no limit).
pub fn screen_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|&c: &usize| c > 0)
    {
        return Some(columns);
    }
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(&stdout).map(|(width, _)| usize::from(width.0))
}

/// Whether `line` fits in `width` columns (always, without a limit).
pub fn fits(line: &str, width: Option<usize>) -> bool {
    width.is_none_or(|width| visible_width(line) <= width)
}

/// Text that may be longer than the screen, wrapped to it (`rest` starts the lines after
/// the first, which keeps the text's own indent); a line that fits, or any line without a
/// limit, stays exactly as it is.
pub fn lines(text: &str, width: Option<usize>, rest: &str) -> Vec<String> {
    let words = text.trim_start_matches(' ');
    match width {
        Some(width) if !fits(text, Some(width)) => wrap(words, width, &text[..text.len() - words.len()], rest),
        _ => vec![text.to_string()],
    }
}

/// Fills lines of plain text up to `width` columns: `first` before the first line, `rest`
/// before the others. Breaks only at spaces, never between a figure and the word after it
/// (`8 B`, `3 (20 B)`, `+ deserialize`); the spaces inside a line stay as they were (the
/// columns of a table too); a word wider than a line gets a line of its own.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for Word { space, word } in words(text.trim_start_matches(' ')) {
        if !empty && visible_width(&line) + space.len() + visible_width(&word) > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push_str(space);
        }
        line.push_str(&word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// A word to wrap, with the spaces before it (left out where a line breaks).
struct Word<'a> {
    space: &'a str,
    word: String,
}

/// The text's words, each figure (and a joining mark) joined to the word after it, with
/// the spaces between them, which are not a place to break.
fn words(text: &str) -> Vec<Word<'_>> {
    let mut words: Vec<Word> = Vec::new();
    let mut glued = false;
    let mut rest = text;
    while !rest.is_empty() {
        let after_space = rest.trim_start_matches(' ');
        let space = &rest[..rest.len() - after_space.len()];
        let end = after_space.find(' ').unwrap_or(after_space.len());
        let word = &after_space[..end];
        rest = &after_space[end..];
        if word.is_empty() {
            break;
        }
        match words.last_mut() {
            Some(last) if glued => {
                last.word.push_str(space);
                last.word.push_str(word);
            }
            _ => words.push(Word { space, word: word.to_string() }),
        }
        glued = keeps_next(word);
    }
    words
}

/// A figure (`8`, `225.1`, `(20`) or a joining mark (`+`, `·`, `×`, `=`) is never the last
/// word of a line: it starts the next one with what it joins.
pub fn keeps_next(word: &str) -> bool {
    let figure = word.trim_start_matches(['(', '[', '~', '≈']);
    matches!(word, "+" | "·" | "×" | "=")
        || figure.starts_with(|c: char| c.is_ascii_digit())
            && figure.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_counts_two_columns() {
        assert_eq!(wrap("가나다 라마바", 10, "", ""), ["가나다", "라마바"]);
        assert_eq!(wrap("가나다 라마바", 13, "", ""), ["가나다 라마바"]);
    }

    #[test]
    fn a_figure_stays_with_its_unit_and_a_plus_with_what_follows() {
        assert_eq!(
            wrap("복사 225.1 KiB + 역직렬화 8 B", 13, "", "  "),
            ["복사", "  225.1 KiB", "  + 역직렬화", "  8 B"]
        );
        assert!(keeps_next("(20"));
        assert!(!keeps_next("B)"));
        assert!(!keeps_next("320x240"));
    }

    #[test]
    fn spaces_inside_a_line_stay() {
        assert_eq!(
            wrap("sub1   U  UniquePtr   @2  copy 4 B", 24, "", "  "),
            ["sub1   U  UniquePtr   @2", "  copy 4 B"]
        );
    }

    #[test]
    fn a_word_wider_than_the_line_gets_a_line_of_its_own() {
        assert_eq!(wrap("a 0x7F1234567890 b", 6, "", ""), ["a", "0x7F1234567890", "b"]);
    }
}
