//! The peer process of the inter-process paths: `ipc-lab bench-peer` (hidden from help),
//! started by the bench. It subscribes to the bench's topic through the transport and
//! tells the bench, on its standard output, when each message reached its callback.
//!
//! The bench talks to it in lines. On its standard input: `count` (start counting the
//! copies this process makes), `report` (stop, and say how many), and the end of input
//! (stop). On its standard output, [`PeerLine`]s:
//!
//! ```
//! use ipc_lab::bench::peer::PeerLine;
//!
//! let line = PeerLine::Received { stamp: 5, at: 9 };
//! assert_eq!(line.to_string(), "received 5 9");
//! assert_eq!(PeerLine::parse("received 5 9"), Some(line));
//! assert_eq!(PeerLine::parse("copies 2"), Some(PeerLine::Copies(2)));
//! ```

use std::fmt;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};

use super::clock::{from_stamp, now_ns};
use super::counting::CopyCounter;
use super::{BenchError, DEPTH};
use crate::engine::loan::Loaned;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::transport::{TransportKind, TransportOptions};
use crate::engine::{ConstSharedPtr, Context, InitOptions, Node, NodeOptions, SingleThreadedExecutor};

/// What the peer tells the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerLine {
    /// A message stamped `stamp` reached the callback at `at` (both `CLOCK_MONOTONIC` ns).
    Received { stamp: u64, at: u64 },
    /// Counting copies from now on.
    Counting,
    /// The copies this process made since `count`.
    Copies(u64),
}

impl fmt::Display for PeerLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerLine::Received { stamp, at } => write!(f, "received {stamp} {at}"),
            PeerLine::Counting => write!(f, "counting"),
            PeerLine::Copies(n) => write!(f, "copies {n}"),
        }
    }
}

impl PeerLine {
    pub fn parse(line: &str) -> Option<PeerLine> {
        let mut words = line.split_whitespace();
        let line = match words.next()? {
            "received" => PeerLine::Received { stamp: words.next()?.parse().ok()?, at: words.next()?.parse().ok()? },
            "counting" => PeerLine::Counting,
            "copies" => PeerLine::Copies(words.next()?.parse().ok()?),
            _ => return None,
        };
        words.next().is_none().then_some(line)
    }
}

/// What reaches the peer's main thread, from the callback or from the bench.
enum Note {
    Received { stamp: u64, at: u64 },
    Count,
    Report,
    Stop,
}

/// What the peer subscribes to, and how.
pub struct Subscribe<'a> {
    pub kind: TransportKind,
    pub topic: &'a str,
    /// A `Loaned<Image>` callback (read where it arrived) instead of a `ConstSharedPtr` one.
    pub loaned: bool,
}

/// Runs the peer until its input ends (or Ctrl-C), writing [`PeerLine`]s to `out`.
pub fn serve(domain: u32, subscribe: Subscribe<'_>, command: String, out: &mut dyn Write) -> Result<(), BenchError> {
    let Subscribe { kind, topic, loaned } = subscribe;
    let counter = Arc::new(CopyCounter::default());
    let ctx = Context::init_with(InitOptions::default().sink(counter.clone()).domain_id(domain));
    ctx.enable_transport(TransportOptions { kind, command }).map_err(BenchError::Transport)?;
    let node = Node::new(&ctx, "bench_peer", NodeOptions::default())?;
    let (tx, notes) = unbounded();
    let to = tx.clone();
    let _subscription = if loaned {
        node.create_subscription(topic, DEPTH, move |msg: Loaned<Image>| {
            let at = now_ns();
            let _ = to.send(Note::Received { stamp: from_stamp(msg.header().stamp), at });
        })?
    } else {
        node.create_subscription(topic, DEPTH, move |msg: ConstSharedPtr<Image>| {
            let at = now_ns();
            let _ = to.send(Note::Received { stamp: from_stamp(msg.header.stamp), at });
        })?
    };
    std::thread::spawn(move || read_commands(&tx));
    let spinner = {
        let node = node.clone();
        std::thread::spawn(move || {
            let mut executor = SingleThreadedExecutor::new();
            executor.add_node(&node);
            executor.spin();
        })
    };
    report(&ctx, &counter, &notes, &spinner, out);
    let _ = spinner.join();
    Ok(())
}

/// Reads the bench's commands from stdin until it ends. It holds no engine handle, so when
/// the peer stops for another reason (Ctrl-C) its blocked read keeps nothing alive.
fn read_commands(tx: &Sender<Note>) {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let note = match line.trim() {
            "count" => Note::Count,
            "report" => Note::Report,
            _ => continue,
        };
        if tx.send(note).is_err() {
            return;
        }
    }
    let _ = tx.send(Note::Stop);
}

/// Writes what the notes say until the executor stops or the notes end.
fn report(ctx: &Context, counter: &CopyCounter, notes: &Receiver<Note>, spinner: &JoinHandle<()>, out: &mut dyn Write) {
    let mut write = |line: PeerLine, flush: bool| -> std::io::Result<()> {
        writeln!(out, "{line}")?;
        if flush {
            out.flush()?;
        }
        Ok(())
    };
    loop {
        let written = match notes.recv_timeout(Duration::from_millis(50)) {
            // Receipts of a burst go out together.
            Ok(Note::Received { stamp, at }) => write(PeerLine::Received { stamp, at }, notes.is_empty()),
            Ok(Note::Count) => {
                counter.start();
                write(PeerLine::Counting, true)
            }
            Ok(Note::Report) => write(PeerLine::Copies(counter.stop()), true),
            Ok(Note::Stop) => {
                ctx.shutdown();
                Ok(())
            }
            Err(RecvTimeoutError::Timeout) if spinner.is_finished() => break,
            Err(RecvTimeoutError::Timeout) => Ok(()),
            Err(RecvTimeoutError::Disconnected) => {
                ctx.shutdown();
                break;
            }
        };
        // The bench is gone: nobody to report to.
        if written.is_err() {
            ctx.shutdown();
        }
    }
}
