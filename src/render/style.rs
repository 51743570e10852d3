//! Colour, on or off in one place.

use owo_colors::{OwoColorize, Style};

/// Paints text when colour is on.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    pub enabled: bool,
}

impl Painter {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.enabled {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }

    /// Addresses and pids.
    pub fn addr(&self, text: &str) -> String {
        self.paint(text, Style::new().cyan())
    }

    /// Zero copy: ownership moved or a message shared.
    pub fn good(&self, text: &str) -> String {
        self.paint(text, Style::new().green())
    }

    /// A copy, with its bytes.
    pub fn copy(&self, text: &str) -> String {
        self.paint(text, Style::new().bold().red())
    }

    /// Overwritten messages.
    pub fn warn(&self, text: &str) -> String {
        self.paint(text, Style::new().yellow())
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(text, Style::new().dimmed())
    }

    pub fn heading(&self, text: &str) -> String {
        self.paint(text, Style::new().bold())
    }

    /// Code and file names in running text.
    pub fn code(&self, text: &str) -> String {
        self.paint(text, Style::new().cyan())
    }

    /// A command to type.
    pub fn command(&self, text: &str) -> String {
        self.paint(text, Style::new().bold().green())
    }
}

/// Pads to `width` display columns (ignoring ANSI codes), for aligned columns.
pub fn pad(text: &str, width: usize) -> String {
    let visible = visible_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(visible)))
}

/// Display width without ANSI escape sequences, as a terminal draws it: Hangul and other
/// East Asian wide characters count two columns (Unicode's East Asian Width, through the
/// `unicode-width` crate).
///
/// ```
/// use ipc_lab::render::style::visible_width;
///
/// assert_eq!(visible_width("복사 4 B"), 8);
/// assert_eq!(visible_width("\u{1b}[31m──▶ ↺\u{1b}[0m"), 5);
/// ```
pub fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => width += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0),
        }
    }
    width
}
