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

use super::context::ContextInner;
use super::message::{ConstSharedPtr, Message, UniquePtr};
use super::middleware::{WireSample, WireSubscription};
use super::ring_buffer::RingBuffer;
use super::trace::{CopyMade, CopyReason, EventKind, LineText, MessageRef, Origin, Publication, Via};

/// Marks callbacks that take ownership (`FnMut(UniquePtr<M>)`).
pub struct TakesOwnership;
/// Marks callbacks that take a shared, read-only message (`FnMut(ConstSharedPtr<M>)`).
pub struct TakesShared;

/// A closure usable as a subscription callback. `Kind` is inferred from the closure's
/// parameter type, so one `create_subscription` serves both kinds, as in rclcpp.
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

/// rclcpp's `AnySubscriptionCallback`: one of the supported signatures.
pub enum AnySubscriptionCallback<M> {
    Unique(Box<dyn FnMut(UniquePtr<M>) + Send>),
    ConstShared(Box<dyn FnMut(ConstSharedPtr<M>) + Send>),
}

/// A message waiting in a subscription's queue.
pub(crate) enum Pending<M> {
    /// From the IPM, for a subscription that takes ownership.
    Owned(UniquePtr<M>, Publication, Via),
    /// From the IPM, for a subscription that takes it shared.
    Shared(ConstSharedPtr<M>, Publication, Via),
    /// From the middleware, still serialized: decoded when the callback is about to run,
    /// as `rmw_take` does.
    Wire(WireSample),
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

    /// True when the callback takes ownership (`UniquePtr`), false when shared.
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
    pub(crate) takes_ownership: bool,
    pub(crate) ctx: Arc<ContextInner>,
    /// The keep-last queue of depth = QoS depth (rclcpp's intra-process buffer and the
    /// middleware's reader history, in one).
    pub(crate) queue: Mutex<RingBuffer<Pending<M>>>,
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
                    Pending::Owned(m, publication, _) => MessageRef::of::<M>(m, &self.topic, *publication),
                    Pending::Shared(m, publication, _) => MessageRef::of::<M>(m, &self.topic, *publication),
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
        match (pending, &mut *callback) {
            (Pending::Owned(m, publication, via), AnySubscriptionCallback::Unique(f)) => {
                self.received(&m, publication, via);
                f(m);
            }
            (Pending::Owned(m, publication, via), AnySubscriptionCallback::ConstShared(f)) => {
                // Adopting the box keeps the message where it is: no copy.
                self.received(&m, publication, via);
                f(Arc::new(m));
            }
            (Pending::Shared(m, publication, via), AnySubscriptionCallback::ConstShared(f)) => {
                self.received(&m, publication, via);
                f(m);
            }
            (Pending::Shared(m, publication, via), AnySubscriptionCallback::Unique(f)) => {
                // The IPM gives shared messages only to shared subscriptions; should an
                // owner ever get one, it needs its own copy unless nobody else holds it,
                // as rclcpp's buffers do. That copy is reported like any other.
                let m = Arc::try_unwrap(m).unwrap_or_else(|m| self.copy(&m, publication, CopyReason::NotLast));
                self.received(&m, publication, via);
                f(m);
            }
            (Pending::Wire(sample), callback) => {
                // The middleware decodes into a message of its own (rclcpp's "taken"
                // message from the memory strategy), which lives until the callback returns.
                let Some(taken) = self.take_from_wire(&sample) else {
                    return true;
                };
                let origin = sample.arrival.as_ref().map(|a| &a.origin);
                match callback {
                    AnySubscriptionCallback::ConstShared(f) => {
                        self.received_from(&taken, sample.publication, Via::Middleware, origin);
                        f(Arc::new(taken));
                    }
                    AnySubscriptionCallback::Unique(f) => {
                        // rclcpp's dispatch copies the taken message into a new UniquePtr
                        // for a callback that takes ownership: one more copy than IPC needs.
                        let unique = self.copy(&taken, sample.publication, CopyReason::UniqueFromTaken);
                        self.received_from(&unique, sample.publication, Via::Middleware, origin);
                        f(unique);
                        drop(taken);
                    }
                }
            }
        }
        drop(callback);
        DISPATCHING.set(None);
        self.ctx.count_receipt();
        true
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
        // The callback runs next: what it reports belongs to this publication.
        DISPATCHING.set(Some((publication, self.topic.clone())));
        self.emit(|| EventKind::Received {
            msg: MessageRef::of(msg, &self.topic, publication),
            via,
            origin: origin.cloned(),
        });
    }
}

impl<M: Message> WireSubscription for SubscriptionInner<M> {
    fn deliver(&self, sample: WireSample) {
        self.provide(Pending::Wire(sample));
    }
}
