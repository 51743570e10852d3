//! Stage one of argument parsing: the flags as typed, checked only for their form.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::demos::copies::Spec;
use crate::engine::transport::frame::MAX_PAYLOAD;
use crate::engine::transport::MAX_DOMAIN;
use crate::i18n::particle::{particle, Particle};
use crate::i18n::{Lang, Text};
use crate::image::capture::Source;
use crate::image::view::Show;

#[derive(Debug, Parser)]
#[command(
    name = "ipc-lab",
    version,
    about = "ROS 2 intra-process communication demos without ROS: see every address, pid and copy",
    propagate_version = true
)]
pub struct Cli {
    /// Language of the tool's explanations, summaries and errors [default: from IPC_LAB_LANG, else LC_ALL/LANG]
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,

    /// When to use colour (NO_COLOR is honoured by auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Processes talk only within one domain, like ROS_DOMAIN_ID
    #[arg(long, global = true, env = "ROS_DOMAIN_ID", hide_env_values = true, default_value_t = 0, value_parser = parse_domain)]
    pub domain: u32,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// two_node_pipeline: a producer and a consumer pass a new number every period
    TwoNode(DemoArgs),
    /// cyclic_pipeline: two pipes pass ONE message around forever, adding 1 each hop
    Cyclic(DemoArgs),
    /// Build subscriptions (U = takes ownership, S = shared), publish one message, and see
    /// who got the original and who a copy: e.g. `ipc-lab copies U,U,S,S`
    Copies(CopiesArgs),
    /// Run one node of a demo in this process, for experiments with several terminals
    Node(NodeArgs),
    /// Print the messages on a topic from this process, like `ros2 topic echo`
    Echo(EchoArgs),
    /// List the running ipc-lab processes: pids, nodes, topics, IPC mode, memory
    Ps(PsArgs),
    /// Korean lessons that walk the chapter: list them, or read one, like `ipc-lab lesson 3`
    Lesson(LessonArgs),
    /// Measure what a hop costs on each path (IPC on, IPC off, socket, shared memory)
    /// beside the physical limits, on this machine: about a minute, or seconds with --quick
    Bench(BenchArgs),
    /// The peer process of `bench`, which starts it
    #[command(hide = true)]
    BenchPeer(BenchPeerArgs),
    /// The peer process of `bench`'s iceoryx2 baseline, which starts it
    #[cfg(feature = "iceoryx2")]
    #[command(hide = true)]
    BenchIceoryx2Peer(BenchIceoryx2PeerArgs),
    /// image_pipeline_all_in_one: camera_node -> watermark_node -> image_view_node, each
    /// writing its pid and the message's pointer on the frame
    ImagePipeline(ImageArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Intra-process communication: on (upstream), off (the middleware path), or both side by side
    #[arg(long, value_enum, default_value_t = IpcMode::On)]
    pub ipc: IpcMode,

    /// Stop after N messages have been received [default: run until Ctrl-C, like upstream]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// Timer period and cyclic sleep, like 1s, 250ms or 0 (as fast as possible)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_period, allow_negative_numbers = true)]
    pub period: Duration,

    /// Run each node in its own child process, as in the chapter's two terminals
    #[arg(long)]
    pub split: bool,

    /// How messages cross between processes [default: socket, or dds when
    /// RMW_IMPLEMENTATION=rmw_cyclonedds_cpp]
    #[arg(long, value_enum)]
    pub transport: Option<TransportChoice>,

    /// two-node: the producer publishes loaned messages (borrow_loaned_message, set, publish)
    /// and the consumer reads them where they arrived (`Loaned<Int32>`); needs --transport shm
    #[arg(long)]
    pub loan: bool,

    #[command(flatten)]
    pub qos: QosArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// The QoS of every publisher and subscription of a number demo (upstream: keep last 10,
/// reliable, volatile), and whose rclcpp rules apply where releases differ.
#[derive(Debug, Clone, Copy, Args)]
pub struct QosArgs {
    /// Keep-last depth of every queue; 0 is the middleware's default (keep last 1)
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_depth, allow_negative_numbers = true)]
    pub depth: usize,

    /// reliable (upstream), or best-effort
    #[arg(long, value_enum, default_value_t = ReliabilityArg::Reliable)]
    pub reliability: ReliabilityArg,

    /// volatile (upstream), or transient-local: publishers keep their last N messages for late joiners
    #[arg(long, value_enum, default_value_t = DurabilityArg::Volatile)]
    pub durability: DurabilityArg,

