//! Nodes: a name and the publishers, subscriptions and timers created through it.
//!
//! ```
//! use ipc_lab::engine::{Context, Node, NodeOptions};
//!
//! let ctx = Context::init();
//! let node = Node::new(&ctx, "producer", NodeOptions::default().use_intra_process_comms(true)).unwrap();
//! assert_eq!(node.get_name(), "producer");
//! assert!(Node::new(&ctx, "2fast", NodeOptions::default()).is_err());
//! ```

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::context::{Context, ContextInner};
use super::intra_process::EndpointInfo;
use super::loan::{Loaned, LoanedMessage};
use super::message::{address_of, Message};
use super::middleware::{NewEndpoint, NewWriter};
use super::msg::sensor_msgs::Image;
use super::publisher::{Publisher, PublisherInner};
use super::qos::{Distro, Durability, History, QoS, SYSTEM_DEFAULT_DEPTH};
use super::subscription::{
    IntraProcessBufferType, Queues, Subscription, SubscriptionBase, SubscriptionCallback, SubscriptionInner,
};
use super::text::LineText;
use super::timer::{Timer, TimerInner};
use super::trace::{CopyReason, EventKind, MessageRef};
use super::transport::{entry, LocalEntry, LocalKind};

/// rclcpp's `NodeOptions`, with the one option this engine has.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeOptions {
    /// IPC is off unless asked for, as in rclcpp.
    use_intra_process_comms: bool,
}

impl NodeOptions {
    pub fn use_intra_process_comms(self, enable: bool) -> Self {
        Self { use_intra_process_comms: enable }
    }
}

/// Per publisher or subscription: follow the node, or override it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IntraProcessSetting {
    Enable,
    Disable,
    #[default]
    NodeDefault,
}

/// rclcpp's `PublisherOptions`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublisherOptions {
    pub use_intra_process_comm: IntraProcessSetting,
}

/// rclcpp's `SubscriptionOptions` (subscription_options.hpp rolling).
#[derive(Debug, Clone, Copy, Default)]
pub struct SubscriptionOptions {
    pub use_intra_process_comm: IntraProcessSetting,
    /// What the intra-process buffer stores; by default what the callback takes. A
    /// `SharedPtr` buffer behind an owning callback puts the copy off to take time.
    pub intra_process_buffer_type: IntraProcessBufferType,
    /// Off by default, as in rclcpp: then an IPC subscription also takes (and deserializes)
    /// the middleware's copy of what an IPC publisher of its context sends to other
    /// processes, and discards it. On: the middleware never delivers what this context
    /// publishes to it (rmw's "same participant").
    pub ignore_local_publications: bool,
}

/// Why `Node::new` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeError {
    /// Node names are letters, digits and underscores, not starting with a digit.
    InvalidName(String),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::InvalidName(name) => {
                write!(f, "invalid node name '{name}': use letters, digits and '_', not starting with a digit")
            }
        }
    }
}

impl std::error::Error for NodeError {}

/// Why creating a publisher or subscription failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateError {
    /// Intra-process communication needs a bounded queue; rclcpp refuses keep-all.
    KeepAllWithIntraProcess { topic: String },
    /// Humble refuses transient local durability with IPC (publisher.hpp:200-203,
    /// subscription.hpp:197-200 humble); Jazzy and later accept it.
    VolatileDurabilityOnly { topic: String },
    /// The topic already carries another message type.
    TypeMismatch { topic: String, existing: &'static str, requested: &'static str },
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateError::KeepAllWithIntraProcess { topic } => write!(
                f,
                "intraprocess communication on topic '{topic}' allowed only with keep last history qos policy"
            ),
            // rclcpp's message does not name the topic; this one does, after it.
            CreateError::VolatileDurabilityOnly { topic } => {
                write!(f, "intraprocess communication allowed only with volatile durability (topic '{topic}')")
            }
            CreateError::TypeMismatch { topic, existing, requested } => {
                write!(f, "topic '{topic}' carries {existing}, not {requested}")
            }
        }
    }
}

