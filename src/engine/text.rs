//! Text kept inline, without a heap allocation, for trace events and message summaries.
//!
//! ```
//! use ipc_lab::engine::text::ShortText;
//!
//! let text = ShortText::cut("hello");
//! assert_eq!(text.as_str(), "hello");
//! ```

/// `s` with its control characters escaped (`ESC` becomes `\u{1b}`), for text that came
/// from another process and will reach a terminal: a peer must not be able to clear the
/// screen or set the window's title by naming a node `\x1b[2J`.
///
/// ```
/// use ipc_lab::engine::text::printable;
/// assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
/// assert_eq!(printable("대화 ok"), "대화 ok");
/// ```
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Text kept inline, without a heap allocation: `N` bytes at most.
///
/// Why not `String`: trace events are made on the demo's thread and dropped on the
/// renderer's. A heap string freed on another thread can come back to the demo's thread
/// through the allocator at a moment that depends on timing, and then the addresses a run
/// shows would depend on timing too. Inline text keeps every run's addresses repeatable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InlineText<const N: usize> {
    /// How many of `bytes` hold text.
    len: u16,
    /// UTF-8, whole characters only.
    bytes: [u8; N],
}

/// A message's value in short; also long enough for the longest line the image pipeline
/// draws on a frame (`pid: 4194304, ptr: 0x7f…  Hello world!`).
pub type ShortText = InlineText<64>;
impl ShortText {
    /// Serialized bytes in short: `123 B CDR`.
    pub fn cdr_summary(bytes: &[u8]) -> ShortText {
        ShortText::format(format_args!("{} B CDR", bytes.len()))
    }
}

/// A line a demo printed.
pub type LineText = InlineText<192>;

impl<const N: usize> InlineText<N> {
    /// Longer text is cut, at a character boundary, and ends with `…`.
    pub const CAPACITY: usize = N;

    pub fn new() -> Self {
        Self { len: 0, bytes: [0; N] }
    }

    /// The text of `s`, cut to fit.
    pub fn cut(s: &str) -> Self {
        let mut text = Self::new();
        let _ = std::fmt::Write::write_str(&mut text, s);
        text
    }

    /// Formatted text, cut to fit.
    pub fn format(args: std::fmt::Arguments<'_>) -> Self {
        let mut text = Self::new();
        let _ = std::fmt::Write::write_fmt(&mut text, args);
        text
    }

    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 characters are ever written.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl<const N: usize> From<&str> for InlineText<N> {
    fn from(s: &str) -> Self {
        Self::cut(s)
    }
}

impl<const N: usize> Default for InlineText<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> std::fmt::Write for InlineText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        const ELLIPSIS: &str = "…";
        for c in s.chars() {
            let len = usize::from(self.len);
            if len + c.len_utf8() + ELLIPSIS.len() > N {
                if !self.as_str().ends_with(ELLIPSIS) {
                    self.bytes[len..len + ELLIPSIS.len()].copy_from_slice(ELLIPSIS.as_bytes());
                    self.len += ELLIPSIS.len() as u16;
                }
                return Ok(());
            }
            c.encode_utf8(&mut self.bytes[len..]);
            self.len += c.len_utf8() as u16;
        }
        Ok(())
    }
}

impl<const N: usize> std::ops::Deref for InlineText<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> std::fmt::Display for InlineText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl<const N: usize> std::fmt::Debug for InlineText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> PartialEq<&str> for InlineText<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