    /// Whose rclcpp rules apply where releases differ: humble (refuses transient local with IPC), jazzy, or rolling
    #[arg(long, value_enum, default_value_t = DistroArg::Rolling)]
    pub distro: DistroArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReliabilityArg {
    Reliable,
    BestEffort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    Volatile,
    TransientLocal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistroArg {
    Humble,
    Jazzy,
    Rolling,
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Which node: producer, consumer (two-node), pipe1, pipe2 (cyclic), camera_node,
    /// watermark_node, image_view_node (image-pipeline)
    #[arg(value_enum)]
    pub name: NodeName,

    /// Intra-process communication for this node
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub ipc: OnOff,

    /// Stop after this node has received N messages [default: run until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// Timer period and cyclic sleep, like 1s, 250ms or 0
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_period, allow_negative_numbers = true)]
    pub period: Duration,

    /// How messages cross between processes [default: socket, or dds when
    /// RMW_IMPLEMENTATION=rmw_cyclonedds_cpp]
    #[arg(long, value_enum)]
    pub transport: Option<TransportChoice>,

    /// producer, camera_node, watermark_node: publish loaned messages (borrow_loaned_message,
    /// fill, publish); consumer: read them where they arrived (`Loaned<Int32>`); needs
    /// --transport shm
    #[arg(long)]
    pub loan: bool,

    /// image_view_node: what its callback takes: unique, shared, shared-ptr, or loaned (a read-only view
    /// of the message where it arrived: with --transport shm, another process's memory)
    #[arg(long, value_enum, default_value_t = ViewerCallbackArg::Unique)]
    pub viewer_callback: ViewerCallbackArg,

    #[command(flatten)]
    pub qos: QosArgs,

    #[command(flatten)]
    pub image: FrameArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where frames come from and where they go: for `image-pipeline`, and for `ipc-lab node`
/// with `camera_node` (source, size, fps) or `image_view_node` (show).
#[derive(Debug, Args)]
pub struct FrameArgs {
    /// Where frames come from: auto (camera 0, else synthetic), camera, camera:N, synthetic, or a video FILE
    #[arg(long, value_name = "SOURCE", default_value = "auto", value_parser = parse_source)]
    pub source: Source,

    /// Frame size asked of the camera, and the synthetic camera's size
    #[arg(long, value_name = "WxH", default_value = "320x240", value_parser = parse_size, allow_negative_numbers = true)]
    pub size: (u32, u32),

    /// Frames per second of the synthetic camera and of a video file; 0 is as fast as the
    /// pipeline goes (a camera keeps its own pace)
    #[arg(long, value_name = "N", default_value = "30", value_parser = parse_fps, allow_negative_numbers = true)]
    pub fps: u32,

    /// Where frames are shown: auto, window (with the opencv feature), terminal, png:DIR, or none
    #[arg(long, value_name = "WHERE", default_value = "auto", value_parser = parse_show)]
    pub show: Show,