impl std::error::Error for CreateError {}

/// A node handle; clones are the same node.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<NodeInner>,
}

pub(crate) struct NodeInner {
    pub(crate) name: Arc<str>,
    pub(crate) ctx: Arc<ContextInner>,
    use_intra_process_comms: bool,
    /// Weak, like rclcpp's callback groups: the handles the user keeps own them.
    pub(crate) subscriptions: Mutex<Vec<Weak<dyn SubscriptionBase>>>,
    /// Counts the subscriptions created on this node: an executor collects the list again
    /// only when it has moved.
    pub(crate) subscriptions_added: AtomicU64,
    pub(crate) timers: Mutex<Vec<Weak<TimerInner>>>,
}

impl Node {
    pub fn new(ctx: &Context, name: &str, options: NodeOptions) -> Result<Self, NodeError> {
        let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
        if !valid {
            return Err(NodeError::InvalidName(name.to_string()));
        }
        let inner = Arc::new(NodeInner {
            name: Arc::from(name),
            ctx: ctx.inner.clone(),
            use_intra_process_comms: options.use_intra_process_comms,
            subscriptions: Mutex::new(Vec::new()),
            subscriptions_added: AtomicU64::new(0),
            timers: Mutex::new(Vec::new()),
        });
        if let Some(transport) = ctx.inner.domain.transport.get() {
            let alive: Arc<dyn Any + Send + Sync> = inner.clone();
            let intra = options.use_intra_process_comms;
            transport.announce(entry(
                LocalKind::Node,
                &inner.name,
                &Arc::from(""),
                "",
                intra,
                QoS::keep_last(10),
                Arc::downgrade(&alive),
            ));
        }
        Ok(Self { inner })
    }

    pub fn get_name(&self) -> &str {
        &self.inner.name
    }

    /// The context this node belongs to.
    pub fn context(&self) -> Context {
        Context { inner: self.inner.ctx.clone() }
    }

    /// The demo's `printf` from inside a node: a `Printed` trace event for the renderers.
    pub fn printf(&self, line: std::fmt::Arguments<'_>) {
        self.inner.ctx.tracer.emit(&self.inner.name, || EventKind::Printed { line: LineText::format(line) });
    }

    /// Reports that this node's callback copied `bytes` of the message `msg` it is handling
    /// into a buffer at `into`, for `reason`: a copy the callback makes itself, reported like
    /// the engine's. Outside a callback there is no message being handled: nothing to report.
    pub fn trace_copied<M: Message>(&self, msg: &M, into: usize, bytes: usize, reason: CopyReason) {
        let Some((publication, topic)) = super::subscription::dispatching() else { return };
        self.inner.ctx.tracer.emit(&self.inner.name, || {
            let copy = MessageRef { addr: into, payload_addr: Some(into), ..MessageRef::of(msg, &topic, publication) };
            EventKind::Copied { msg: copy, from: address_of(msg), reason, bytes }
        });
    }

    /// Reports that this node filled `msg` with `bytes` of its own data before publishing it
    /// (a camera copying its captured frame in): the producer's work, not a copy made on the
    /// way to a subscriber. rclcpp has no such call; the trace needs it to tell the two apart.
    pub fn trace_filled<M: Message>(&self, msg: &M, bytes: usize) {
        let kind = || EventKind::Filled { addr: address_of(msg), payload_addr: msg.payload_address(), bytes };
        self.inner.ctx.tracer.emit(&self.inner.name, kind);
    }

    /// [`Node::trace_filled`] for a loaned message: the producer's data written where the
    /// receivers will read it.
    pub fn trace_filled_loan(&self, msg: &LoanedMessage<Image>, bytes: usize) {
        let kind = || EventKind::Filled { addr: msg.address(), payload_addr: Some(msg.data_address()), bytes };
        self.inner.ctx.tracer.emit(&self.inner.name, kind);
    }

