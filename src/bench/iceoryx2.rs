//! `iceoryx2-baseline` (cargo feature `iceoryx2`): the same bytes between two processes
//! through [iceoryx2](https://iceoryx.io), a middleware made for zero copy between processes,
//! in the same run. It is what `shm-loan` is held against: a hop that copies nothing, with a
//! wake-up.
//!
//! ```
//! use ipc_lab::bench::iceoryx2::Files;
//!
//! // The run of bench pid 4242 keeps its iceoryx2 files apart from any other run's.
//! let files = Files::of_run(4242);
//! assert!(files.root().ends_with("iceoryx2-4242"));
//! assert!(files.prefix().starts_with("ipclab") && files.prefix().ends_with("_4242_"));
//! ```
//!
//! The bench loans a byte slice of the measured size from iceoryx2's shared memory
//! (`publish_subscribe::<[u8]>`), fills it (the camera's work, as on `shm-loan`), writes
//! the stamp into the sample's user header, sends it and wakes the peer with an event
//! (`Notifier::notify`). The child `ipc-lab bench-iceoryx2-peer` waits on that event
//! (`Listener::timed_wait`), takes the sample where it is, reads only its header and reports
//! a [`PeerLine::Received`] as `bench-peer` does. Nothing is copied on the way.
//!
//! # Leaving nothing behind
//! iceoryx2 keeps its nodes, services and event sockets as files under a root directory
//! (`/tmp/iceoryx2/` unless told otherwise) and its shared memory in `/dev/shm` under a
//! prefix (`iox2_`), and a process that is killed cannot remove its own. So a run tells
//! iceoryx2 names of its own ([`Files`]), from the bench's pid: the root `iceoryx2-<pid>/`
//! in ipc-lab's runtime directory and the prefix `ipclab<uid>_<pid>_`. Then:
//! - the run ends or fails: the path removes both once its peer has exited;
//! - the peer is killed: the same, when the bench drops the path;
//! - the bench is killed: its peer sees its input end (or gets SIGTERM, `PR_SET_PDEATHSIG`)
//!   without the bench's [`END`], stops and removes them;
//! - both are killed at once: the next run with the feature removes the files of every run
//!   whose bench is gone ([`remove_stale`]).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use iceoryx2::port::listener::ListenerWaitError;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::publisher::Publisher;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::{event, publish_subscribe};

use super::clock::now_ns;
use super::peer::PeerLine;
use super::remote::{Peer, PEER_TIMEOUT};
use super::{BenchError, Path as BenchPath, PathKind, DEPTH};
use crate::engine::transport::runtime_dir;
use crate::engine::Context;

/// The service both processes open, in the run's own root: no other run can see it.
const SERVICE: &str = "ipc_lab/bench";

/// Where iceoryx2 puts shared memory on Linux.
const SHM_DIR: &str = "/dev/shm";

/// What the bench tells its peer when it ends the run itself and removes the files.
pub const END: &str = "end";

/// The peer waits this long for an event before it looks whether it should stop.
const WAIT: Duration = Duration::from_millis(50);

/// Something iceoryx2 refused: what ipc-lab was doing, and iceoryx2's error.
fn failed<E: std::fmt::Debug>(what: &'static str) -> impl Fn(E) -> BenchError {
    move |e| BenchError::Iceoryx2(format!("cannot {what}: {e:?}"))
}

/// The files of one run, named by the bench's pid.
#[derive(Debug, Clone)]
pub struct Files {
    /// iceoryx2's root directory: nodes, services, event sockets.
    root: PathBuf,
    /// How the names of the run's shared memory in `/dev/shm` begin.
    prefix: String,
}

impl Files {
    pub fn of_run(run: u32) -> Files {
        Files {
            root: runtime_dir::location().join(format!("iceoryx2-{run}")),
            prefix: format!("{}{run}_", shm_prefix()),
        }
    }

    /// iceoryx2's root directory for the run.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// How the names of the run's shared memory in `/dev/shm` begin.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// iceoryx2's configuration: this run's root and prefix, the rest as iceoryx2 ships it.
    fn config(&self) -> Result<Config, BenchError> {
        let mut config = Config::default();
        let root = format!("{}/", self.root.display());
        config.global.set_root_path(&Path::new(root.as_bytes()).map_err(failed("use the runtime directory"))?);
        config.global.prefix = FileName::new(self.prefix.as_bytes()).map_err(failed("name the shared memory"))?;
        Ok(config)
    }

    /// A node of this run. iceoryx2 handles no signal: ipc-lab's Ctrl-C stays as it is.
    fn node(&self) -> Result<Node<ipc::Service>, BenchError> {
        NodeBuilder::new()
            .config(&self.config()?)
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<ipc::Service>()
            .map_err(failed("create a node"))
    }

