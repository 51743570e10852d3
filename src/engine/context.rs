//! The context: what `rclcpp::init` creates. It owns the intra-process manager, the trace
//! sink, the shutdown flag, and the link to the process's middleware domain.
//!
//! ```
//! use std::time::Duration;
//! use ipc_lab::engine::Context;
//!
//! let ctx = Context::init();
//! assert!(ctx.ok());
//! ctx.shutdown();
//! assert!(!ctx.ok());
//! assert!(!ctx.sleep_for(Duration::from_secs(5))); // returns at once: shut down
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::guard_condition::GuardCondition;
use super::intra_process::IntraProcessManager;
use super::middleware::Domain;
use super::qos::Distro;
use super::text::LineText;
use super::trace::{Discard, EventKind, TraceSink, Tracer};
use super::transport::{FoundPublisher, TransportError, TransportOptions};

/// How to set up a [`Context`].
#[derive(Clone)]
pub struct InitOptions {
    /// Where trace events go.
    sink: Arc<dyn TraceSink>,
    /// Contexts talk through the middleware only within one domain, like `ROS_DOMAIN_ID`:
    /// `--ipc both` runs its two variants in two domains so they cannot hear each other.
    domain_id: u32,
    /// Stop after this many callbacks have received a message (the CLI's `--count`).
    receipt_limit: Option<u64>,
    /// Whose rules apply where rclcpp releases differ.
    distro: Distro,
}

impl Default for InitOptions {
    fn default() -> Self {
        Self { sink: Arc::new(Discard), domain_id: 0, receipt_limit: None, distro: Distro::default() }
    }
}

impl InitOptions {
    pub fn sink(self, sink: Arc<dyn TraceSink>) -> Self {
        Self { sink, ..self }
    }

    pub fn domain_id(self, domain_id: u32) -> Self {
        Self { domain_id, ..self }
    }

    /// Follow `distro`'s rules where rclcpp releases differ (default: rolling).
    pub fn distro(self, distro: Distro) -> Self {
        Self { distro, ..self }
    }

    /// Shut the context down once `n` subscription callbacks have run to completion.
    pub fn shutdown_after_receipts(self, n: u64) -> Self {
        Self { receipt_limit: Some(n), ..self }
    }
}

/// A handle to an initialized context; clones share it.
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<ContextInner>,
}

pub(crate) struct ContextInner {
    /// Unique in this process; tells the middleware which endpoints share an IPM.
    pub(crate) id: u64,
    pub(crate) tracer: Tracer,
    pub(crate) domain: Arc<Domain>,
    /// One intra-process manager per context, as in rclcpp.
    pub(crate) ipm: IntraProcessManager,
    is_shut_down: AtomicBool,
    /// Set by [`Context::shutdown_when_idle`]: the executor shuts down once nothing is left to do.
    pub(crate) shutdown_when_idle: AtomicBool,
    /// True while an executor of this context waits for work.
    pub(crate) idle: AtomicBool,
    /// Anything that makes work ready triggers it, and executors waiting on this context
    /// wake up.
    pub(crate) guard: GuardCondition,
    receipts: AtomicU64,
    receipt_limit: Option<u64>,
    /// Numbers this context's publishers from 1.
    pub(crate) next_publisher_id: AtomicU64,
    /// Whose rules apply where rclcpp releases differ.
    pub(crate) distro: Distro,
}

