//! The design-table experiment (not an upstream demo): one publisher, a list of
//! subscriptions that take ownership (`U`) or share (`S`), optionally one subscriber with
//! IPC off standing for another process, and ONE owned message published. The trace then
//! shows who got the original and who a copy.
//!
//! The QoS experiments publish several messages before any callback runs (a consumer that
//! has fallen behind), with a depth that may not hold them all, or create the subscriptions
//! only after the publishing (late joiners of a transient-local publisher).

use std::any::Any;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use crate::engine::msg::std_msgs::Int32;
use crate::engine::{
    ConstSharedPtr, Context, IntraProcessBufferType, IntraProcessSetting, Node, NodeOptions, QoS, SharedPtr,
    SingleThreadedExecutor, Subscription, SubscriptionOptions, UniquePtr,
};

use super::DemoError;

/// How one subscription's callback takes its messages: the four signatures rclcpp sorts
/// into owners and sharers (any_subscription_callback.hpp:912-918 rolling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// `U`: `UniquePtr` (ownership).
    Unique,
    /// `S`: `ConstSharedPtr` (shared, read-only): the only sharer.
    ConstShared,
    /// `R`: `const T &`: only reads, yet an owner.
    Ref,
    /// `P`: `SharedPtr` (mutable): an owner.
    SharedPtr,
}

impl Take {
    fn letter(self) -> &'static str {
        match self {
            Take::Unique => "U",
            Take::ConstShared => "S",
            Take::Ref => "R",
            Take::SharedPtr => "P",
        }
    }
}

/// One subscription of a spec: its callback, and what its intra-process buffer stores
/// (`U/S` is a `UniquePtr` callback behind a `SharedPtr` buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sub {
    pub take: Take,
    pub buffer: IntraProcessBufferType,
}

/// A list of subscriptions, written `U,U,S,S` (or `R,P`, `U/S`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec(pub Vec<Sub>);

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// No subscription at all.
    Empty,
    /// Something other than `U`, `S`, `R`, `P` (optionally `/U` or `/S`) at this 1-based
    /// position.
    BadItem { position: usize, item: String },
    /// More than [`Spec::MAX`] subscriptions.
    TooMany(usize),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty => write!(f, "the list is empty"),
            SpecError::BadItem { position, item } => write!(f, "item {position} is '{item}', not U, S, R or P"),
            SpecError::TooMany(n) => write!(f, "{n} subscriptions; at most {}", Spec::MAX),
        }
    }
}

impl Spec {
    /// Enough for every row of the design table and then some.
    pub const MAX: usize = 16;
}

fn parse_take(letter: &str) -> Option<Take> {
    match letter.to_ascii_uppercase().as_str() {
        "U" => Some(Take::Unique),
        "S" => Some(Take::ConstShared),
        "R" => Some(Take::Ref),
        "P" => Some(Take::SharedPtr),
        _ => None,
    }
}

fn parse_sub(item: &str) -> Option<Sub> {
    let (callback, buffer) = match item.split_once('/') {
        Some((callback, buffer)) => (callback, Some(buffer)),
        None => (item, None),
    };
    let buffer = match buffer.map(str::to_ascii_uppercase).as_deref() {
        None => IntraProcessBufferType::CallbackDefault,
        Some("U") => IntraProcessBufferType::UniquePtr,
        Some("S") => IntraProcessBufferType::SharedPtr,
        Some(_) => return None,
    };
    Some(Sub { take: parse_take(callback)?, buffer })
}

impl FromStr for Spec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        let items: Vec<&str> = s.split(',').map(str::trim).collect();
        if items.iter().all(|i| i.is_empty()) {
            return Err(SpecError::Empty);
        }
        if items.len() > Self::MAX {
            return Err(SpecError::TooMany(items.len()));
        }
        let subs = items.iter().enumerate().map(|(i, item)| {
            parse_sub(item).ok_or_else(|| SpecError::BadItem { position: i + 1, item: item.to_string() })
        });
        subs.collect::<Result<_, _>>().map(Spec)
    }
}

impl fmt::Display for Sub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.take.letter())?;
        match self.buffer {
            IntraProcessBufferType::CallbackDefault => Ok(()),
            IntraProcessBufferType::UniquePtr => f.write_str("/U"),
            IntraProcessBufferType::SharedPtr => f.write_str("/S"),
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&items.join(","))
    }
}

/// rclcpp's design table: for each list of subscriptions, the addresses they end up with
/// (`@1` the original, `@2`... copies). It says which addresses occur, not who gets which.
pub const DESIGN_TABLE: &[(&str, &str)] = &[
    ("U", "@1"),
    ("U,U", "@1,@2"),
    ("S", "@1"),
    ("S,S", "@1,@1"),
    ("U,S", "@1,@2"),
    ("U,S,S", "@1,@2,@2"),
    ("U,U,S,S", "@1,@2,@3,@3"),
];

/// The node name of the `i`-th subscription (from 1), as the trace shows it.
pub fn subscriber_name(i: usize) -> String {
    format!("sub{i}")
}

/// The node standing for a subscriber in another process.
pub const INTER_PROCESS_NODE: &str = "other_process";