    /// Size of the text drawn on frames: 1 is upstream's; 2 to 4 are easier to read
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_text_scale, allow_negative_numbers = true)]
    pub text_scale: u32,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Intra-process communication: on (upstream), off (the middleware path), or both side by side
    #[arg(long, value_enum, default_value_t = IpcMode::On)]
    pub ipc: IpcMode,

    /// Image views: 1 (image_pipeline_all_in_one) or 2 (image_pipeline_with_two_image_view)
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_viewers, allow_negative_numbers = true)]
    pub viewers: usize,

    /// What the views' callbacks take, as upstream's image_view_node did over the years:
    /// unique (std::unique_ptr, demos 0.33.9 and later, PR #755: one of two views gets a copy),
    /// shared (ConstSharedPtr, Humble to Jazzy up to demos 0.33.8: no copy), shared-ptr
    /// (const SharedPtr, Ardent to Galactic: an owner, one copy), or loaned (a read-only view
    /// of the message where the middleware put it)
    #[arg(long, value_enum, default_value_t = ViewerCallbackArg::Unique)]
    pub viewer_callback: ViewerCallbackArg,

    /// How frames cross to a view in another process (`ipc-lab node image_view_node`)
    #[arg(long, value_enum, default_value_t = TransportChoice::Socket)]
    pub transport: TransportChoice,

    /// The camera and the watermark publish loaned messages (borrow_loaned_message, fill,
    /// publish): with --transport shm, a view in another process reads them in place
    #[arg(long)]
    pub loan: bool,

    /// Stop after N frames [default: run until Ctrl-C, ESC or q, like upstream]
    #[arg(long, value_name = "N", value_parser = parse_frames, allow_negative_numbers = true)]
    pub frames: Option<u64>,

    #[command(flatten)]
    pub frame: FrameArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct EchoArgs {
    /// The topic, like `number`
    #[arg(value_parser = parse_topic)]
    pub topic: String,

    /// Print each message's CDR bytes in hex, one message per line
    #[arg(long)]
    pub raw: bool,

    /// Stop after N messages [default: until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,

    /// How messages cross between processes [default: socket, or dds when
    /// RMW_IMPLEMENTATION=rmw_cyclonedds_cpp]
    #[arg(long, value_enum)]
    pub transport: Option<TransportChoice>,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// One JSON object per process per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LessonArgs {
    /// A lesson's number or name, like 3 or two-node [default: list the lessons]
    #[arg(value_name = "LESSON")]
    pub lesson: Option<String>,

    /// Also show the exercises' answers (hidden at first, so you try them yourself)
    #[arg(long)]
    pub answers: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Message sizes in bytes, separated by commas; KiB and MiB allowed
    /// [default: 64,4KiB,64KiB,921600,6220800]
    #[arg(long, value_name = "LIST", value_parser = parse_sizes, allow_negative_numbers = true)]
    pub sizes: Option<Sizes>,

    /// Frame sizes of the image pipeline, WIDTHxHEIGHT separated by commas
    /// [default: 640x480,1920x1080]
    #[arg(long, value_name = "LIST", value_parser = parse_frame_sizes, allow_negative_numbers = true)]
    pub pipeline_sizes: Option<FrameSizes>,

    /// A run of a few seconds instead of about a minute
    #[arg(long)]
    pub quick: bool,

    /// Before each timed hop, also write this many bytes of other memory, as a camera writes
    /// a frame (not timed), so hops of every size start from caches emptied alike
    #[arg(long, value_name = "SIZE", value_parser = parse_camera_write)]
    pub camera_write: Option<usize>,

    /// One JSON object per path and size per line instead of the table
    #[arg(long)]
    pub json: bool,

    /// Also write a log-log chart of latency against size to this SVG file
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchPeerArgs {
    /// How the bench's messages arrive
    #[arg(long, value_enum)]
    pub transport: TransportChoice,

    /// The bench's topic
    #[arg(long)]
    pub topic: String,

    /// Take each image as a read-only view where it arrived (`Loaned<Image>`), not decoded
    #[arg(long)]
    pub loaned: bool,
}

#[cfg(feature = "iceoryx2")]
#[derive(Debug, Args)]
pub struct BenchIceoryx2PeerArgs {
    /// The bench's pid, which names the run's iceoryx2 files
    #[arg(long)]
    pub run: u32,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Also draw the run as a sequence diagram into this SVG file
    #[arg(long, value_name = "FILE.svg")]
    pub diagram: Option<PathBuf>,

    /// side: a row per message with copies highlighted; classic: upstream's exact lines; json: one event per line.
    /// Lines fit COLUMNS if set, else the terminal; piped, they are not wrapped (one line per row, for grep and diff)
    #[arg(long, value_enum, default_value_t = Format::Side)]
    pub format: Format,

    /// Print pids and addresses as labels in order of first appearance (pid#1, @1, @2...)
    #[arg(long)]
    pub stable: bool,
}

#[derive(Debug, Args)]
pub struct CopiesArgs {
    /// Subscriptions in the order they are added: U (UniquePtr), S (ConstSharedPtr), R (const T&) or P (SharedPtr); /S or /U after one sets its intra_process_buffer_type (U/S)
    #[arg(value_name = "SPEC", value_parser = parse_spec, allow_hyphen_values = true)]
    pub spec: Spec,

    /// Add a subscriber outside the intra-process manager (IPC off), standing for another process
    #[arg(long)]
    pub inter: bool,

    /// Give the subscriptions rclcpp's ignore_local_publications: with --inter they no longer take and discard the middleware's copy
    #[arg(long)]
    pub ignore_local_publications: bool,

    /// Publish N messages one after another before any callback runs (a consumer fallen behind)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_publish, allow_negative_numbers = true)]
    pub publish: usize,

    /// Keep-last depth of the publisher and of every subscription
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_depth, allow_negative_numbers = true)]
    pub depth: usize,

    /// volatile, or transient-local: the publisher keeps its last N messages for late joiners
    #[arg(long, value_enum, default_value_t = DurabilityArg::Volatile)]
    pub durability: DurabilityArg,

    /// Create the subscriptions only after publishing: late joiners
    #[arg(long)]
    pub late: bool,

    /// Make the publisher best effort while the subscriptions stay reliable: incompatible QoS
    #[arg(long)]
    pub best_effort_publisher: bool,

    /// Make the publisher volatile while the subscriptions keep --durability: with
    /// transient-local ones, incompatible QoS
    #[arg(long)]
    pub volatile_publisher: bool,

    /// Whose rclcpp rules apply where releases differ: humble, jazzy, or rolling
    #[arg(long, value_enum, default_value_t = DistroArg::Rolling)]
    pub distro: DistroArg,

    /// table: who got the original and who a copy; json: one trace event per line.
    /// Lines fit COLUMNS if set, else the terminal; piped, they are not wrapped
    #[arg(long, value_enum, default_value_t = CopiesFormat::Table)]
    pub format: CopiesFormat,

    /// The same as --format json (the flag copies had first)
    #[arg(long, hide = true)]
    pub json: bool,

    /// Print pids and addresses as labels only
    #[arg(long)]
    pub stable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IpcMode {
    On,
    Off,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportChoice {
    Socket,
    Shm,
    // Cyclone DDS, as ROS 2 on rmw_cyclonedds_cpp (a build with the cargo feature `dds`).
    Dds,
}

/// The nodes `ipc-lab node` can run, by their upstream names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeName {
    Producer,
    Consumer,
    Pipe1,
    Pipe2,
    #[value(name = "camera_node")]
    CameraNode,
    #[value(name = "watermark_node")]
    WatermarkNode,
    #[value(name = "image_view_node")]
    ImageViewNode,
}