    /// [`Node::trace_copied`] for a loaned view: its pixels copied to `into`.
    pub fn trace_copied_loaned(&self, msg: &Loaned<Image>, into: usize, bytes: usize, reason: CopyReason) {
        let Some((publication, topic)) = super::subscription::dispatching() else { return };
        self.inner.ctx.tracer.emit(&self.inner.name, || {
            let copy = MessageRef { addr: into, payload_addr: Some(into), ..msg.trace_ref(&topic, publication) };
            EventKind::Copied { msg: copy, from: msg.address(), reason, bytes }
        });
    }

    /// Reports text this node drew on a frame at baseline `y`.
    pub fn trace_drawn(&self, y: i32, text: &str) {
        self.inner.ctx.tracer.emit(&self.inner.name, || EventKind::Drawn { y, text: text.into() });
    }

    /// Reports that this node showed the frame of the message at `addr`.
    pub fn trace_shown(&self, addr: usize) {
        self.inner.ctx.tracer.emit(&self.inner.name, || EventKind::Shown { addr });
    }

    fn resolve(&self, setting: IntraProcessSetting) -> bool {
        match setting {
            IntraProcessSetting::Enable => true,
            IntraProcessSetting::Disable => false,
            IntraProcessSetting::NodeDefault => self.inner.use_intra_process_comms,
        }
    }

    /// Checks the QoS as rclcpp does when IPC is on, and claims the topic for `M`. Returns
    /// the depth of the endpoint's queue.
    fn check<M: Message>(&self, topic: &Arc<str>, qos: &QoS, intra: bool) -> Result<usize, CreateError> {
        let depth = match qos.history {
            History::KeepAll if intra => return Err(CreateError::KeepAllWithIntraProcess { topic: topic.to_string() }),
            // Without IPC, keep-all is the middleware's unbounded history.
            History::KeepAll => usize::MAX,
            // rclcpp checks the QoS the middleware reports back (`get_actual_qos`,
            // publisher.hpp:174 and subscription.hpp:159 jazzy 28.1.6, :158 and :147 rolling
            // 29.3.0): depth 0 went down as the system default, which rmw_cyclonedds (rmw_node.cpp:2166
            // jazzy) and rmw_fastrtps (qos.cpp:101-112 jazzy) make keep last 1. So 0 passes
            // the check "not allowed with 0 depth" with IPC on too, and the IPC buffer is 1
            // deep. Before rclcpp #2707 (December 2024: 29.3.0, 28.1.6, humble 16.0.12) a
            // publisher checked the QoS asked for, and refused 0 with IPC.
            History::KeepLast(0) => SYSTEM_DEFAULT_DEPTH,
            History::KeepLast(depth) => depth,
        };
        if intra && qos.durability == Durability::TransientLocal && self.inner.ctx.distro == Distro::Humble {
            return Err(CreateError::VolatileDurabilityOnly { topic: topic.to_string() });
        }
        self.inner.ctx.domain.check_type(topic, M::TYPE_NAME).map_err(|existing| CreateError::TypeMismatch {
            topic: topic.to_string(),
            existing,
            requested: M::TYPE_NAME,
        })?;
        Ok(depth)
    }

    pub fn create_publisher<M: Message>(&self, topic: &str, qos: impl Into<QoS>) -> Result<Publisher<M>, CreateError> {
        self.create_publisher_with_options(topic, qos, PublisherOptions::default())
    }

