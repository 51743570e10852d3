//! Subscriptions: a keep-last queue and a callback. The callback's parameter type decides
//! whether the subscription takes ownership of messages or shares them.
//!
//! ```
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::{ConstSharedPtr, Context, Node, NodeOptions, UniquePtr};
//!
//! let ctx = Context::init();
//! let node = Node::new(&ctx, "listener", NodeOptions::default()).unwrap();
//! // Takes ownership: may modify the message and publish it on.
//! let owner = node.create_subscription("number", 10, |msg: UniquePtr<Int32>| drop(msg)).unwrap();
//! // Takes it shared: read-only, and it can share one message with other readers.
//! let reader = node.create_subscription("number", 10, |msg: ConstSharedPtr<Int32>| drop(msg)).unwrap();
//! assert!(owner.takes_ownership() && !reader.takes_ownership());
//! ```

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use super::cdr::CdrError;
use super::context::ContextInner;
use super::loan::Loaned;
use super::message::{ConstSharedPtr, Message, SharedPtr, UniquePtr};
use super::middleware::WireSubscription;
use super::msg::sensor_msgs::Image;
use super::msg::std_msgs::Int32;
use super::ring_buffer::RingBuffer;
use super::text::LineText;
use super::trace::{CopyMade, CopyReason, DiscardReason, EventKind, MessageRef, Origin, Publication, Via};
use super::wire::{WireBytes, WireSample};

/// Marks callbacks that take ownership (`FnMut(UniquePtr<M>)`).
pub struct TakesOwnership;
/// Marks callbacks that take a shared, read-only message (`FnMut(ConstSharedPtr<M>)`).
pub struct TakesShared;
/// Marks callbacks that borrow the message (`FnMut(&M)`, rclcpp's `const T &`).
pub struct TakesRef;
/// Marks callbacks that take a mutable shared pointer (`FnMut(SharedPtr<M>)`).
pub struct TakesSharedPtr;
/// Marks callbacks that take a read-only view of the message where the middleware put it
/// (`FnMut(Loaned<Image>)`, `FnMut(Loaned<Int32>)`).
pub struct TakesLoaned;

/// A closure usable as a subscription callback. `Kind` is inferred from the closure's
/// parameter type, so one `create_subscription` serves every kind, as in rclcpp.
pub trait SubscriptionCallback<M, Kind>: Send + 'static {
    fn into_any(self) -> AnySubscriptionCallback<M>;
}

impl<M, F: FnMut(UniquePtr<M>) + Send + 'static> SubscriptionCallback<M, TakesOwnership> for F {
    fn into_any(self) -> AnySubscriptionCallback<M> {
        AnySubscriptionCallback::Unique(Box::new(self))
    }
}

impl<M, F: FnMut(ConstSharedPtr<M>) + Send + 'static> SubscriptionCallback<M, TakesShared> for F {
    fn into_any(self) -> AnySubscriptionCallback<M> {
        AnySubscriptionCallback::ConstShared(Box::new(self))
    }
}

impl<M, F: FnMut(&M) + Send + 'static> SubscriptionCallback<M, TakesRef> for F {
    fn into_any(self) -> AnySubscriptionCallback<M> {
        AnySubscriptionCallback::ConstRef(Box::new(self))
    }
}

impl<M, F: FnMut(SharedPtr<M>) + Send + 'static> SubscriptionCallback<M, TakesSharedPtr> for F {
    fn into_any(self) -> AnySubscriptionCallback<M> {
        AnySubscriptionCallback::Shared(Box::new(self))
    }
}