impl NodeName {
    /// The node's name, as it is typed and as the node calls itself.
    pub fn name(self) -> &'static str {
        match self {
            NodeName::Producer => "producer",
            NodeName::Consumer => "consumer",
            NodeName::Pipe1 => "pipe1",
            NodeName::Pipe2 => "pipe2",
            NodeName::CameraNode => "camera_node",
            NodeName::WatermarkNode => "watermark_node",
            NodeName::ImageViewNode => "image_view_node",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewerCallbackArg {
    Unique,
    Shared,
    SharedPtr,
    Loaned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Side,
    Classic,
    Json,
}

/// What `copies` prints: its table, or the events as JSON like the demos' `--format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopiesFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What is wrong with a value, for the error message in either language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// `--count` must be a whole number of at least 1.
    Count,
    /// `--period` must be a number with a unit.
    Period,
    /// `--period` beyond one hour.
    PeriodTooLong,
    /// A bad `copies` spec.
    Spec(crate::demos::copies::SpecError),
    /// `--domain` must be a number from 0 to 232, as ROS_DOMAIN_ID.
    Domain,
    /// `--sizes` must be byte counts from 1 B to [`MAX_SIZE`].
    Sizes,
    /// One size in bytes (`--camera-write`).
    ByteCount,
    /// `--viewers` is 1 or 2.
    Viewers,
    /// `--source` names neither a known source nor an existing file.
    Source,
    /// `--source FILE` that does not exist.
    NoSuchFile,
    /// `--size` must be WIDTHxHEIGHT within the limits.
    Size,
    /// A `--size` whose frame would not fit in a message between processes.
    FrameTooLarge { width: u32, height: u32 },
    /// `--pipeline-sizes` must be WIDTHxHEIGHT sizes within the limits, separated by commas.
    FrameSizes,
    /// `--frames` must be a whole number of at least 1.
    Frames,
    /// `--fps` from 0 to 1000.
    Fps,
    /// `--show` must be one of the listed places.
    Show,
    /// `--text-scale` from 1 to 4.
    TextScale,
    /// A topic name as ROS 2 allows it.
    Topic,
    /// `--depth` from 0 to [`MAX_DEPTH`].
    Depth,
    /// `copies --publish` from 1 to [`MAX_PUBLISH`].
    Publish,
}

const COUNT: Text = Text {
    ko: "받을 메시지 수를 1 이상의 정수로 주세요",
    en: "expected a whole number of messages, 1 or more",
};
const PERIOD: Text = Text {
    ko: "1s, 250ms, 100us, 0 같은 시간을 주세요",
    en: "expected a duration such as 1s, 250ms, 100us or 0",
};
const PERIOD_TOO_LONG: Text = Text { ko: "60분(60m)을 넘을 수 없습니다", en: "at most 60m" };
const VIEWERS: Text = Text { ko: "이미지 뷰어는 1개나 2개입니다", en: "expected 1 or 2 image views" };
const SOURCE: Text = Text {
    ko: "auto, camera, camera:N, synthetic 또는 동영상 파일을 주세요",
    en: "expected auto, camera, camera:N, synthetic or a video file",
};
const NO_SUCH_FILE: Text = Text {
    ko: "그런 동영상 파일이 없습니다 (auto, camera, camera:N, synthetic도 쓸 수 있습니다)",
    en: "no such video file (or use auto, camera, camera:N or synthetic)",
};
const FRAMES: Text =
    Text { ko: "프레임 수를 1 이상의 정수로 주세요", en: "expected a whole number of frames, 1 or more" };
const FPS: Text = Text {
    ko: "초당 프레임을 0(최대한 빨리)부터 1000까지로 주세요",
    en: "expected frames per second from 0 (as fast as possible) to 1000",
};
const SHOW: Text = Text {
    ko: "auto, window, terminal, png:폴더, none 가운데 하나를 주세요",
    en: "expected auto, window, terminal, png:DIR or none",
};
const TEXT_SCALE: Text =
    Text { ko: "글자 크기를 1부터 4까지로 주세요", en: "expected a text scale from 1 to 4" };
const DEPTH: Text = Text {
    ko: "큐 깊이(depth)를 0부터 1000까지의 정수로 주세요 (0은 미들웨어 기본값, keep last 1)",
    en: "expected a queue depth from 0 to 1000 (0 is the middleware's default, keep last 1)",
};
const PUBLISH: Text = Text {
    ko: "발행할 메시지 수를 1부터 16까지의 정수로 주세요",
    en: "expected a number of messages to publish from 1 to 16",
};
const TOPIC: Text = Text {
    ko: "number, /image처럼 영문자, 숫자, _, /로 된 토픽 이름을 주세요",
    en: "expected a topic name of letters, digits, _ and /, like number or /image",
};

impl ValueError {
    /// Why the value was refused, in `lang`; the limits come from the parsers' constants.
    pub fn message(&self, lang: Lang) -> String {
        let fixed = match self {
            ValueError::Count => COUNT,
            ValueError::Period => PERIOD,
            ValueError::PeriodTooLong => PERIOD_TOO_LONG,
            ValueError::Viewers => VIEWERS,
            ValueError::Source => SOURCE,
            ValueError::NoSuchFile => NO_SUCH_FILE,
            ValueError::Frames => FRAMES,
            ValueError::Fps => FPS,
            ValueError::Show => SHOW,
            ValueError::TextScale => TEXT_SCALE,
            ValueError::Topic => TOPIC,
            ValueError::Depth => DEPTH,
            ValueError::Publish => PUBLISH,
            ValueError::Spec(e) => return spec_message(e, lang),
            ValueError::FrameTooLarge { width, height } => return frame_too_large_message(*width, *height, lang),
            ValueError::Domain
            | ValueError::Sizes
            | ValueError::ByteCount
            | ValueError::Size
            | ValueError::FrameSizes => return self.limits_message(lang),
        };
        fixed.get(lang).to_string()
    }

