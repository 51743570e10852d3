//! Stage two: the validated plan that the rest of the program consumes.

use std::time::Duration;

use super::args::{
    BenchArgs, Cli, ColorChoice, Command, CopiesArgs, CopiesFormat, DemoArgs, DistroArg, DurabilityArg, ImageArgs,
    LessonArgs, NodeArgs, OnOff, OutputArgs, QosArgs, ReliabilityArg, TransportChoice, ViewerCallbackArg,
};
use super::HELP_HINT;
use crate::demos;
use crate::demos::copies::{Setup, Spec};
use crate::demos::image_pipeline::ViewerCallback;
pub use crate::demos::Demo;
use crate::engine::transport::TransportKind;
use crate::engine::{Distro, Durability, History, QoS, Reliability};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::{Lang, Text};
use crate::image::capture::Source;
use crate::image::view::Show;
use crate::lessons::{self, Lesson};

pub use super::args::{Format, IpcMode, NodeName};
pub use crate::bench::BenchPlan;

/// How a run's events are shown (`--format`, `--stable`): one value from the command line
/// to the renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// side, classic or json.
    pub format: Format,
    /// Pids and addresses as labels in order of first appearance.
    pub stable: bool,
}

impl From<OutputArgs> for Output {
    fn from(args: OutputArgs) -> Output {
        Output { format: args.format, stable: args.stable }
    }
}

/// Everything a run needs to know, decided once.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The language of the tool's own words (`--lang`, else the locale).
    pub lang: Lang,
    /// Whether to write ANSI colours.
    pub color: bool,
    /// The domain: only processes of the same domain talk.
    pub domain: u32,
    /// The command line, as `ipc-lab ps` shows it.
    pub command_line: String,
    /// What to do: the subcommand, validated.
    pub action: Action,
    /// `--diagram FILE.svg`: also draw the run as a sequence diagram.
    pub diagram: Option<std::path::PathBuf>,
    /// How many columns the views may use: none when stdout is piped
    /// ([`crate::render::fit`] says the rule).
    pub width: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Demo(DemoPlan),
    Copies(CopiesPlan),
    Node(NodePlan),
    Echo(EchoPlan),
    Ps {
        json: bool,
    },
    Lesson(LessonPlan),
    Bench(BenchPlan),
    BenchPeer(BenchPeerPlan),
    /// `ipc-lab bench-iceoryx2-peer`: the iceoryx2 baseline's peer, for the run of this bench
    /// pid.
    #[cfg(feature = "iceoryx2")]
    BenchIceoryx2Peer {
        run: u32,
    },
    ImagePipeline(ImagePlan),
}

/// Where messages go between processes: as asked, else DDS when `RMW_IMPLEMENTATION`
/// names rmw_cyclonedds_cpp (the ROS 2 way to choose Cyclone: rmw_implementation's
/// `RMW_IMPLEMENTATION`, rolling), else the socket. DDS needs a build with the feature.
fn transport(choice: Option<TransportChoice>) -> Result<TransportKind, PlanError> {
    let from_env = || std::env::var("RMW_IMPLEMENTATION").is_ok_and(|rmw| rmw == "rmw_cyclonedds_cpp");
    match choice.unwrap_or(if from_env() { TransportChoice::Dds } else { TransportChoice::Socket }) {
        TransportChoice::Socket => Ok(TransportKind::Socket),
        TransportChoice::Shm => Ok(TransportKind::SharedMemory),
        TransportChoice::Dds if cfg!(feature = "dds") => Ok(TransportKind::Dds),
        TransportChoice::Dds => Err(PlanError::DdsNotBuilt),
    }
}

/// How to get a build with DDS.
const DDS_BUILD_HINT: Text = Text {
    ko: "'cargo build --features dds'로 빌드하세요 (cmake와 libclang이 필요합니다)",
    en: "build with 'cargo build --features dds' (needs cmake and libclang)",
};

/// Where to look after asking for a lesson that does not exist.
const LESSON_LIST_HINT: Text =
    Text { ko: "'ipc-lab lesson'으로 목록을 볼 수 있습니다", en: "see the list with 'ipc-lab lesson'" };