/// rclcpp's `AnySubscriptionCallback`: one of the supported signatures.
pub enum AnySubscriptionCallback<M> {
    /// `UniquePtr`: an owner.
    Unique(Box<dyn FnMut(UniquePtr<M>) + Send>),
    /// `ConstSharedPtr` (and `const ConstSharedPtr &`): the only kind that shares.
    ConstShared(Box<dyn FnMut(ConstSharedPtr<M>) + Send>),
    /// `const T &`: an owner too, although it only reads.
    ConstRef(Box<dyn FnMut(&M) + Send>),
    /// `SharedPtr` (mutable): an owner too.
    Shared(Box<dyn FnMut(SharedPtr<M>) + Send>),
    /// [`Loaned`]: read-only, where the middleware put the message, as rclcpp hands a
    /// callback the `ConstSharedPtr` of a message taken loaned (`rcl_take_loaned_message`,
    /// subscription.hpp, when subscription loans are on): it shares, and takes no copy.
    Loaned(LoanedCallback<M>),
}

/// A callback taking [`Loaned`] views, with the ways to make one.
pub struct LoanedCallback<M> {
    callback: Box<dyn FnMut(Loaned<M>) + Send>,
    /// A view of middleware bytes, checked whole.
    from_wire: fn(WireBytes) -> Result<Loaned<M>, CdrError>,
    /// A view of a message the intra-process manager delivered.
    from_message: fn(ConstSharedPtr<M>) -> Loaned<M>,
}

impl<F: FnMut(Loaned<Image>) + Send + 'static> SubscriptionCallback<Image, TakesLoaned> for F {
    fn into_any(self) -> AnySubscriptionCallback<Image> {
        AnySubscriptionCallback::Loaned(LoanedCallback {
            callback: Box::new(self),
            from_wire: Loaned::<Image>::from_wire,
            from_message: Loaned::<Image>::from_message,
        })
    }
}

impl<F: FnMut(Loaned<Int32>) + Send + 'static> SubscriptionCallback<Int32, TakesLoaned> for F {
    fn into_any(self) -> AnySubscriptionCallback<Int32> {
        AnySubscriptionCallback::Loaned(LoanedCallback {
            callback: Box::new(self),
            from_wire: Loaned::<Int32>::from_wire,
            from_message: Loaned::<Int32>::from_message,
        })
    }
}

impl<M> AnySubscriptionCallback<M> {
    /// rclcpp's `use_take_shared_method` (any_subscription_callback.hpp:912-918 rolling and
    /// jazzy, :935 humble): only a `ConstSharedPtr` callback takes messages shared. A
    /// `const T &` or `SharedPtr` callback could share too, but rclcpp counts it as an
    /// owner, and the intra-process manager copies for it accordingly.
    pub fn use_take_shared_method(&self) -> bool {
        matches!(self, AnySubscriptionCallback::ConstShared(_) | AnySubscriptionCallback::Loaned(_))
    }
}

/// rclcpp's `IntraProcessBufferType` (intra_process_buffer_type.hpp): what the
/// subscription's intra-process buffer stores. A subscription option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IntraProcessBufferType {
    /// `std::shared_ptr<const M>`: the IPM counts the subscription as a sharer.
    SharedPtr,
    /// `std::unique_ptr<M>`: the IPM counts the subscription as an owner.
    UniquePtr,
    /// As the callback takes it (`resolve_intra_process_buffer_type.hpp:39-45`).
    #[default]
    CallbackDefault,
}

impl IntraProcessBufferType {
    /// `resolve_intra_process_buffer_type` (resolve_intra_process_buffer_type.hpp:30-48
    /// rolling): `CallbackDefault` becomes the callback's own kind. True for a shared buffer.
    pub(crate) fn resolves_to_shared<M>(self, callback: &AnySubscriptionCallback<M>) -> bool {
        match self {
            IntraProcessBufferType::SharedPtr => true,
            IntraProcessBufferType::UniquePtr => false,
            IntraProcessBufferType::CallbackDefault => callback.use_take_shared_method(),
        }
    }
}

/// A message in an intra-process buffer: one kind per subscription, the buffer's.
pub(crate) enum Buffered<M> {
    /// In a `UniquePtr` buffer: this subscription alone holds it.
    Unique(UniquePtr<M>),
    /// In a `SharedPtr` buffer: others may hold it too.
    Shared(ConstSharedPtr<M>),
}

impl<M: Message> Buffered<M> {
    fn message(&self) -> &M {
        match self {
            Buffered::Unique(m) => m,
            Buffered::Shared(m) => m,
        }
    }
}

