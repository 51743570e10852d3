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

/// Display width without ANSI escape sequences; Hangul counts as two columns.
pub fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) if is_wide(c) => width += 2,
            (false, _) => width += 1,
        }
    }
    width
}

fn is_wide(c: char) -> bool {
    matches!(c, '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FF60}')
}