/// Arguments that are well formed but ask for something that cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// `--split` runs one variant in child processes; `--ipc both` compares two in one.
    SplitWithBoth,
    /// `ipc-lab lesson KEY` names no lesson.
    NoSuchLesson(String),
    /// `ipc-lab node NAME --OPTION` with an option that node does not use.
    NotForNode { node: NodeName, option: String },
    /// `--transport dds` (or `RMW_IMPLEMENTATION=rmw_cyclonedds_cpp`) in a build without
    /// the cargo feature `dds`.
    DdsNotBuilt,
    /// `--loan` where nothing can be lent: only the shared-memory transport lends memory
    /// another process can read.
    LoanNeedsShm { command: String },
    /// `--loan` with `--ipc both`: its two runs stay in this process, with no transport.
    LoanWithBoth,
    /// `cyclic --loan`: its pipes change what they receive and send it on; only two-node
    /// has loans.
    LoanNotForCyclic,
}

impl PlanError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PlanError::SplitWithBoth, Lang::Ko) => {
                "--split과 --ipc both는 함께 쓸 수 없습니다: --split은 --ipc on 또는 off와 함께 쓰세요".into()
            }
            (PlanError::SplitWithBoth, Lang::En) => {
                "--split cannot be combined with --ipc both: use --split with --ipc on or off".into()
            }
            (PlanError::NotForNode { node, option }, Lang::Ko) => {
                let subject = particle(option, Particle::Subject);
                format!(
                    "{}에는 --{option}{subject} 쓰이지 않습니다{}",
                    node.name(),
                    not_for_node_why(*node, option, lang)
                )
            }
            (PlanError::NotForNode { node, option }, Lang::En) => {
                format!("{} does not use --{option}{}", node.name(), not_for_node_why(*node, option, lang))
            }
            (PlanError::NoSuchLesson(key), Lang::Ko) => {
                format!(
                    "'{key}'{} 강의는 없습니다: 1부터 {}까지의 번호나 강의 이름을 주세요",
                    particle(key, Particle::Called),
                    lessons::all().len()
                )
            }
            (PlanError::NoSuchLesson(key), Lang::En) => {
                format!(
                    "there is no lesson '{key}': give a number from 1 to {} or a lesson's name",
                    lessons::all().len()
                )
            }
            (PlanError::DdsNotBuilt, Lang::Ko) => {
                "이 ipc-lab은 DDS 없이 빌드되었습니다: --transport dds(또는 RMW_IMPLEMENTATION=rmw_cyclonedds_cpp)에는 \
                 `dds` 기능(feature)을 켠 빌드가 필요합니다"
                    .into()
            }
            (PlanError::DdsNotBuilt, Lang::En) => {
                "this ipc-lab was built without DDS: --transport dds (or RMW_IMPLEMENTATION=rmw_cyclonedds_cpp) needs a \
                 build with the `dds` feature"
                    .into()
            }
            (PlanError::LoanNeedsShm { .. } | PlanError::LoanWithBoth, _) => self.loan_message(lang),
            (PlanError::LoanNotForCyclic, Lang::Ko) => {
                "cyclic에는 --loan이 없습니다: 빌린 메시지는 two-node와 image-pipeline에서 써 보세요".into()
            }
            (PlanError::LoanNotForCyclic, Lang::En) => {
                "cyclic has no --loan: try loaned messages with two-node or image-pipeline".into()
            }
        }
    }

    /// Why `--loan` cannot work here.
    fn loan_message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PlanError::LoanNeedsShm { command }, Lang::Ko) => format!(
                "{command}의 --loan에는 --transport shm이 필요합니다: 다른 프로세스가 읽을 메모리를 빌려 줄 수 있는 것은 공유 메모리뿐입니다"
            ),
            (PlanError::LoanNeedsShm { command }, Lang::En) => format!(
                "--loan on {command} needs --transport shm: only shared memory can be lent for another process to read"
            ),
            (_, Lang::Ko) => {
                "--loan과 --ipc both는 함께 쓸 수 없습니다: --ipc both의 두 실행은 이 프로세스 안에만 있어 빌려 줄 곳이 없습니다".into()
            }
            (_, Lang::En) => {
                "--loan cannot be combined with --ipc both: its two runs stay in this process, with nothing to lend to".into()
            }
        }
    }

    /// What to do next.
    pub fn hint(&self) -> Text {
        match self {
            PlanError::SplitWithBoth
            | PlanError::NotForNode { .. }
            | PlanError::LoanNeedsShm { .. }
            | PlanError::LoanWithBoth
            | PlanError::LoanNotForCyclic => HELP_HINT,
            PlanError::NoSuchLesson(_) => LESSON_LIST_HINT,
            PlanError::DdsNotBuilt => DDS_BUILD_HINT,
        }
    }
}