    /// The messages that state a limit taken from the parsers' constants.
    fn limits_message(&self, lang: Lang) -> String {
        let max_mib = MAX_SIZE >> 20;
        let (w, h) = (MAX_WIDTH, MAX_HEIGHT);
        match lang {
            Lang::Ko => match self {
                ValueError::Domain => format!("ROS_DOMAIN_ID처럼 0부터 {MAX_DOMAIN}까지의 도메인 번호를 주세요"),
                ValueError::Sizes => {
                    format!("1 B부터 {max_mib} MiB까지의 바이트 수를 쉼표로 나눠 주세요. 예: 64,4KiB,6220800")
                }
                ValueError::ByteCount => format!("1 B부터 {max_mib} MiB까지의 바이트 수 하나를 주세요. 예: 6220800, 6MiB"),
                ValueError::Size => format!("320x240, 1920x1080처럼 너비x높이로 주세요 (16x16부터 {w}x{h}까지)"),
                _ => format!("640x480,1920x1080처럼 너비x높이를 쉼표로 나눠 주세요 (저마다 16x16부터 {w}x{h}까지)"),
            },
            Lang::En => match self {
                ValueError::Domain => format!("expected a domain id from 0 to {MAX_DOMAIN}, as ROS_DOMAIN_ID"),
                ValueError::Sizes => {
                    format!("expected sizes in bytes from 1 B to {max_mib} MiB, separated by commas, like 64,4KiB,6220800")
                }
                ValueError::ByteCount => format!("expected one size in bytes from 1 B to {max_mib} MiB, like 6220800 or 6MiB"),
                ValueError::Size => format!("expected WIDTHxHEIGHT like 320x240 or 1920x1080, from 16x16 to {w}x{h}"),
                _ => format!(
                    "expected frame sizes WIDTHxHEIGHT separated by commas, like 640x480,1920x1080, each from 16x16 to {w}x{h}"
                ),
            },
        }
    }
}

/// A `--size` whose frame would not fit in a message between processes.
fn frame_too_large_message(width: u32, height: u32, lang: Lang) -> String {
    let mib = frame_bytes(width, height) as f64 / f64::from(1 << 20);
    let limit = MAX_PAYLOAD >> 20;
    match lang {
        Lang::Ko => format!(
            "{width}x{height} 프레임은 {mib:.1} MiB라서 프로세스 사이 메시지 한도 {limit} MiB를 넘습니다 (3840x2160은 됩니다)"
        ),
        Lang::En => format!(
            "a {width}x{height} frame is {mib:.1} MiB, over the {limit} MiB a message between processes may carry (3840x2160 fits)"
        ),
    }
}

/// What is wrong with a `copies` spec, then how to write one.
fn spec_message(e: &crate::demos::copies::SpecError, lang: Lang) -> String {
    use crate::demos::copies::SpecError;
    match lang {
        Lang::Ko => {
            let what = match e {
                SpecError::Empty => "목록이 비어 있습니다".to_string(),
                SpecError::BadItem { position, item } => {
                    format!("{position}번째 항목 '{item}'{} U, S, R, P 가운데 하나가 아닙니다", particle(item, Particle::Topic))
                }
                SpecError::TooMany(n) => format!("구독이 {n}개입니다. 최대 {}개까지 됩니다", Spec::MAX),
            };
            format!("{what}. 구독을 U(UniquePtr), S(ConstSharedPtr), R(const T&), P(SharedPtr)로 쉼표로 나눠 쓰세요. 버퍼 종류는 U/S처럼 붙입니다. 예: U,U,S,S")
        }
        Lang::En => format!("{e}; write subscriptions as U (UniquePtr), S (ConstSharedPtr), R (const T&) or P (SharedPtr) separated by commas, a buffer type after a slash (U/S), like U,U,S,S"),
    }
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ValueError {}

/// The deepest queue `--depth` asks for: deep enough for any lesson, bounded so that a typo
/// cannot reserve a huge queue.
pub const MAX_DEPTH: usize = 1000;

/// The most messages `copies --publish` sends: a table row each, so a screenful.
pub const MAX_PUBLISH: usize = 16;

fn parse_publish(s: &str) -> Result<usize, ValueError> {
    s.parse::<usize>().ok().filter(|n| (1..=MAX_PUBLISH).contains(n)).ok_or(ValueError::Publish)
}

fn parse_depth(s: &str) -> Result<usize, ValueError> {
    s.parse::<usize>().ok().filter(|&n| n <= MAX_DEPTH).ok_or(ValueError::Depth)
}

fn parse_count(s: &str) -> Result<u64, ValueError> {
    s.parse::<u64>().ok().filter(|&n| n >= 1).ok_or(ValueError::Count)
}

/// A domain id; empty is the default domain 0, as ROS 2 reads an empty `ROS_DOMAIN_ID`
/// (rcl/src/rcl/domain_id.c, rolling: an empty value leaves the default).
/// A topic name: not empty, of the characters ROS 2 allows, not starting with a digit
/// (rcl's topic name validation, rcl/src/rcl/validate_topic_name.c, rolling; its
/// substitutions in braces and `~` are not used here).
fn parse_topic(s: &str) -> Result<String, ValueError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '/';
    let starts_well = s.chars().next().is_some_and(|c| !c.is_ascii_digit());
    if starts_well && s.chars().all(allowed) && !s.contains("//") {
        Ok(s.to_string())
    } else {
        Err(ValueError::Topic)
    }
}

fn parse_domain(s: &str) -> Result<u32, ValueError> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<u32>().ok().filter(|&d| d <= MAX_DOMAIN).ok_or(ValueError::Domain)
}

