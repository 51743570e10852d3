//! Stage one of argument parsing: the flags as typed, checked only for their form.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::demos::copies::Spec;
use crate::i18n::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "ipc-lab",
    version,
    about = "ROS 2 intra-process communication demos without ROS: see every address, pid and copy",
    propagate_version = true
)]
pub struct Cli {
    /// Language of the tool's explanations, summaries and errors [default: from LC_ALL/LANG]
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,

    /// When to use colour (NO_COLOR is honoured by auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Processes talk only within one domain, like ROS_DOMAIN_ID
    #[arg(long, global = true, env = "ROS_DOMAIN_ID", default_value_t = 0, value_parser = parse_domain)]
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
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Intra-process communication: on (upstream), off (the middleware path), or both side by side
    #[arg(long, value_enum, default_value_t = IpcMode::On)]
    pub ipc: IpcMode,

    /// Stop after N messages have been received [default: run until Ctrl-C, like upstream]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub count: Option<u64>,

    /// Timer period and cyclic sleep, like 1s, 250ms or 0 (as fast as possible)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_period, allow_hyphen_values = true)]
    pub period: Duration,

    /// Run each node in its own child process, as in the chapter's two terminals
    #[arg(long)]
    pub split: bool,

    /// How messages cross between processes: through the socket, or in shared memory
    #[arg(long, value_enum, default_value_t = TransportChoice::Socket)]
    pub transport: TransportChoice,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Which node: producer, consumer (two-node), pipe1, pipe2 (cyclic)
    #[arg(value_enum)]
    pub name: NodeName,

    /// Intra-process communication for this node
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub ipc: OnOff,

    /// Stop after this node has received N messages [default: run until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub count: Option<u64>,

    /// Timer period and cyclic sleep, like 1s, 250ms or 0
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_period, allow_hyphen_values = true)]
    pub period: Duration,

    /// How messages cross between processes
    #[arg(long, value_enum, default_value_t = TransportChoice::Socket)]
    pub transport: TransportChoice,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct EchoArgs {
    /// The topic, like `number`
    pub topic: String,

    /// Print each message's CDR bytes in hex, one message per line
    #[arg(long)]
    pub raw: bool,

    /// Stop after N messages [default: until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub count: Option<u64>,

    /// How messages cross between processes
    #[arg(long, value_enum, default_value_t = TransportChoice::Socket)]
    pub transport: TransportChoice,
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
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Message sizes in bytes, separated by commas; KiB and MiB allowed
    /// [default: 64,4KiB,64KiB,921600,6220800]
    #[arg(long, value_name = "LIST", value_parser = parse_sizes, allow_hyphen_values = true)]
    pub sizes: Option<Sizes>,

    /// A run of a few seconds instead of about a minute
    #[arg(long)]
    pub quick: bool,

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
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// side: a row per message with copies highlighted; classic: upstream's exact lines; json: one event per line
    #[arg(long, value_enum, default_value_t = Format::Side)]
    pub format: Format,

    /// Print pids and addresses as labels in order of first appearance (pid#1, @1, @2...)
    #[arg(long)]
    pub stable: bool,
}

#[derive(Debug, Args)]
pub struct CopiesArgs {
    /// Subscriptions in the order they are added: U (UniquePtr, takes ownership) or S (ConstSharedPtr)
    #[arg(value_name = "SPEC", value_parser = parse_spec, allow_hyphen_values = true)]
    pub spec: Spec,

    /// Add a subscriber outside the intra-process manager (IPC off), standing for another process
    #[arg(long)]
    pub inter: bool,

    /// One JSON object per trace event per line instead of the table
    #[arg(long)]
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
}

/// The nodes `ipc-lab node` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeName {
    Producer,
    Consumer,
    Pipe1,
    Pipe2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Side,
    Classic,
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
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueError::Count => write!(f, "expected a whole number of messages, 1 or more"),
            ValueError::Period => write!(f, "expected a duration such as 1s, 250ms, 100us or 0"),
            ValueError::PeriodTooLong => write!(f, "at most 60m"),
            ValueError::Spec(e) => write!(f, "{e}; write subscriptions as U or S separated by commas, like U,U,S,S"),
            ValueError::Domain => write!(f, "expected a domain id from 0 to 232, as ROS_DOMAIN_ID"),
            ValueError::Sizes => {
                write!(f, "expected sizes in bytes from 1 B to 32 MiB, separated by commas, like 64,4KiB,6220800")
            }
        }
    }
}

impl std::error::Error for ValueError {}

fn parse_count(s: &str) -> Result<u64, ValueError> {
    s.parse::<u64>().ok().filter(|&n| n >= 1).ok_or(ValueError::Count)
}

fn parse_domain(s: &str) -> Result<u32, ValueError> {
    s.parse::<u32>().ok().filter(|&d| d <= 232).ok_or(ValueError::Domain)
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

fn parse_spec(s: &str) -> Result<Spec, ValueError> {
    s.parse().map_err(ValueError::Spec)
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
    fn counts() {
        assert_eq!(parse_count("3"), Ok(3));
        assert_eq!(parse_count("0"), Err(ValueError::Count));
        assert_eq!(parse_count("-1"), Err(ValueError::Count));
    }
}