static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Context {
    /// `rclcpp::init`: a context with default options. Also installs the Ctrl-C handler
    /// (once per process) that shuts every context down.
    pub fn init() -> Self {
        Self::init_with(InitOptions::default())
    }

    pub fn init_with(options: InitOptions) -> Self {
        let inner = Arc::new(ContextInner {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            tracer: Tracer { sink: options.sink, pid: std::process::id() },
            domain: Domain::join(options.domain_id),
            ipm: IntraProcessManager::default(),
            is_shut_down: AtomicBool::new(false),
            shutdown_when_idle: AtomicBool::new(false),
            idle: AtomicBool::new(false),
            guard: GuardCondition::default(),
            receipts: AtomicU64::new(0),
            receipt_limit: options.receipt_limit,
            next_publisher_id: AtomicU64::new(1),
            distro: options.distro,
        });
        signals::register(&inner);
        Self { inner }
    }

    /// `rclcpp::ok`: false once shut down.
    pub fn ok(&self) -> bool {
        self.inner.ok()
    }

    /// `rclcpp::shutdown`: stops every executor spinning on this context.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    /// Shut down as soon as the executor finds no work left: for a source that has run dry
    /// (the end of a video, or `--frames`), so its last frames still travel the pipeline.
    /// Not in rclcpp, where a camera never ends.
    ///
    /// Call it after the last `publish`: messages already published are queued by then, so
    /// the executor handles them all before it finds itself idle.
    pub fn shutdown_when_idle(&self) {
        self.inner.shutdown_when_idle.store(true, Ordering::Release);
        self.inner.wake();
    }

    /// Whether an executor spinning this context is waiting for work right now: everything
    /// published so far has been handled. Not in rclcpp; the image pipeline's `--stable`
    /// lockstep waits for it.
    pub fn is_idle(&self) -> bool {
        self.inner.idle.load(Ordering::Acquire)
    }

    /// `rclcpp::sleep_for`: sleeps, but returns `false` early if the context shuts down
    /// (on Ctrl-C, for example), so a callback can give up instead of finishing its work.
    pub fn sleep_for(&self, duration: Duration) -> bool {
        self.inner.guard.sleep_until(Instant::now() + duration, || !self.ok())
    }

    /// The demo's own `printf` from `main`: a `Printed` trace event, not a write to stdout.
    pub fn printf(&self, line: std::fmt::Arguments<'_>) {
        self.inner.tracer.emit(&Arc::from(""), || EventKind::Printed { line: LineText::format(line) });
    }

    /// Connects this context's domain to the other processes of the same domain on this
    /// machine (see [`crate::engine::transport`]). Call it before creating nodes, so they
    /// are announced. The first context of a domain to ask sets the transport up.
    pub fn enable_transport(&self, options: TransportOptions) -> Result<(), TransportError> {
        let domain = &self.inner.domain;
        if domain.transport.get().is_none() {
            let to_local = domain.from_other_processes();
            let transport = super::transport::start(domain.id, &options, self.inner.tracer.clone(), to_local)?;
            // Another context of the domain may have won the race: keep theirs.
            let _ = domain.transport.set(transport);
        }
        Ok(())
    }

    /// A publisher of `topic` in another process, as the transport's own discovery finds
    /// it (DDS only; see [`super::transport::FoundPublisher`]).
    pub fn found_publisher(&self, topic: &str) -> Option<FoundPublisher> {
        self.inner.domain.transport.get()?.found_publisher(topic)
    }

    /// How many subscription callbacks have completed so far.
    pub fn receipts(&self) -> u64 {
        self.inner.receipts.load(Ordering::Relaxed)
    }
}

impl ContextInner {
    pub(crate) fn ok(&self) -> bool {
        !self.is_shut_down.load(Ordering::Acquire)
    }

    pub(crate) fn shutdown(&self) {
        self.is_shut_down.store(true, Ordering::Release);
        // Not `wake`: a callback sleeping in `sleep_for` must hear it even while an earlier
        // trigger is still pending.
        self.guard.interrupt();
    }

    /// Triggers the guard condition.
    pub(crate) fn wake(&self) {
        self.guard.trigger();
    }

    /// Counts a completed callback and shuts down when the receipt limit is reached.
    pub(crate) fn count_receipt(&self) {
        let n = self.receipts.fetch_add(1, Ordering::Relaxed) + 1;
        if self.receipt_limit.is_some_and(|limit| n >= limit) {
            self.shutdown();
        }
    }
}

/// Whether the run was cut short by Ctrl-C (rather than ending on its own, by `--count`),
/// for whoever writes what comes after.
pub fn interrupted() -> bool {
    signals::INTERRUPTED.load(Ordering::SeqCst)
}

/// Shuts down every context of the process, as Ctrl-C does: for a failure that leaves no
/// run able to go on (the transport's, [`crate::engine::transport::failure`]).
pub(crate) fn shutdown_every_context() {
    signals::shutdown_every_context();
}

/// Ctrl-C handling, as rclcpp installs it in `init`: the first Ctrl-C shuts down every
/// context so demos end cleanly and print their summary; a second one exits at once.
mod signals {
    use super::*;

    static CONTEXTS: OnceLock<Mutex<Vec<Weak<ContextInner>>>> = OnceLock::new();

    pub(super) fn register(ctx: &Arc<ContextInner>) {
        let contexts = CONTEXTS.get_or_init(|| {
            // If another handler is already installed (an embedding program's), Ctrl-C
            // keeps its behaviour; the demos still end on their own with `--count`.
            let _ = ctrlc::set_handler(on_interrupt);
            Mutex::new(Vec::new())
        });
        let mut contexts = contexts.lock().unwrap_or_else(|e| e.into_inner());
        contexts.retain(|c| c.strong_count() > 0);
        contexts.push(Arc::downgrade(ctx));
    }

    /// Whether Ctrl-C has been pressed (the first one shuts down, the second exits).
    pub(super) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

    fn on_interrupt() {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            crate::engine::transport::remove_own_files();
            std::process::exit(130);
        }
        shutdown_every_context();
    }

    /// Shuts down every context of the process.
    pub(super) fn shutdown_every_context() {
        let contexts = CONTEXTS.get().map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).clone());
        for ctx in contexts.unwrap_or_default().iter().filter_map(Weak::upgrade) {
            ctx.shutdown();
        }
    }
}