    /// Removes everything of the run: the root directory and the shared memory.
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.root);
        for name in shm_names().filter(|name| name.starts_with(&self.prefix)) {
            let _ = std::fs::remove_file(std::path::Path::new(SHM_DIR).join(name));
        }
    }
}

/// `ipclab<uid>_`: `/dev/shm` is shared by every user.
fn shm_prefix() -> String {
    format!("ipclab{}_", nix::unistd::getuid())
}

/// The names in `/dev/shm`.
fn shm_names() -> impl Iterator<Item = String> {
    let entries = std::fs::read_dir(SHM_DIR).into_iter().flatten().flatten();
    entries.filter_map(|entry| entry.file_name().into_string().ok())
}

/// Removes the files of earlier runs whose bench is gone (killed together with its peer).
pub fn remove_stale() {
    let roots = std::fs::read_dir(runtime_dir::location()).into_iter().flatten().flatten();
    let roots = roots.filter_map(|e| e.file_name().to_str()?.strip_prefix("iceoryx2-")?.parse::<u32>().ok());
    let prefix = shm_prefix();
    let shm = shm_names().filter_map(|name| name.strip_prefix(&prefix)?.split('_').next()?.parse::<u32>().ok());
    let mut runs: Vec<u32> = roots.chain(shm).collect();
    runs.sort_unstable();
    runs.dedup();
    for run in runs.into_iter().filter(|&run| !is_alive(run)) {
        Files::of_run(run).remove();
    }
}

/// Whether a process `pid` exists (signal 0 checks without sending anything).
fn is_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    !matches!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None), Err(nix::errno::Errno::ESRCH))
}

/// The run's files, removed when dropped.
struct Owned(Files);

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.remove();
    }
}

/// The bench's side: the publisher, the notifier and the peer. Dropped, it tells the peer
/// [`END`]; then the fields are dropped in this order: the peer first (it has exited when its
/// drop returns), then the ports, the services and the node, then the run's files.
pub struct Iceoryx2Path {
    peer: Peer,
    publisher: Publisher<ipc::Service, [u8], u64>,
    notifier: Notifier<ipc::Service>,
    samples: publish_subscribe::PortFactory<ipc::Service, [u8], u64>,
    events: event::PortFactory<ipc::Service>,
    _node: Node<ipc::Service>,
    /// Only watches for Ctrl-C.
    watch: Context,
    _files: Owned,
}

impl Iceoryx2Path {
    /// Creates the services and starts the peer; [`Iceoryx2Path::connected`] waits for it.
    /// Slices of up to `largest` bytes fit at once; a larger one grows the shared memory.
    pub fn open(largest: usize) -> Result<Self, BenchError> {
        remove_stale();
        let run = std::process::id();
        // Made first, dropped last: whatever fails below, the files go.
        let files = Owned(Files::of_run(run));
        runtime_dir::ensure().map_err(|e| BenchError::Iceoryx2(e.to_string()))?;
        let node = files.0.node()?;
        let name: ServiceName = SERVICE.try_into().map_err(failed("name the service"))?;
        // A burst never overwrites: the peer's queue is as deep as the engine's.
        let samples = node
            .service_builder(&name)
            .publish_subscribe::<[u8]>()
            .user_header::<u64>()
            .subscriber_max_buffer_size(DEPTH)
            .history_size(0)
            .max_publishers(1)
            .max_subscribers(1)
            .create()
            .map_err(failed("create the publish-subscribe service"))?;
        let publisher = samples
            .publisher_builder()
            .initial_max_slice_len(largest.max(1))
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .create()
            .map_err(failed("create the publisher"))?;
        let events = node.service_builder(&name).event().create().map_err(failed("create the event service"))?;
        let notifier = events.notifier_builder().create().map_err(failed("create the notifier"))?;
        let mut command = crate::child_process::ipc_lab().map_err(BenchError::Peer)?;
        command.args(["bench-iceoryx2-peer", "--run", &run.to_string(), "--color", "never"]);
        let peer = Peer::start(command, None).map_err(BenchError::Peer)?;
        let watch = Context::init();
        Ok(Self { peer, publisher, notifier, samples, events, _node: node, watch, _files: files })
    }

