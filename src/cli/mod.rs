//! The command line: clap definitions ([`args`]), then a validated [`plan::Plan`].
//! Errors come out as one line in the user's language, with exit code 2.
//!
//! ```
//! use ipc_lab::cli::{parse, plan::Action};
//!
//! let plan = parse(["ipc-lab", "two-node", "--ipc", "off", "--count", "3"]).unwrap();
//! assert!(matches!(plan.action, Action::Demo(d) if d.count == Some(3)));
//! let err = parse(["ipc-lab", "two-node", "--ipc", "maybe", "--lang", "en"]).unwrap_err();
//! assert_eq!(err.code, 2);
//! assert!(err.message.contains("maybe"));
//! ```

pub mod args;
pub mod plan;

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::i18n::{Lang, Text};
use args::{Cli, ValueError};
use plan::Plan;

/// Where to look after a mistake on the command line.
const HELP_HINT: Text =
    Text { ko: "'ipc-lab --help'로 사용법을 볼 수 있습니다", en: "see 'ipc-lab --help'" };

/// The command line could not be turned into a plan: print `message` and exit with `code`.
#[derive(Debug)]
pub struct CliExit {
    /// 0 for `--help` and `--version`, 2 for a usage error.
    pub code: i32,
    pub message: String,
    /// `--help` and `--version` go to stdout, errors to stderr.
    pub to_stdout: bool,
}

/// Parses a command line (the program name first).
pub fn parse<I, T>(args: I) -> Result<Plan, CliExit>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let lang = Lang::detect(&args);
    let command_line = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    match Cli::try_parse_from(&args) {
        Ok(cli) => Plan::from_cli(cli, lang, std::io::stdout().is_terminal(), command_line).map_err(|e| {
            let prefix = lang.pick("오류", "error");
            let message = format!("{prefix}: {} ({})", e.message(lang), e.hint().get(lang));
            CliExit { code: 2, message, to_stdout: false }
        }),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Err(CliExit { code: 0, message: e.render().to_string(), to_stdout: true })
        }
        Err(e) => Err(CliExit { code: 2, message: describe(&e, lang), to_stdout: false }),
    }
}

/// The subcommands a learner may type (not the hidden ones), for the messages that list them.
fn commands() -> String {
    let command = Cli::command();
    let names: Vec<&str> = command.get_subcommands().filter(|c| !c.is_hide_set()).map(|c| c.get_name()).collect();
    names.join(", ")
}

fn context(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        _ => None,
    }
}

/// One line that says what was wrong and what to do.
fn describe(e: &clap::Error, lang: Lang) -> String {
    let arg = context(e, ContextKind::InvalidArg).unwrap_or_default();
    // clap writes `--ipc <IPC>`: the flag alone reads better in a sentence.
    let flag = arg.split_whitespace().next().unwrap_or_default().to_string();
    let value = context(e, ContextKind::InvalidValue).unwrap_or_default();
    let hint = HELP_HINT.get(lang);
    let body = match e.kind() {
        ErrorKind::InvalidValue => {
            let valid = context(e, ContextKind::ValidValue).unwrap_or_default();
            match lang {
                Lang::Ko => format!("{flag}에 '{value}'은(는) 쓸 수 없습니다. 가능한 값: {valid}"),
                Lang::En => format!("invalid value '{value}' for {flag}: expected one of {valid}"),
            }
        }
        ErrorKind::ValueValidation => {
            let reason = std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<ValueError>())
                .map(|v| value_reason(v, lang))
                .unwrap_or_default();
            match lang {
                Lang::Ko => format!("{flag}에 '{value}'은(는) 쓸 수 없습니다: {reason}"),
                Lang::En => format!("invalid value '{value}' for {flag}: {reason}"),
            }
        }
        ErrorKind::InvalidSubcommand => {
            let sub = context(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            match lang {
                Lang::Ko => format!("'{sub}'(이)라는 명령은 없습니다. 명령: {}", commands()),
                Lang::En => format!("unknown command '{sub}': the commands are {}", commands()),
            }
        }
        ErrorKind::UnknownArgument => match lang {
            Lang::Ko => format!("알 수 없는 인자 '{arg}'"),
            Lang::En => format!("unexpected argument '{arg}'"),
        },
        ErrorKind::MissingRequiredArgument => match lang {
            Lang::Ko => format!("꼭 필요한 인자가 빠졌습니다: {arg}"),
            Lang::En => format!("a required argument is missing: {arg}"),
        },
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => match lang {
            Lang::Ko => format!("명령을 주세요: {}", commands()),
            Lang::En => format!("give a command: {}", commands()),
        },
        ErrorKind::ArgumentConflict | ErrorKind::TooManyValues => match lang {
            Lang::Ko => format!("'{arg}'을(를) 이렇게 함께 또는 여러 번 쓸 수 없습니다"),
            Lang::En => format!("'{arg}' cannot be used like this (given twice or with a conflicting argument)"),
        },
        // Anything rarer: clap's own first line.
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.trim_start_matches("error: ").to_string()
        }
    };
    match lang {
        Lang::Ko => format!("오류: {body} ({hint})"),
        Lang::En => format!("error: {body} ({hint})"),
    }
}