/// The options of `ipc-lab node` that only some nodes use (clap's ids), and who uses them.
/// `--ipc`, `--transport`, `--format` and `--stable` apply to every node.
pub fn node_uses(node: NodeName, option: &str) -> bool {
    use NodeName::*;
    match option {
        // What the node receives: the producer and the camera receive nothing (the camera's
        // `--count` is its number of frames).
        "count" => node != Producer,
        // The timer of the producer and the sleep of the pipes.
        "period" => matches!(node, Producer | Pipe1 | Pipe2),
        "source" | "size" | "fps" => node == CameraNode,
        "show" | "viewer_callback" => node == ImageViewNode,
        "loan" => matches!(node, Producer | Consumer | CameraNode | WatermarkNode),
        "text_scale" => matches!(node, CameraNode | WatermarkNode | ImageViewNode),
        // The image nodes keep upstream's sensor-data QoS.
        "depth" | "reliability" | "durability" | "distro" => matches!(node, Producer | Consumer | Pipe1 | Pipe2),
        _ => true,
    }
}

/// Why a node does not use an option, where the reason is not plain from its name.
fn not_for_node_why(node: NodeName, option: &str, lang: Lang) -> &'static str {
    match (node, option) {
        (NodeName::Producer, "count") => lang.pick(
            ": producer는 받는 메시지가 없어서 --count로 멈출 수 없습니다 (Ctrl-C로 멈추세요)",
            ": the producer receives nothing, so --count could never stop it (stop it with Ctrl-C)",
        ),
        _ => "",
    }
}

#[derive(Debug, Clone)]
pub struct DemoPlan {
    /// Which number demo, from [`crate::demos::DEMOS`].
    pub demo: &'static Demo,
    /// On, off, or both side by side.
    pub ipc: IpcMode,
    /// Stop after this many receipts; `None` runs until Ctrl-C.
    pub count: Option<u64>,
    /// The timer period and the cyclic demo's sleep (upstream: 1 s).
    pub period: Duration,
    pub output: Output,
    /// Each node in its own child process.
    pub split: bool,
    /// How messages cross to other processes (`--split`, a node in another terminal).
    pub transport: TransportKind,
    /// The QoS of its endpoints and the release whose rules apply.
    pub qos: QosPlan,
    /// `--loan` (two-node): the producer publishes loaned messages, the consumer takes
    /// `Loaned<Int32>` views.
    pub loan: bool,
}

/// The QoS of a number demo's endpoints, and whose rclcpp rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QosPlan {
    pub qos: QoS,
    pub distro: Distro,
}

impl QosPlan {
    /// Upstream's QoS: keep last 10, reliable, volatile; rolling's rules.
    pub fn upstream() -> Self {
        Self { qos: QoS::keep_last(10), distro: Distro::Rolling }
    }

    /// The options that give this plan, for a child process.
    pub fn args(&self) -> Vec<String> {
        let depth = match self.qos.history {
            History::KeepLast(depth) => depth,
            History::KeepAll => 0,
        };
        let reliability = match self.qos.reliability {
            Reliability::Reliable => "reliable",
            Reliability::BestEffort => "best-effort",
        };
        let durability = match self.qos.durability {
            Durability::Volatile => "volatile",
            Durability::TransientLocal => "transient-local",
        };
        let distro = match self.distro {
            Distro::Humble => "humble",
            Distro::Jazzy => "jazzy",
            Distro::Rolling => "rolling",
        };
        let pairs = [
            ("--depth", depth.to_string()),
            ("--reliability", reliability.into()),
            ("--durability", durability.into()),
            ("--distro", distro.into()),
        ];
        pairs.into_iter().flat_map(|(flag, value)| [flag.to_string(), value]).collect()
    }
}

impl From<QosArgs> for QosPlan {
    fn from(args: QosArgs) -> Self {
        let mut qos = QoS::keep_last(args.depth);
        if args.reliability == ReliabilityArg::BestEffort {
            qos = qos.best_effort();
        }
        if args.durability == DurabilityArg::TransientLocal {
            qos = qos.transient_local();
        }
        let distro = match args.distro {
            DistroArg::Humble => Distro::Humble,
            DistroArg::Jazzy => Distro::Jazzy,
            DistroArg::Rolling => Distro::Rolling,
        };
        Self { qos, distro }
    }
}

