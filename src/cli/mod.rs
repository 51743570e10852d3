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
pub mod help_ko;
pub mod plan;

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches};

use crate::i18n::particle::{particle, Particle};
use crate::i18n::{Lang, Text};
use args::{Cli, ValueError};
use plan::Plan;

/// What every error line starts with.
const ERROR: Text = Text { ko: "오류", en: "error" };

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
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // `ipc-lab help --help` is help about help: the same page as `ipc-lab help`.
    if args.get(1).is_some_and(|a| a == "help") {
        args.retain(|a| a != "--help" && a != "-h");
    }
    let lang = Lang::detect(&args);
    let command_line = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    let args = join_hyphen_values(args);
    let parsed = help_ko::command(lang).try_get_matches_from(&args).and_then(|m| {
        let given = given_node_options(&m);
        Cli::from_arg_matches(&m).map(|cli| (cli, given))
    });
    match parsed {
        Ok((cli, given)) => {
            Plan::from_cli(cli, lang, std::io::stdout().is_terminal(), command_line, &given).map_err(|e| {
                let message = format!("{}: {} ({})", ERROR.get(lang), e.message(lang), e.hint().get(lang));
                CliExit { code: 2, message, to_stdout: false }
            })
        }
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Err(CliExit { code: 0, message: e.render().to_string(), to_stdout: true })
        }
        Err(e) => Err(CliExit { code: 2, message: describe(&e, lang), to_stdout: false }),
    }
}

/// Options whose value may start with a hyphen without being a number (`--period -1s`,
/// `--size -320x240`). clap takes such a value only if the option accepts any hyphen value,
/// and then `--period --count 3` would give `--period` the value `--count`; so they accept
/// negative numbers only, and a value like `-1s` is joined to its option (`--period=-1s`)
/// first: its own message then says what a duration or a size must be.
const HYPHEN_VALUES: [&str; 4] = ["--period", "--size", "--sizes", "--pipeline-sizes"];

fn join_hyphen_values(args: Vec<OsString>) -> Vec<OsString> {
    let mut joined = Vec::with_capacity(args.len());
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let option = arg.to_str().filter(|a| HYPHEN_VALUES.contains(a));
        let value = args.peek().and_then(|v| v.to_str()).filter(|v| v.starts_with('-') && !v.starts_with("--"));
        match (option, value) {
            (Some(option), Some(value)) => {
                joined.push(OsString::from(format!("{option}={value}")));
                args.next();
            }
            _ => joined.push(arg),
        }
    }
    joined
}

/// The options of `ipc-lab node` typed on the command line (not defaults), by their ids:
/// a node refuses those it would not use rather than ignore them.
fn given_node_options(matches: &clap::ArgMatches) -> Vec<String> {
    let Some(("node", node)) = matches.subcommand() else { return Vec::new() };
    node.ids()
        .filter(|id| node.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.to_string())
        .collect()
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
        // `--count` at the end of the line: clap reports an empty value (with no list for a
        // free-form one).
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => value_refused(e, lang, &flag, &arg, &value),
        ErrorKind::InvalidSubcommand => {
            let sub = context(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            match lang {
                Lang::Ko => {
                    format!("'{sub}'{} 명령은 없습니다. 명령: {}", particle(&sub, Particle::Called), commands())
                }
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
        // `--stable=yes`: a switch given a value.
        ErrorKind::TooManyValues if value.is_empty() || !arg.contains('<') => match lang {
            Lang::Ko => format!("{flag}{} 값을 받지 않습니다: {flag}만 쓰세요", particle(&flag, Particle::Topic)),
            Lang::En => format!("{flag} takes no value: write {flag} alone"),
        },
        ErrorKind::ArgumentConflict | ErrorKind::TooManyValues => match lang {
            Lang::Ko => format!("'{arg}'{} 이렇게 함께 또는 여러 번 쓸 수 없습니다", particle(&arg, Particle::Object)),
            Lang::En => format!("'{arg}' cannot be used like this (given twice or with a conflicting argument)"),
        },
        // Anything rarer: clap's own first line.
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.trim_start_matches("error: ").to_string()
        }
    };
    format!("{}: {body} ({hint})", ERROR.get(lang))
}

/// A value clap or our parsers refused, or a value left out.
fn value_refused(e: &clap::Error, lang: Lang, flag: &str, arg: &str, value: &str) -> String {
    match e.kind() {
        // `--count` at the end of the line: clap reports an empty value (with no list for a
        // free-form one).
        ErrorKind::InvalidValue if value.is_empty() => {
            let valid = context(e, ContextKind::ValidValue).filter(|v| !v.is_empty());
            match (lang, valid) {
                (Lang::Ko, Some(valid)) => format!("{flag}에 값이 빠졌습니다. 가능한 값: {valid}"),
                (Lang::Ko, None) => format!("{flag}에 값이 빠졌습니다. 예: {arg}"),
                (Lang::En, Some(valid)) => format!("{flag} needs a value, one of {valid}"),
                (Lang::En, None) => format!("{flag} needs a value: {arg}"),
            }
        }
        ErrorKind::ValueValidation => {
            let reason = std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<ValueError>())
                .map(|v| v.message(lang))
                .unwrap_or_default();
            match lang {
                Lang::Ko => format!("{flag}에 '{value}'{} 쓸 수 없습니다: {reason}", particle(value, Particle::Topic)),
                Lang::En => format!("invalid value '{value}' for {flag}: {reason}"),
            }
        }
        _ => {
            let valid = context(e, ContextKind::ValidValue).unwrap_or_default();
            match lang {
                Lang::Ko => {
                    format!("{flag}에 '{value}'{} 쓸 수 없습니다. 가능한 값: {valid}", particle(value, Particle::Topic))
                }
                Lang::En => format!("invalid value '{value}' for {flag}: expected one of {valid}"),
            }
        }
    }
}