/// What surrounds the subscriptions of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// Add a subscriber outside the intra-process manager (IPC off), standing for another
    /// process: the publisher then also publishes to the middleware.
    pub inter_process: bool,
    /// Give every subscription of the spec rclcpp's `ignore_local_publications` option, so
    /// none of them takes (and discards) the middleware's copy of the message.
    pub ignore_local_publications: bool,
    /// The QoS of the publisher and of every subscription: depth and durability.
    pub qos: QoS,
    /// The publisher is best effort while the subscriptions stay reliable: they cannot
    /// communicate.
    pub best_effort_publisher: bool,
    /// The publisher is volatile while the subscriptions keep the durability of `qos`: with
    /// transient-local ones they cannot communicate.
    pub volatile_publisher: bool,
    /// How many messages are published, one after another, before any callback runs.
    pub messages: usize,
    /// The subscriptions are created only after the publishing: late joiners.
    pub late: bool,
}

impl Default for Setup {
    /// One message, keep last 10, reliable, volatile: the design table's experiment.
    fn default() -> Self {
        Self {
            inter_process: false,
            ignore_local_publications: false,
            qos: QoS::keep_last(10),
            best_effort_publisher: false,
            volatile_publisher: false,
            messages: 1,
            late: false,
        }
    }
}

impl Setup {
    /// Whether this is the design table's experiment, one message to subscriptions that
    /// were there first, which the table of [`DESIGN_TABLE`] describes.
    pub fn is_design_table(&self) -> bool {
        let plain = Setup {
            inter_process: self.inter_process,
            ignore_local_publications: self.ignore_local_publications,
            ..Setup::default()
        };
        *self == plain
    }
}

pub fn main(ctx: &Context, spec: &Spec, setup: Setup) -> Result<(), DemoError> {
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let publisher_node = Node::new(ctx, "publisher", ipc)?;
    let qos = setup.qos;
    let publisher_qos = if setup.best_effort_publisher { qos.best_effort() } else { qos };
    let publisher_qos = if setup.volatile_publisher { publisher_qos.volatile() } else { publisher_qos };
    let publisher = publisher_node.create_publisher::<Int32>("topic", publisher_qos)?;
    // Values from 42 on, so that a row reads like the single message of the design table.
    let publish_all = || {
        for data in (42..).take(setup.messages) {
            publisher.publish(Box::new(Int32 { data }));
        }
    };
    if setup.late {
        publish_all();
    }

    let mut nodes = Vec::new();
    // Kept alive until the message is delivered: dropping a handle removes the subscription.
    let mut subs: Vec<Subscription<Int32>> = Vec::new();
    // Every callback keeps what it got until the end: a message freed early would let the
    // next one land on its address, and the table would show two messages as one.
    let kept: Arc<Mutex<Vec<Box<dyn Any + Send>>>> = Arc::default();
    for (i, sub) in spec.0.iter().enumerate() {
        let node = Node::new(ctx, &subscriber_name(i + 1), ipc)?;
        let options = SubscriptionOptions {
            intra_process_buffer_type: sub.buffer,
            ignore_local_publications: setup.ignore_local_publications,
            ..Default::default()
        };
        subs.push(subscribe(&node, sub.take, qos, options, &kept)?);
        nodes.push(node);
    }
    if setup.inter_process {
        // IPC disabled: this subscription is reached through the middleware only, exactly
        // like a subscriber in another process. It reads shared, so the middleware costs
        // just its serialize and deserialize (an owning callback would add one more copy).
        let node = Node::new(ctx, INTER_PROCESS_NODE, NodeOptions::default())?;
        let options =
            SubscriptionOptions { use_intra_process_comm: IntraProcessSetting::Disable, ..Default::default() };
        let keep = kept.clone();
        let callback = move |m: ConstSharedPtr<Int32>| hold(&keep, m);
        let sub = node.create_subscription_with_options("topic", qos, callback, options)?;
        subs.push(sub);
        nodes.push(node);
    }

    if !setup.late {
        publish_all();
    }

    let mut executor = SingleThreadedExecutor::new();
    // The outside subscriber first: its deserialized message must be allocated while a
    // `const T &` callback's message (which nobody keeps) is still alive, or it could land
    // on the freed address and look like the same message.
    for node in nodes.iter().rev() {
        executor.add_node(node);
    }
    // Everything was queued by `publish`; run until every callback has had its message.
    while ctx.ok() && executor.spin_some() {}
    drop(subs);
    drop(kept);
    Ok(())
}

/// One subscription whose callback takes its message as `take` says: the parameter type is
/// the whole difference.
fn subscribe(
    node: &Node,
    take: Take,
    qos: QoS,
    options: SubscriptionOptions,
    kept: &Arc<Mutex<Vec<Box<dyn Any + Send>>>>,
) -> Result<Subscription<Int32>, DemoError> {
    let keep = kept.clone();
    let sub = match take {
        Take::Unique => {
            node.create_subscription_with_options("topic", qos, move |m: UniquePtr<Int32>| hold(&keep, m), options)
        }
        Take::ConstShared => {
            node.create_subscription_with_options("topic", qos, move |m: ConstSharedPtr<Int32>| hold(&keep, m), options)
        }
        // A reference lives only during the callback: nothing to keep. The message is freed
        // when it returns, after every other message of the run was made (`main` runs the
        // outside subscriber first), so no later one can land on its address.
        Take::Ref => node.create_subscription_with_options("topic", qos, |_: &Int32| {}, options),
        Take::SharedPtr => {
            node.create_subscription_with_options("topic", qos, move |m: SharedPtr<Int32>| hold(&keep, m), options)
        }
    };
    Ok(sub?)
}

fn hold<T: Send + 'static>(kept: &Mutex<Vec<Box<dyn Any + Send>>>, msg: T) {
    kept.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(msg));
}