/// `ipc-lab node`: one node of a demo in this process.
#[derive(Debug, Clone)]
pub struct NodePlan {
    pub name: NodeName,
    /// `use_intra_process_comms` for the node.
    pub ipc: bool,
    /// Stop after this many receipts (the camera: frames); `None` runs until Ctrl-C.
    pub count: Option<u64>,
    /// The timer period and the cyclic sleep.
    pub period: Duration,
    pub output: Output,
    /// How it talks to the demo's other nodes, in other processes.
    pub transport: TransportKind,
    /// The QoS of a number demo's node, and whose rules apply.
    pub qos: QosPlan,
    /// For the image nodes.
    pub image: ImageNodePlan,
}

/// What `camera_node` and `image_view_node` need when they run alone.
#[derive(Debug, Clone)]
pub struct ImageNodePlan {
    /// Where the camera's frames come from.
    pub source: Source,
    /// Width and height of the frames.
    pub size: (u32, u32),
    /// Pace of the synthetic camera and of video files; 0 is as fast as possible.
    pub fps: u32,
    /// Where the view shows frames: a window, the terminal, PNG files or nowhere.
    pub show: Show,
    /// How large the text drawn on frames is.
    pub text_scale: u32,
    /// `--loan`: the camera or the watermark publishes loaned messages.
    pub loan: bool,
    /// What the view's callback takes.
    pub viewer_callback: ViewerCallback,
}

/// `ipc-lab echo`.
#[derive(Debug, Clone)]
pub struct EchoPlan {
    pub topic: String,
    /// The CDR bytes in hex instead of YAML.
    pub raw: bool,
    /// Stop after this many messages.
    pub count: Option<u64>,
    pub transport: TransportKind,
}

/// `ipc-lab lesson`: the list, or one lesson.
#[derive(Debug, Clone)]
pub struct LessonPlan {
    /// `None` lists the lessons.
    pub lesson: Option<&'static Lesson>,
    /// The terminal's width, to wrap the text to.
    pub columns: usize,
    /// Show the exercises' answers.
    pub answers: bool,
}

/// `ipc-lab bench-peer`, started by the bench.
#[derive(Debug, Clone)]
pub struct BenchPeerPlan {
    pub transport: TransportKind,
    /// The topic the bench publishes on.
    pub topic: String,
    /// The callback takes a `Loaned<Image>` view: nothing decoded, nothing copied.
    pub loaned: bool,
}

/// `ipc-lab image-pipeline`: everything but `--source auto` and `--show auto`, which the run
/// resolves (they depend on the camera and the display it finds).
#[derive(Debug, Clone)]
pub struct ImagePlan {
    /// On, off, or both one after the other.
    pub ipc: IpcMode,
    /// 1 or 2 image views.
    pub viewers: usize,
    /// Whether the views take ownership or share the image.
    pub viewer_callback: ViewerCallback,
    /// Where the camera's frames come from (`auto` resolved by the run).
    pub source: Source,
    /// Width and height.
    pub size: (u32, u32),
    /// Stop after this many frames; `None` runs until Ctrl-C, ESC or q.
    pub frames: Option<u64>,
    /// Pace of the synthetic camera and of video files; 0 is as fast as possible.
    pub fps: u32,
    /// Where the views show frames (`auto` resolved by the run).
    pub show: Show,
    /// How large the text drawn on frames is.
    pub text_scale: u32,
    pub output: Output,
    /// How frames cross to a view in another process.
    pub transport: TransportKind,
    /// `--loan`: the camera and the watermark publish loaned messages.
    pub loan: bool,
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
    /// The subscriptions, in the order they are added.
    pub spec: Spec,
    /// What surrounds them: the outside subscriber, the options, the QoS, the messages.
    pub setup: Setup,
    /// Whose rclcpp rules apply where releases differ.
    pub distro: Distro,
    /// The trace events as JSON lines instead of the table.
    pub json: bool,
    /// Labels instead of addresses.
    pub stable: bool,
}