    pub fn create_publisher_with_options<M: Message>(
        &self,
        topic: &str,
        qos: impl Into<QoS>,
        options: PublisherOptions,
    ) -> Result<Publisher<M>, CreateError> {
        let topic: Arc<str> = Arc::from(topic);
        let intra = self.resolve(options.use_intra_process_comm);
        let qos = qos.into();
        let depth = self.check::<M>(&topic, &qos, intra)?;
        let ctx = &self.inner.ctx;
        let route = intra.then(|| {
            let info = EndpointInfo { node: self.inner.name.clone(), topic: topic.clone(), qos };
            ctx.ipm.add_publisher::<M>(info, &ctx.tracer)
        });
        let inner = Arc::new(PublisherInner::new(self.inner.name.clone(), topic, intra, qos, depth, ctx.clone()));
        let alive: Arc<dyn Any + Send + Sync> = inner.clone();
        let writer = NewWriter {
            node: self.inner.name.clone(),
            context_id: ctx.id,
            id: inner.id,
            intra,
            qos,
            alive: Arc::downgrade(&alive),
        };
        ctx.domain.add_publisher(&inner.topic, writer);
        if let Some(transport) = self.inner.ctx.domain.transport.get() {
            let kind = LocalKind::Publisher;
            let announced = entry(kind, &inner.node, &inner.topic, M::TYPE_NAME, intra, qos, Arc::downgrade(&alive));
            transport.announce(LocalEntry { publisher: inner.id, ..announced });
        }
        Ok(Publisher::new(inner, route))
    }

    /// The callback's parameter decides ownership: `UniquePtr<M>` takes it, `ConstSharedPtr<M>`
    /// shares it.
    pub fn create_subscription<M: Message, K>(
        &self,
        topic: &str,
        qos: impl Into<QoS>,
        callback: impl SubscriptionCallback<M, K>,
    ) -> Result<Subscription<M>, CreateError> {
        self.create_subscription_with_options(topic, qos, callback, SubscriptionOptions::default())
    }

    pub fn create_subscription_with_options<M: Message, K>(
        &self,
        topic: &str,
        qos: impl Into<QoS>,
        callback: impl SubscriptionCallback<M, K>,
        options: SubscriptionOptions,
    ) -> Result<Subscription<M>, CreateError> {
        let topic: Arc<str> = Arc::from(topic);
        let intra = self.resolve(options.use_intra_process_comm);
        let qos = qos.into();
        let depth = self.check::<M>(&topic, &qos, intra)?;
        let callback = callback.into_any();
        let takes_ownership = !options.intra_process_buffer_type.resolves_to_shared(&callback);
        let shares = callback.use_take_shared_method();
        let ctx = &self.inner.ctx;
        let inner = Arc::new(SubscriptionInner {
            node: self.inner.name.clone(),
            topic: topic.clone(),
            intra,
            takes_ownership,
            shares,
            ctx: ctx.clone(),
            queue: Mutex::new(Queues::new(depth)),
            overwritten: Mutex::new(0),
            callback: Mutex::new(callback),
        });
        if intra {
            let info = EndpointInfo { node: self.inner.name.clone(), topic: topic.clone(), qos };
            ctx.ipm.add_subscription(&inner, info, &ctx.tracer);
        }
        let wire: Arc<dyn super::middleware::WireSubscription> = inner.clone();
        let ignore_local_publications = options.ignore_local_publications;
        let endpoint = NewEndpoint {
            context_id: ctx.id,
            intra,
            ignore_local_publications,
            subscription: Arc::downgrade(&wire),
            node: self.inner.name.clone(),
            qos,
            tracer: ctx.tracer.clone(),
        };
        ctx.domain.add_subscription(&topic, endpoint);
        if let Some(transport) = ctx.domain.transport.get() {
            let alive: Arc<dyn Any + Send + Sync> = inner.clone();
            let kind = LocalKind::Subscription;
            transport.announce(entry(kind, &inner.node, &topic, M::TYPE_NAME, intra, qos, Arc::downgrade(&alive)));
        }
        let base: Arc<dyn SubscriptionBase> = inner.clone();
        self.inner.subscriptions.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::downgrade(&base));
        self.inner.subscriptions_added.fetch_add(1, Ordering::Release);
        Ok(Subscription { inner })
    }

    /// A timer the executor calls every `period`; zero means as fast as possible.
    pub fn create_wall_timer(&self, period: Duration, callback: impl FnMut() + Send + 'static) -> Timer {
        let inner = Arc::new(TimerInner::new(period, Box::new(callback)));
        self.inner.timers.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::downgrade(&inner));
        self.inner.ctx.wake();
        Timer { inner }
    }
}