fn value_reason(v: &ValueError, lang: Lang) -> String {
    match (v, lang) {
        (ValueError::Count, Lang::Ko) => "받을 메시지 수를 1 이상의 정수로 주세요".into(),
        (ValueError::Period, Lang::Ko) => "1s, 250ms, 100us, 0 같은 시간을 주세요".into(),
        (ValueError::PeriodTooLong, Lang::Ko) => "60분(60m)을 넘을 수 없습니다".into(),
        (ValueError::Domain, Lang::Ko) => "ROS_DOMAIN_ID처럼 0부터 232까지의 도메인 번호를 주세요".into(),
        (ValueError::Sizes, Lang::Ko) => {
            "1 B부터 32 MiB까지의 바이트 수를 쉼표로 나눠 주세요. 예: 64,4KiB,6220800".into()
        }
        (ValueError::Spec(e), Lang::Ko) => {
            use crate::demos::copies::SpecError;
            let what = match e {
                SpecError::Empty => "목록이 비어 있습니다".to_string(),
                SpecError::BadItem { position, item } => format!("{position}번째 항목 '{item}'은(는) U도 S도 아닙니다"),
                SpecError::TooMany(n) => {
                    format!("구독이 {n}개입니다. 최대 {}개까지 됩니다", crate::demos::copies::Spec::MAX)
                }
            };
            format!("{what}. 구독을 U(소유권을 가져감) 또는 S(공유)로 쉼표로 나눠 쓰세요. 예: U,U,S,S")
        }
        (ValueError::Viewers, Lang::Ko) => "이미지 뷰는 1개나 2개입니다".into(),
        (ValueError::Source, Lang::Ko) => "auto, camera, camera:N, synthetic 또는 동영상 파일을 주세요".into(),
        (ValueError::NoSuchFile, Lang::Ko) => {
            "그런 동영상 파일이 없습니다 (auto, camera, camera:N, synthetic도 쓸 수 있습니다)".into()
        }
        (ValueError::Size, Lang::Ko) => "320x240, 1920x1080처럼 너비x높이로 주세요 (16x16부터 7680x4320까지)".into(),
        (ValueError::FrameSizes, Lang::Ko) => {
            "640x480,1920x1080처럼 너비x높이를 쉼표로 나눠 주세요 (저마다 16x16부터 7680x4320까지)".into()
        }
        (ValueError::Frames, Lang::Ko) => "프레임 수를 1 이상의 정수로 주세요".into(),
        (ValueError::Fps, Lang::Ko) => "초당 프레임을 0(최대한 빨리)부터 1000까지로 주세요".into(),
        (ValueError::Show, Lang::Ko) => "auto, window, terminal, png:폴더, none 가운데 하나를 주세요".into(),
        (ValueError::TextScale, Lang::Ko) => "글자 크기를 1부터 4까지로 주세요".into(),
        (v, Lang::En) => v.to_string(),
    }
}