    /// Waits until the peer's subscriber and listener are there.
    pub fn connected(mut self) -> Result<Self, BenchError> {
        let deadline = now_ns() + PEER_TIMEOUT.as_nanos() as u64;
        while self.samples.dynamic_config().number_of_subscribers() == 0
            || self.events.dynamic_config().number_of_listeners() == 0
        {
            if !self.watch.ok() {
                return Err(BenchError::Interrupted);
            }
            if now_ns() > deadline || self.peer.has_exited() {
                return Err(BenchError::PeerSilent { path: PathKind::Iceoryx2Baseline });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(self)
    }

    /// Loans a sample of `bytes`, fills it, stamps it, sends it and wakes the peer.
    fn send(&self, bytes: usize) -> Result<u64, BenchError> {
        let sample = self.publisher.loan_slice_uninit(bytes).map_err(failed("loan a sample"))?;
        // Filling it is the camera's work, as on shm-loan: not the hop's.
        let mut sample = sample.write_from_fn(|_| 0xA5);
        let stamp = now_ns();
        *sample.user_header_mut() = stamp;
        sample.send().map_err(failed("send a sample"))?;
        self.notifier.notify().map_err(failed("notify the peer"))?;
        Ok(stamp)
    }

    /// When the sample stamped `stamp` (or the next one) reached the peer.
    fn receipt(&self, stamp: Option<u64>) -> Result<u64, BenchError> {
        self.peer.receipt(PathKind::Iceoryx2Baseline, || self.watch.ok(), stamp)
    }
}

impl Drop for Iceoryx2Path {
    fn drop(&mut self) {
        let _ = self.peer.tell(END);
    }
}

impl BenchPath for Iceoryx2Path {
    fn kind(&self) -> PathKind {
        PathKind::Iceoryx2Baseline
    }

    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError> {
        let stamp = self.send(bytes)?;
        Ok(self.receipt(Some(stamp))? - stamp)
    }

    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError> {
        let path = PathKind::Iceoryx2Baseline;
        self.peer.burst(path, || self.watch.ok(), n, || self.send(bytes))
    }

    fn copies(&mut self, _bytes: usize) -> Result<f64, BenchError> {
        // Written in place in the loan, read in place by the peer.
        Ok(0.0)
    }
}

/// `ipc-lab bench-iceoryx2-peer --run <pid>`: takes the run's samples and reports each on
/// `out` until the bench says [`END`], or its input ends or SIGTERM comes (the bench died).
pub fn serve(run: u32, out: &mut dyn Write) -> Result<(), BenchError> {
    let files = Files::of_run(run);
    let (stop, ended) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    // Not the engine's Ctrl-C handling, whose second signal exits at once: a killed bench
    // sends SIGTERM once for each of its threads (PR_SET_PDEATHSIG is per thread), and
    // every one must leave the peer time to remove the files.
    let on_signal = stop.clone();
    ctrlc::set_handler(move || on_signal.store(true, Ordering::Release))
        .map_err(|e| BenchError::Iceoryx2(format!("cannot handle signals: {e}")))?;
    let (on_end, told) = (stop.clone(), ended.clone());
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if line.trim() == END {
                told.store(true, Ordering::Release);
                break;
            }
        }
        on_end.store(true, Ordering::Release);
    });
    receive(&files, &stop, out)?;
    // Stopped without the bench's word: the bench is gone (killed), and nobody else will
    // remove the run's files. (Its parent pid cannot tell: a killed bench closes the
    // peer's input before the peer is handed to another parent.)
    if !ended.load(Ordering::Acquire) {
        files.remove();
    }
    Ok(())
}

/// Opens the run's services, then reports every sample until `stop`.
fn receive(files: &Files, stop: &AtomicBool, out: &mut dyn Write) -> Result<(), BenchError> {
    let node = files.node()?;
    let name: ServiceName = SERVICE.try_into().map_err(failed("name the service"))?;
    let samples = node
        .service_builder(&name)
        .publish_subscribe::<[u8]>()
        .user_header::<u64>()
        .open()
        .map_err(failed("open the publish-subscribe service"))?;
    let subscriber = samples.subscriber_builder().create().map_err(failed("create the subscriber"))?;
    let events = node.service_builder(&name).event().open().map_err(failed("open the event service"))?;
    let listener = events.listener_builder().create().map_err(failed("create the listener"))?;
    while !stop.load(Ordering::Acquire) {
        match listener.timed_wait(|_| {}, WAIT) {
            Ok(_) | Err(ListenerWaitError::InterruptSignal) => {}
            Err(e) => return Err(failed("wait for an event")(e)),
        }
        let mut received = false;
        while let Some(sample) = subscriber.receive().map_err(failed("receive a sample"))? {
            let at = now_ns();
            received = true;
            // The bench is gone: nobody to report to.
            if writeln!(out, "{}", PeerLine::Received { stamp: *sample.user_header(), at }).is_err() {
                return Ok(());
            }
        }
        if received && out.flush().is_err() {
            return Ok(());
        }
    }
    Ok(())
}
