//! The tool's own words in Korean and English. The demos' lines are not here: they stay
//! exactly as upstream prints them, in any language.

pub mod particle;

use std::ffi::OsString;

/// The environment variable that sets the language for every command, like `--lang`:
/// most containers, WSL and VMs run with `LANG=C.UTF-8`, which says nothing of the user's
/// language, so a Korean learner sets `IPC_LAB_LANG=ko` once instead of typing `--lang ko`.
pub const LANG_VAR: &str = "IPC_LAB_LANG";

/// The language of the tool's explanations, summaries and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// `--lang` if given (even when the rest of the command line is wrong, so that error
    /// can be in the user's language), else [`LANG_VAR`], else LC_ALL, LC_MESSAGES, LANG;
    /// English by default.
    pub fn detect(args: &[OsString]) -> Lang {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self::from_args(args).or_else(|| Self::from_name(&var(LANG_VAR)?)).unwrap_or_else(|| {
            let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| var(k));
            Self::from_locale(locale.as_deref())
        })
    }

    /// `ko` or `en`, as `--lang` and [`LANG_VAR`] take them.
    fn from_name(name: &str) -> Option<Lang> {
        match name {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn from_args(args: &[OsString]) -> Option<Lang> {
        let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
        let value = args.iter().enumerate().find_map(|(i, a)| match a.strip_prefix("--lang") {
            Some("") => args.get(i + 1).copied(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        })?;
        Self::from_name(value)
    }

    /// `ko_KR.UTF-8` and friends are Korean; anything else is English.
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.starts_with("ko") => Lang::Ko,
            _ => Lang::En,
        }
    }

    /// Picks the Korean or the English text.
    pub fn pick<'a>(self, ko: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

/// A fixed message in both languages, kept as a named constant where it is used.
///
/// ```
/// use ipc_lab::i18n::{Lang, Text};
///
/// const HELLO: Text = Text { ko: "안녕하세요", en: "hello" };
/// assert_eq!(HELLO.get(Lang::Ko), "안녕하세요");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub ko: &'static str,
    pub en: &'static str,
}

impl Text {
    pub fn get(self, lang: Lang) -> &'static str {
        lang.pick(self.ko, self.en)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_flag_wins_and_locales_fall_back_to_english() {
        let args: Vec<OsString> = ["ipc-lab", "two-node", "--lang=ko"].iter().map(OsString::from).collect();
        assert_eq!(Lang::from_args(&args), Some(Lang::Ko));
        let args: Vec<OsString> = ["ipc-lab", "--lang", "en"].iter().map(OsString::from).collect();
        assert_eq!(Lang::from_args(&args), Some(Lang::En));
        assert_eq!(Lang::from_locale(Some("ko_KR.UTF-8")), Lang::Ko);
        assert_eq!(Lang::from_locale(Some("C.UTF-8")), Lang::En);
        assert_eq!(Lang::from_locale(None), Lang::En);
    }
}
