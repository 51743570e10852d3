//! Stage two: the validated plan that the rest of the program consumes.

use std::io::IsTerminal;
use std::time::Duration;

use super::args::{Cli, ColorChoice, Command, DemoArgs, ImageArgs, ViewerCallbackArg};
use crate::demos::copies::Spec;
use crate::demos::image_pipeline::ViewerCallback;
use crate::i18n::Lang;
use crate::image::capture::Source;
use crate::image::view::Show;

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
    ImagePipeline(ImagePlan),
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

/// `ipc-lab image-pipeline`: everything but `--source auto` and `--show auto`, which the run
/// resolves (they depend on the camera and the display it finds).
#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub ipc: IpcMode,
    /// 1 or 2 image views.
    pub viewers: usize,
    pub viewer_callback: ViewerCallback,
    pub source: Source,
    /// Width and height.
    pub size: (u32, u32),
    /// Stop after this many frames; `None` runs until Ctrl-C, ESC or q.
    pub frames: Option<u64>,
    /// Pace of the synthetic camera and of video files; 0 is as fast as possible.
    pub fps: u32,
    pub show: Show,
    pub text_scale: u32,
    pub format: Format,
    pub stable: bool,
}

impl ImagePlan {
    /// The upstream executable this run reproduces.
    pub fn upstream_name(&self) -> &'static str {
        if self.viewers == 2 {
            "image_pipeline_with_two_image_view"
        } else {
            "image_pipeline_all_in_one"
        }
    }
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
            Command::ImagePipeline(args) => Action::ImagePipeline(image_plan(args)),
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

fn image_plan(args: ImageArgs) -> ImagePlan {
    ImagePlan {
        ipc: args.ipc,
        viewers: args.viewers,
        viewer_callback: match args.viewer_callback {
            ViewerCallbackArg::Unique => ViewerCallback::Unique,
            ViewerCallbackArg::Shared => ViewerCallback::Shared,
        },
        source: args.source,
        size: args.size,
        frames: args.frames,
        fps: args.fps,
        show: args.show,
        text_scale: args.text_scale,
        format: args.output.format,
        stable: args.output.stable,
    }
}