/// A message waiting in a subscription's queue.
pub(crate) enum Pending<M> {
    /// From the IPM.
    Intra(Buffered<M>, Publication, Via),
    /// From the middleware, still serialized: decoded when the callback is about to run,
    /// as `rmw_take` does.
    Wire(WireSample),
}

/// A subscription's two keep-last queues, each of the QoS depth. rclcpp keeps them apart:
/// the IPM pushes into the subscription's intra-process ring buffer
/// (subscription_intra_process_buffer.hpp rolling), the middleware into its reader history
/// (the rmw subscription's `depth`). A copy the middleware also delivers (rclcpp #1722, or a
/// transient-local publisher's from rolling on) thus never pushes an intra-process message
/// out, nor the other way round. Taken in the order they arrived, as one queue would.
pub(crate) struct Queues<M> {
    intra: RingBuffer<(u64, Pending<M>)>,
    wire: RingBuffer<(u64, Pending<M>)>,
    /// Arrivals so far: the order across the two queues.
    arrived: u64,
}

impl<M> Queues<M> {
    pub(crate) fn new(depth: usize) -> Self {
        Self { intra: RingBuffer::new(depth), wire: RingBuffer::new(depth), arrived: 0 }
    }

    /// Queues in the queue its source fills; returns what that queue overwrote, if full.
    fn push(&mut self, pending: Pending<M>) -> Option<Pending<M>> {
        self.arrived += 1;
        let queue = match pending {
            Pending::Intra(..) => &mut self.intra,
            Pending::Wire(_) => &mut self.wire,
        };
        queue.push((self.arrived, pending)).map(|(_, dropped)| dropped)
    }

    /// The oldest arrival of either queue.
    fn pop(&mut self) -> Option<Pending<M>> {
        let intra_first = match (self.intra.iter().next(), self.wire.iter().next()) {
            (Some((a, _)), Some((b, _))) => a < b,
            (intra, _) => intra.is_some(),
        };
        let queue = if intra_first { &mut self.intra } else { &mut self.wire };
        queue.pop().map(|(_, pending)| pending)
    }
}

/// A subscription handle. Keep it alive: dropping it removes the subscription, as letting
/// go of rclcpp's `SharedPtr` does.
pub struct Subscription<M: Message> {
    pub(crate) inner: Arc<SubscriptionInner<M>>,
}

impl<M: Message> Subscription<M> {
    pub fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// True when the intra-process manager counts this subscription as an owner: its
    /// buffer stores `UniquePtr`s (by default, any callback but `ConstSharedPtr`).
    pub fn takes_ownership(&self) -> bool {
        self.inner.takes_ownership
    }

    /// Whether this subscription receives through the intra-process manager.
    pub fn uses_intra_process(&self) -> bool {
        self.inner.intra
    }

    /// Messages dropped so far because the queue was full.
    pub fn overwritten(&self) -> u64 {
        *self.inner.overwritten.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) struct SubscriptionInner<M: Message> {
    pub(crate) node: Arc<str>,
    pub(crate) topic: Arc<str>,
    pub(crate) intra: bool,
    /// The intra-process buffer stores `UniquePtr`s (the IPM's "take ownership" list), as
    /// resolved from the callback and the `intra_process_buffer_type` option.
    pub(crate) takes_ownership: bool,
    /// The callback takes a `ConstSharedPtr`: it shares what it gets, never owns it (the
    /// trace says so on every receipt).
    pub(crate) shares: bool,
    pub(crate) ctx: Arc<ContextInner>,
    /// The keep-last queues, each of depth = QoS depth: rclcpp's intra-process buffer and
    /// the middleware's reader history.
    pub(crate) queue: Mutex<Queues<M>>,
    pub(crate) overwritten: Mutex<u64>,
    pub(crate) callback: Mutex<AnySubscriptionCallback<M>>,
}

/// What the executor drives: a subscription of any message type.
pub(crate) trait SubscriptionBase: Send + Sync {
    /// Takes one message and runs the callback with it. False if the queue was empty.
    fn execute_one(&self) -> bool;
}

impl<M: Message> SubscriptionInner<M> {
    fn emit(&self, kind: impl FnOnce() -> EventKind) {
        self.ctx.tracer.emit(&self.node, kind);
    }