impl Plan {
    /// Resolves defaults that depend on the environment: the language and the colour.
    pub fn from_cli(
        cli: Cli,
        detected_lang: Lang,
        stdout_is_terminal: bool,
        command_line: String,
        given_node_options: &[String],
    ) -> Result<Plan, PlanError> {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && !no_color,
        };
        let diagram = match &cli.command {
            Command::TwoNode(a) | Command::Cyclic(a) => a.output.diagram.clone(),
            Command::ImagePipeline(a) => a.output.diagram.clone(),
            Command::Node(a) => a.output.diagram.clone(),
            _ => None,
        };
        let action = match cli.command {
            Command::TwoNode(args) => Action::Demo(demo_plan(&demos::TWO_NODE, args)?),
            Command::Cyclic(args) => Action::Demo(demo_plan(&demos::CYCLIC, args)?),
            Command::Copies(args) => Action::Copies(copies_plan(args)),
            Command::Node(args) => Action::Node(node_plan(args, given_node_options)?),
            Command::Echo(args) => Action::Echo(EchoPlan {
                topic: args.topic,
                raw: args.raw,
                count: args.count,
                transport: transport(args.transport)?,
            }),
            Command::Ps(args) => Action::Ps { json: args.json },
            Command::Lesson(args) => Action::Lesson(lesson_plan(args)?),
            Command::Bench(args) => Action::Bench(bench_plan(args, cli.domain, &command_line)),
            Command::BenchPeer(args) => Action::BenchPeer(BenchPeerPlan {
                transport: transport(Some(args.transport))?,
                topic: args.topic,
                loaned: args.loaned,
            }),
            #[cfg(feature = "iceoryx2")]
            Command::BenchIceoryx2Peer(args) => Action::BenchIceoryx2Peer { run: args.run },
            Command::ImagePipeline(args) => Action::ImagePipeline(image_plan(args)?),
        };
        let lang = cli.lang.unwrap_or(detected_lang);
        let width = crate::render::fit::screen_width();
        Ok(Plan { lang, color, domain: cli.domain, command_line, action, diagram, width })
    }
}

/// `ipc-lab node`: refuses the options this node would not use rather than ignore them.
fn node_plan(args: NodeArgs, given_node_options: &[String]) -> Result<NodePlan, PlanError> {
    if let Some(option) = given_node_options.iter().find(|o| !node_uses(args.name, o)) {
        let option = option.replace('_', "-");
        return Err(PlanError::NotForNode { node: args.name, option });
    }
    let transport = transport(args.transport)?;
    if args.loan && transport != TransportKind::SharedMemory {
        return Err(PlanError::LoanNeedsShm { command: format!("node {}", args.name.name()) });
    }
    Ok(NodePlan {
        name: args.name,
        ipc: args.ipc == OnOff::On,
        count: args.count,
        period: args.period,
        output: args.output.into(),
        transport,
        qos: args.qos.into(),
        image: ImageNodePlan {
            source: args.image.source,
            size: args.image.size,
            fps: args.image.fps,
            show: args.image.show,
            text_scale: args.image.text_scale,
            loan: args.loan,
            viewer_callback: viewer_callback(args.viewer_callback),
        },
    })
}

fn copies_plan(args: CopiesArgs) -> CopiesPlan {
    let qos = QosPlan::from(QosArgs {
        depth: args.depth,
        reliability: ReliabilityArg::Reliable,
        durability: args.durability,
        distro: args.distro,
    });
    let setup = Setup {
        inter_process: args.inter,
        ignore_local_publications: args.ignore_local_publications,
        qos: qos.qos,
        best_effort_publisher: args.best_effort_publisher,
        volatile_publisher: args.volatile_publisher,
        messages: args.publish,
        late: args.late,
    };
    CopiesPlan {
        spec: args.spec,
        setup,
        distro: qos.distro,
        json: args.json || args.format == CopiesFormat::Json,
        stable: args.stable,
    }
}

/// `ipc-lab bench`: the default sizes where none are given.
fn bench_plan(args: BenchArgs, domain: u32, command_line: &str) -> BenchPlan {
    BenchPlan {
        sizes: args.sizes.map_or_else(|| crate::bench::DEFAULT_SIZES.to_vec(), |s| s.0),
        pipeline_sizes: args.pipeline_sizes.map_or_else(|| crate::bench::DEFAULT_PIPELINE_SIZES.to_vec(), |s| s.0),
        quick: args.quick,
        camera_write: args.camera_write.unwrap_or(0),
        domain,
        command: command_line.to_string(),
        json: args.json,
        plot: args.plot,
    }
}