/// The largest message the bench sends: well inside the transport's frame limit.
pub const MAX_SIZE: usize = 32 << 20;

/// Message sizes for `bench`, ascending, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes(pub Vec<usize>);

/// `64,4KiB,1MiB,6220800`: bytes, or KiB and MiB.
fn parse_sizes(s: &str) -> Result<Sizes, ValueError> {
    let size = |item: &str| {
        let item = item.trim();
        let (number, unit) = match item.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => item.split_at(i),
            None => (item, ""),
        };
        let unit = match unit.trim() {
            "" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            _ => return None,
        };
        number.parse::<usize>().ok()?.checked_mul(unit).filter(|n| (1..=MAX_SIZE).contains(n))
    };
    let mut sizes = s.split(',').map(size).collect::<Option<Vec<_>>>().ok_or(ValueError::Sizes)?;
    sizes.sort_unstable();
    sizes.dedup();
    Ok(Sizes(sizes))
}

/// One size, as `--sizes` takes them.
fn parse_camera_write(s: &str) -> Result<usize, ValueError> {
    match parse_sizes(s).map_err(|_| ValueError::ByteCount)?.0.as_slice() {
        &[size] if !s.contains(',') => Ok(size),
        _ => Err(ValueError::ByteCount),
    }
}

fn parse_spec(s: &str) -> Result<Spec, ValueError> {
    s.parse().map_err(ValueError::Spec)
}