    /// Queues a message and wakes the executor; reports what a full queue overwrote.
    pub(crate) fn provide(&self, pending: Pending<M>) {
        let dropped = self.queue.lock().unwrap_or_else(|e| e.into_inner()).push(pending);
        if let Some(dropped) = dropped {
            *self.overwritten.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            self.emit(|| EventKind::Overwritten {
                msg: match &dropped {
                    Pending::Intra(m, publication, _) => MessageRef::of::<M>(m.message(), &self.topic, *publication),
                    Pending::Wire(sample) => self.bytes_ref(sample),
                },
            });
        }
        self.ctx.wake();
    }

    /// The serialized bytes of a sample, as the trace sees them.
    fn bytes_ref(&self, sample: &WireSample) -> MessageRef {
        MessageRef::of_cdr(sample.bytes.as_slice(), self.topic.clone(), M::TYPE_NAME, sample.publication)
    }

    /// Decodes middleware bytes into a new message, as the subscriber's side of DDS does.
    fn take_from_wire(&self, sample: &WireSample) -> Option<UniquePtr<M>> {
        match M::from_cdr(sample.bytes.as_slice()) {
            Ok(msg) => {
                self.emit(|| EventKind::Deserialized {
                    msg: MessageRef::of::<M>(&msg, &self.topic, sample.publication),
                    bytes: sample.bytes.as_slice().len(),
                });
                Some(msg)
            }
            Err(e) => {
                // Our own encoder's bytes always decode: these came damaged from elsewhere.
                let from_pid = sample.arrival.as_ref().map_or(sample.publication.pid, |a| a.origin.pid);
                self.emit(|| EventKind::Rejected {
                    from_pid,
                    reason: LineText::cut(&format!("{}: {e}", M::TYPE_NAME)),
                });
                None
            }
        }
    }
}

impl<M: Message> SubscriptionBase for SubscriptionInner<M> {
    fn execute_one(&self) -> bool {
        let Some(pending) = self.queue.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
            return false;
        };
        let mut callback = self.callback.lock().unwrap_or_else(|e| e.into_inner());
        let ran = match pending {
            Pending::Intra(msg, publication, via) => {
                self.dispatch_intra_process(msg, publication, via, &mut callback);
                true
            }
            Pending::Wire(sample) => self.handle_message(&sample, &mut callback),
        };
        drop(callback);
        DISPATCHING.with_borrow_mut(|d| {
            if d.is_some() {
                *d = None;
            }
        });
        if ran {
            self.ctx.count_receipt();
        }
        true
    }
}

impl<M: Message> SubscriptionInner<M> {
    /// Queues a message from the IPM, in the form this subscription's buffer stores
    /// (`provide_intra_process_data`, subscription_intra_process_buffer.hpp:161-173
    /// rolling). An owned message going into a `SharedPtr` buffer is adopted where it is,
    /// as `add_unique` does; the IPM gives shared messages only to `SharedPtr` buffers.
    pub(crate) fn provide_unique(&self, msg: UniquePtr<M>, publication: Publication, via: Via) {
        let msg = if self.takes_ownership { Buffered::Unique(msg) } else { Buffered::Shared(Arc::new(msg)) };
        self.provide(Pending::Intra(msg, publication, via));
    }