fn lesson_plan(args: LessonArgs) -> Result<LessonPlan, PlanError> {
    let lesson = match args.lesson {
        Some(key) => Some(lessons::find(&key).ok_or(PlanError::NoSuchLesson(key))?),
        None => None,
    };
    Ok(LessonPlan { lesson, columns: terminal_columns(), answers: args.answers })
}

/// `COLUMNS` if set, else the terminal's width (of stdout, stderr or stdin, so a lesson piped
/// into a pager still fits the screen), else 80.
fn terminal_columns() -> usize {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|&c: &usize| c > 0);
    from_env.or_else(|| terminal_size::terminal_size().map(|(width, _)| usize::from(width.0))).unwrap_or(80)
}

fn demo_plan(demo: &'static Demo, args: DemoArgs) -> Result<DemoPlan, PlanError> {
    if args.split && args.ipc == IpcMode::Both {
        return Err(PlanError::SplitWithBoth);
    }
    let transport = transport(args.transport)?;
    if args.loan {
        if demo.command != demos::TWO_NODE.command {
            return Err(PlanError::LoanNotForCyclic);
        }
        if args.ipc == IpcMode::Both {
            return Err(PlanError::LoanWithBoth);
        }
        if transport != TransportKind::SharedMemory {
            return Err(PlanError::LoanNeedsShm { command: demo.command.into() });
        }
    }
    Ok(DemoPlan {
        demo,
        ipc: args.ipc,
        count: args.count,
        period: args.period,
        output: args.output.into(),
        split: args.split,
        transport,
        qos: args.qos.into(),
        loan: args.loan,
    })
}

fn viewer_callback(arg: ViewerCallbackArg) -> ViewerCallback {
    match arg {
        ViewerCallbackArg::Unique => ViewerCallback::Unique,
        ViewerCallbackArg::Shared => ViewerCallback::ConstShared,
        ViewerCallbackArg::SharedPtr => ViewerCallback::SharedPtr,
        ViewerCallbackArg::Loaned => ViewerCallback::Loaned,
    }
}

/// `ipc-lab image-pipeline`: `--loan` only where a view in another process can be lent to.
fn image_plan(args: ImageArgs) -> Result<ImagePlan, PlanError> {
    let transport = transport(Some(args.transport))?;
    if args.loan && args.ipc == IpcMode::Both {
        return Err(PlanError::LoanWithBoth);
    }
    if args.loan && transport != TransportKind::SharedMemory {
        return Err(PlanError::LoanNeedsShm { command: "image-pipeline".into() });
    }
    Ok(ImagePlan {
        ipc: args.ipc,
        viewers: args.viewers,
        viewer_callback: viewer_callback(args.viewer_callback),
        source: args.frame.source,
        size: args.frame.size,
        frames: args.frames,
        fps: args.frame.fps,
        show: args.frame.show,
        text_scale: args.frame.text_scale,
        output: args.output.into(),
        transport,
        loan: args.loan,
    })
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;
    use crate::demos::{self, DEMOS};

    /// The demo table and clap cannot drift apart: every number demo's `command` is the
    /// subcommand that runs it, every node of one is what `ipc-lab node` accepts, and every
    /// node `ipc-lab node` accepts is in the table unless it is an image node.
    #[test]
    fn the_demo_table_is_what_clap_accepts() {
        for demo in DEMOS {
            let plan = crate::cli::parse(["ipc-lab", demo.command]).unwrap_or_else(|_| panic!("{}", demo.command));
            assert!(matches!(plan.action, Action::Demo(d) if std::ptr::eq(d.demo, demo)), "{}", demo.command);
            for node in demo.nodes {
                let plan =
                    crate::cli::parse(["ipc-lab", "node", node.name]).unwrap_or_else(|_| panic!("{}", node.name));
                assert!(matches!(plan.action, Action::Node(n) if n.name.name() == node.name), "{}", node.name);
            }
        }
        let image_nodes = [NodeName::CameraNode, NodeName::WatermarkNode, NodeName::ImageViewNode];
        for name in NodeName::value_variants() {
            assert_eq!(demos::node(name.name()).is_some(), !image_nodes.contains(name), "{}", name.name());
        }
    }
}