fn parse_viewers(s: &str) -> Result<usize, ValueError> {
    s.parse().ok().filter(|n| (1..=2).contains(n)).ok_or(ValueError::Viewers)
}

fn parse_source(s: &str) -> Result<Source, ValueError> {
    match s.parse().map_err(|_| ValueError::Source)? {
        // Said now, before anything starts, rather than after the pipeline is built.
        Source::File(path) if !path.is_file() => Err(ValueError::NoSuchFile),
        source => Ok(source),
    }
}

/// The largest `--size`: 8K.
const MAX_WIDTH: u32 = 7680;
const MAX_HEIGHT: u32 = 4320;

/// The bytes of a camera frame of `width` x `height` (`bgr8`, as the camera publishes), with
/// room for the rest of the message.
fn frame_bytes(width: u32, height: u32) -> usize {
    const MESSAGE_OVERHEAD: usize = 256;
    let bpp = crate::engine::msg::sensor_msgs::bytes_per_pixel("bgr8").unwrap_or(3);
    width as usize * height as usize * bpp + MESSAGE_OVERHEAD
}

/// A size whose frames every path can carry: within the width and height limits, and
/// within the frame limit between processes ([`MAX_PAYLOAD`]), said up front rather than by
/// a viewer refusing every frame.
fn parse_size(s: &str) -> Result<(u32, u32), ValueError> {
    let (width, height) = parse_dimensions(s)?;
    if frame_bytes(width, height) > MAX_PAYLOAD {
        return Err(ValueError::FrameTooLarge { width, height });
    }
    Ok((width, height))
}

fn parse_dimensions(s: &str) -> Result<(u32, u32), ValueError> {
    let (w, h) = s.split_once(['x', 'X']).ok_or(ValueError::Size)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| ValueError::Size)?, h.parse().map_err(|_| ValueError::Size)?);
    if (16..=MAX_WIDTH).contains(&w) && (16..=MAX_HEIGHT).contains(&h) {
        Ok((w, h))
    } else {
        Err(ValueError::Size)
    }
}

/// Frame sizes for the bench's image pipeline, smallest first, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSizes(pub Vec<(u32, u32)>);

/// `640x480,1920x1080`.
fn parse_frame_sizes(s: &str) -> Result<FrameSizes, ValueError> {
    let sizes: Result<Vec<_>, _> = s.split(',').map(|item| parse_size(item.trim())).collect();
    let mut sizes = sizes.map_err(|_| ValueError::FrameSizes)?;
    sizes.sort_unstable_by_key(|&(w, h)| (u64::from(w) * u64::from(h), w));
    sizes.dedup();
    Ok(FrameSizes(sizes))
}

fn parse_frames(s: &str) -> Result<u64, ValueError> {
    s.parse::<u64>().ok().filter(|&n| n >= 1).ok_or(ValueError::Frames)
}

