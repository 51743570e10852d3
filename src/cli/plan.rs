//! Stage two: the validated plan that the rest of the program consumes.

use std::io::IsTerminal;
use std::time::Duration;

use super::args::{Cli, ColorChoice, Command, DemoArgs};
use crate::demos::copies::Spec;
use crate::i18n::Lang;

pub use super::args::{Format, IpcMode};

/// Everything a run needs to know, decided once.
#[derive(Debug, Clone)]
pub struct Plan {
    pub lang: Lang,
    /// Whether to write ANSI colours.
    pub color: bool,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    Demo(DemoPlan),
    Copies(CopiesPlan),
}

/// Which upstream demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demo {
    TwoNode,
    Cyclic,
}

impl Demo {
    /// The upstream executable's name.
    pub fn upstream_name(self) -> &'static str {
        match self {
            Demo::TwoNode => "two_node_pipeline",
            Demo::Cyclic => "cyclic_pipeline",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoPlan {
    pub demo: Demo,
    pub ipc: IpcMode,
    /// Stop after this many receipts; `None` runs until Ctrl-C.
    pub count: Option<u64>,
    pub period: Duration,
    pub format: Format,
    pub stable: bool,
}

#[derive(Debug, Clone)]
pub struct CopiesPlan {
    pub spec: Spec,
    pub inter: bool,
    pub json: bool,
    pub stable: bool,
}

impl Plan {
    /// Resolves defaults that depend on the environment: the language and the colour.
    pub fn from_cli(cli: Cli, detected_lang: Lang, stdout_is_terminal: bool) -> Plan {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && !no_color,
        };
        let action = match cli.command {
            Command::TwoNode(args) => Action::Demo(demo_plan(Demo::TwoNode, args)),
            Command::Cyclic(args) => Action::Demo(demo_plan(Demo::Cyclic, args)),
            Command::Copies(args) => {
                Action::Copies(CopiesPlan { spec: args.spec, inter: args.inter, json: args.json, stable: args.stable })
            }
        };
        Plan { lang: cli.lang.unwrap_or(detected_lang), color, action }
    }

    /// With the real terminal.
    pub fn from_cli_here(cli: Cli, detected_lang: Lang) -> Plan {
        Self::from_cli(cli, detected_lang, std::io::stdout().is_terminal())
    }
}

fn demo_plan(demo: Demo, args: DemoArgs) -> DemoPlan {
    DemoPlan {
        demo,
        ipc: args.ipc,
        count: args.count,
        period: args.period,
        format: args.output.format,
        stable: args.output.stable,
    }
}