    /// `SubscriptionIntraProcess::take_data` and `execute_impl`
    /// (subscription_intra_process.hpp:121-186 rolling): the callback decides how the
    /// message leaves the buffer, then `dispatch_intra_process` hands it over.
    fn dispatch_intra_process(
        &self,
        msg: Buffered<M>,
        publication: Publication,
        via: Via,
        callback: &mut AnySubscriptionCallback<M>,
    ) {
        match callback {
            AnySubscriptionCallback::ConstShared(f) => {
                let m = consume_shared(msg);
                self.received(&m, publication, via);
                f(m);
            }
            AnySubscriptionCallback::Loaned(loaned) => {
                let m = consume_shared(msg);
                self.received(&m, publication, via);
                (loaned.callback)((loaned.from_message)(m));
            }
            AnySubscriptionCallback::Unique(f) => {
                let (m, via) = self.consume_unique(msg, publication, via);
                self.received(&m, publication, via);
                f(m);
            }
            AnySubscriptionCallback::ConstRef(f) => {
                let (m, via) = self.consume_unique(msg, publication, via);
                self.received(&m, publication, via);
                f(&m);
            }
            AnySubscriptionCallback::Shared(f) => {
                let (m, via) = self.consume_unique(msg, publication, via);
                self.received(&m, publication, via);
                f(SharedPtr::from(m));
            }
        }
    }

    /// `consume_unique` (intra_process_buffer.hpp:227-259 rolling): from a `UniquePtr`
    /// buffer the message itself; from a `SharedPtr` buffer ALWAYS a copy, even when no one
    /// else holds it any more. `via` is how the message reached the buffer; a copy made here
    /// is how it reaches the callback.
    fn consume_unique(&self, msg: Buffered<M>, publication: Publication, via: Via) -> (UniquePtr<M>, Via) {
        match msg {
            Buffered::Unique(m) => (m, via),
            Buffered::Shared(m) => {
                let reason = CopyReason::UniqueFromSharedBuffer;
                (self.copy(&m, publication, reason), Via::Copy(reason))
            }
        }
    }

    /// The middleware path, as `Executor::execute_subscription` runs it (executor.cpp:577-588
    /// rolling and jazzy, :643-654 humble): `rmw_take` decodes into a message of its own
    /// (rclcpp's "taken" message), which lives until the callback returns; then
    /// `Subscription::handle_message` drops it if the IPM delivered it already, or hands it
    /// to `dispatch`. Returns whether the callback ran.
    fn handle_message(&self, sample: &WireSample, callback: &mut AnySubscriptionCallback<M>) -> bool {
        if let AnySubscriptionCallback::Loaned(loaned) = callback {
            return self.dispatch_loaned(sample, loaned);
        }
        let Some(taken) = self.take_from_wire(sample) else { return false };
        // `matches_any_intra_process_publishers` (subscription.hpp:289 rolling): only an
        // IPC subscription of the publisher's own context got it from the IPM.
        if self.intra && sample.intra_process_context == Some(self.ctx.id) {
            let msg = MessageRef::of::<M>(&taken, &self.topic, sample.publication);
            self.emit(|| EventKind::Discarded { msg, reason: DiscardReason::DeliveredByIntraProcess });
            return false;
        }
        self.dispatch(sample, taken, callback);
        true
    }

    /// A loaned view of the bytes where they are: nothing decoded but the ~50 bytes in front
    /// of the pixels, nothing copied. Returns whether the callback ran.
    fn dispatch_loaned(&self, sample: &WireSample, loaned: &mut LoanedCallback<M>) -> bool {
        if self.intra && sample.intra_process_context == Some(self.ctx.id) {
            let msg = self.bytes_ref(sample);
            self.emit(|| EventKind::Discarded { msg, reason: DiscardReason::DeliveredByIntraProcess });
            return false;
        }
        match (loaned.from_wire)(sample.bytes.clone()) {
            Ok(view) => {
                DISPATCHING.set(Some((sample.publication, self.topic.clone())));
                let origin = sample.arrival.as_ref().map(|a| a.origin.clone());
                let msg = view.trace_ref(&self.topic, sample.publication);
                self.emit(|| EventKind::Received { msg, via: Via::Middleware, origin, shared: true });
                (loaned.callback)(view);
                true
            }
            Err(e) => {
                let from_pid = sample.arrival.as_ref().map_or(sample.publication.pid, |a| a.origin.pid);
                let reason = LineText::cut(&format!("{}: {e}", M::TYPE_NAME));
                self.emit(|| EventKind::Rejected { from_pid, reason });
                false
            }
        }
    }