fn parse_fps(s: &str) -> Result<u32, ValueError> {
    s.parse().ok().filter(|n| *n <= 1000).ok_or(ValueError::Fps)
}

fn parse_show(s: &str) -> Result<Show, ValueError> {
    s.parse().map_err(|_| ValueError::Show)
}

fn parse_text_scale(s: &str) -> Result<u32, ValueError> {
    s.parse().ok().filter(|n| (1..=4).contains(n)).ok_or(ValueError::TextScale)
}

/// `1s`, `250ms`, `1.5s`, `100us`, `2m`, or a bare `0`.
pub fn parse_period(s: &str) -> Result<Duration, ValueError> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or(ValueError::Period)?;
    let (number, unit) = s.split_at(split);
    let number: f64 = number.parse().map_err(|_| ValueError::Period)?;
    let seconds_per_unit = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        _ => return Err(ValueError::Period),
    };
    let seconds = number * seconds_per_unit;
    if !seconds.is_finite() {
        return Err(ValueError::Period);
    }
    if seconds > 3600.0 {
        return Err(ValueError::PeriodTooLong);
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `NodeName::name` says what clap accepts, so the two cannot drift apart.
    #[test]
    fn node_names_are_what_is_typed() {
        for node in NodeName::value_variants() {
            let typed = node.to_possible_value().expect("a visible value");
            assert_eq!(typed.get_name(), node.name());
        }
    }

    #[test]
    fn periods() {
        assert_eq!(parse_period("0"), Ok(Duration::ZERO));
        assert_eq!(parse_period("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_period("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_period("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_period("abc"), Err(ValueError::Period));
        assert_eq!(parse_period("5"), Err(ValueError::Period));
        assert_eq!(parse_period("-1s"), Err(ValueError::Period));
        assert_eq!(parse_period("2h"), Err(ValueError::Period));
        assert_eq!(parse_period("61m"), Err(ValueError::PeriodTooLong));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_sizes("4KiB,64, 64 ,1MiB"), Ok(Sizes(vec![64, 4096, 1 << 20])));
        assert_eq!(parse_sizes("6220800"), Ok(Sizes(vec![6_220_800])));
        for bad in ["", "0", "-1", "64,", "1GiB", "33MiB", "4kb", "x"] {
            assert_eq!(parse_sizes(bad), Err(ValueError::Sizes), "{bad}");
        }
    }

    #[test]
    fn frame_sizes() {
        assert_eq!(parse_frame_sizes("1920x1080, 640x480,640x480"), Ok(FrameSizes(vec![(640, 480), (1920, 1080)])));
        for bad in ["", "640x480,", "640", "8x8", "640x480;64x48"] {
            assert_eq!(parse_frame_sizes(bad), Err(ValueError::FrameSizes), "{bad}");
        }
    }

    #[test]
    fn image_values() {
        assert_eq!(parse_size("320x240"), Ok((320, 240)));
        assert_eq!(parse_size("1920X1080"), Ok((1920, 1080)));
        assert_eq!(parse_size("0x240"), Err(ValueError::Size));
        assert_eq!(parse_size("320"), Err(ValueError::Size));
        assert_eq!(parse_size("99999x240"), Err(ValueError::Size));
        assert_eq!(parse_size("3840x2160"), Ok((3840, 2160)));
        assert_eq!(parse_size("7680x4320"), Err(ValueError::FrameTooLarge { width: 7680, height: 4320 }));
        assert_eq!(parse_viewers("3"), Err(ValueError::Viewers));
        assert_eq!(parse_source("camera:x"), Err(ValueError::Source));
        assert_eq!(parse_source("/no/such/clip.mp4"), Err(ValueError::NoSuchFile));
        assert_eq!(parse_show("png:"), Err(ValueError::Show));
        assert_eq!(parse_text_scale("5"), Err(ValueError::TextScale));
    }

    #[test]
    fn topics() {
        assert_eq!(parse_topic("number"), Ok("number".into()));
        assert_eq!(parse_topic("/image"), Ok("/image".into()));
        for bad in ["", "1x", "a b", "a//b", "\u{1b}[2J"] {
            assert_eq!(parse_topic(bad), Err(ValueError::Topic), "{bad:?}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("3"), Ok(3));
        assert_eq!(parse_count("0"), Err(ValueError::Count));
        assert_eq!(parse_count("-1"), Err(ValueError::Count));
    }
}