    /// `dispatch` (any_subscription_callback.hpp:468-540 rolling): the taken message to the
    /// callback, copied only for a `UniquePtr` one.
    fn dispatch(&self, sample: &WireSample, taken: UniquePtr<M>, callback: &mut AnySubscriptionCallback<M>) {
        let (publication, via) = (sample.publication, Via::Middleware);
        let origin = sample.arrival.as_ref().map(|a| &a.origin);
        match callback {
            AnySubscriptionCallback::ConstShared(f) => {
                self.received_from(&taken, publication, via, origin);
                f(Arc::new(taken));
            }
            // `handle_message` gives a loaned callback the bytes themselves; a view of a
            // taken message is as good, should one ever come this way.
            AnySubscriptionCallback::Loaned(loaned) => {
                self.received_from(&taken, publication, via, origin);
                (loaned.callback)((loaned.from_message)(Arc::new(taken)));
            }
            AnySubscriptionCallback::Shared(f) => {
                self.received_from(&taken, publication, via, origin);
                f(SharedPtr::from(taken));
            }
            AnySubscriptionCallback::ConstRef(f) => {
                self.received_from(&taken, publication, via, origin);
                f(&taken);
            }
            AnySubscriptionCallback::Unique(f) => {
                // `create_ros_unique_ptr_from_ros_shared_ptr_message` (:403, used at :525):
                // one more copy than IPC needs, and than any other signature pays here.
                let unique = self.copy(&taken, publication, CopyReason::UniqueFromTaken);
                self.received_from(&unique, publication, via, origin);
                f(unique);
                drop(taken);
            }
        }
    }
}

/// `consume_shared` (intra_process_buffer.hpp:204-225 rolling): a `UniquePtr` buffer's
/// message is adopted where it is; no copy either way.
fn consume_shared<M>(msg: Buffered<M>) -> ConstSharedPtr<M> {
    match msg {
        Buffered::Unique(m) => Arc::new(m),
        Buffered::Shared(m) => m,
    }
}

thread_local! {
    /// The publication whose message this thread's subscription callback is handling right
    /// now, and its topic (rclcpp hands it to callbacks as `MessageInfo`), for what the
    /// callback reports about it. Per thread: a callback runs on its executor's thread, and
    /// two executors of one context must not see each other's.
    static DISPATCHING: RefCell<Option<(Publication, Arc<str>)>> = const { RefCell::new(None) };
}

/// See [`DISPATCHING`].
pub(crate) fn dispatching() -> Option<(Publication, Arc<str>)> {
    DISPATCHING.with_borrow(Clone::clone)
}

impl<M: Message> SubscriptionInner<M> {
    /// A deep copy made on the subscription's side, reported like the IPM's: a new
    /// `UniquePtr` from a message others may still hold.
    fn copy(&self, msg: &M, publication: Publication, reason: CopyReason) -> UniquePtr<M> {
        let copy: UniquePtr<M> = Box::new(msg.clone());
        let (topic, from) = (&self.topic, msg);
        self.ctx.tracer.copied(&self.node, CopyMade { topic, publication, from, copy: &*copy, reason });
        copy
    }

    fn received(&self, msg: &M, publication: Publication, via: Via) {
        self.received_from(msg, publication, via, None);
    }

    fn received_from(&self, msg: &M, publication: Publication, via: Via, origin: Option<&Origin>) {
        // Untraced, a hop pays for neither the event nor the publication it would report.
        if !self.ctx.tracer.sink.enabled() {
            return;
        }
        // The callback runs next: what it reports belongs to this publication.
        DISPATCHING.with_borrow_mut(|d| *d = Some((publication, self.topic.clone())));
        self.emit(|| EventKind::Received {
            msg: MessageRef::of(msg, &self.topic, publication),
            via,
            origin: origin.cloned(),
            shared: self.shares,
        });
    }
}

impl<M: Message> WireSubscription for SubscriptionInner<M> {
    fn enqueue(&self, sample: WireSample) {
        self.provide(Pending::Wire(sample));
    }
}
