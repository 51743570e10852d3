//! The design-table experiment (not an upstream demo): one publisher, a list of
//! subscriptions that take ownership (`U`) or share (`S`), optionally one subscriber with
//! IPC off standing for another process, and ONE owned message published. The trace then
//! shows who got the original and who a copy.

use std::any::Any;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use crate::engine::msg::std_msgs::Int32;
use crate::engine::{
    ConstSharedPtr, Context, IntraProcessSetting, Node, NodeOptions, SingleThreadedExecutor, Subscription,
    SubscriptionOptions, UniquePtr,
};

use super::DemoError;

/// How one subscription takes its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// `U`: the callback takes a `UniquePtr` (ownership).
    Unique,
    /// `S`: the callback takes a `ConstSharedPtr` (shared, read-only).
    Shared,
}

/// A list of subscriptions, written `U,U,S,S`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec(pub Vec<Take>);

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// No subscription at all.
    Empty,
    /// Something other than `U` or `S` at this 1-based position.
    BadItem { position: usize, item: String },
    /// More than [`Spec::MAX`] subscriptions.
    TooMany(usize),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty => write!(f, "the list is empty"),
            SpecError::BadItem { position, item } => write!(f, "item {position} is '{item}', not U or S"),
            SpecError::TooMany(n) => write!(f, "{n} subscriptions; at most {}", Spec::MAX),
        }
    }
}

impl Spec {
    /// Enough for every row of the design table and then some.
    pub const MAX: usize = 16;
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
        let takes = items.iter().enumerate().map(|(i, item)| match *item {
            "U" | "u" => Ok(Take::Unique),
            "S" | "s" => Ok(Take::Shared),
            _ => Err(SpecError::BadItem { position: i + 1, item: item.to_string() }),
        });
        takes.collect::<Result<_, _>>().map(Spec)
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letters: Vec<&str> = self.0.iter().map(|t| if *t == Take::Unique { "U" } else { "S" }).collect();
        f.write_str(&letters.join(","))
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

pub fn main(ctx: &Context, spec: &Spec, inter_process: bool) -> Result<(), DemoError> {
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let publisher_node = Node::new(ctx, "publisher", ipc)?;
    let publisher = publisher_node.create_publisher::<Int32>("topic", 10)?;

    let mut nodes = Vec::new();
    // Kept alive until the message is delivered: dropping a handle removes the subscription.
    let mut subs: Vec<Subscription<Int32>> = Vec::new();
    // Every callback keeps what it got until the end: a message freed early would let the
    // next one land on its address, and the table would show two messages as one.
    let kept: Arc<Mutex<Vec<Box<dyn Any + Send>>>> = Arc::default();
    for (i, take) in spec.0.iter().enumerate() {
        let node = Node::new(ctx, &subscriber_name(i + 1), ipc)?;
        let keep = kept.clone();
        // The callback's parameter type is the whole difference between U and S.
        subs.push(match take {
            Take::Unique => node.create_subscription("topic", 10, move |m: UniquePtr<Int32>| hold(&keep, m))?,
            Take::Shared => node.create_subscription("topic", 10, move |m: ConstSharedPtr<Int32>| hold(&keep, m))?,
        });
        nodes.push(node);
    }
    if inter_process {
        // IPC disabled: this subscription is reached through the middleware only, exactly
        // like a subscriber in another process. It reads shared, so the middleware costs
        // just its serialize and deserialize (an owning callback would add one more copy).
        let node = Node::new(ctx, INTER_PROCESS_NODE, NodeOptions::default())?;
        let options = SubscriptionOptions { use_intra_process_comm: IntraProcessSetting::Disable };
        let keep = kept.clone();
        let callback = move |m: ConstSharedPtr<Int32>| hold(&keep, m);
        let sub = node.create_subscription_with_options("topic", 10, callback, options)?;
        subs.push(sub);
        nodes.push(node);
    }

    publisher.publish(Box::new(Int32 { data: 42 }));

    let mut executor = SingleThreadedExecutor::new();
    for node in &nodes {
        executor.add_node(node);
    }
    // Everything was queued by `publish`; run until every callback has had its message.
    while ctx.ok() && executor.spin_some() {}
    drop(subs);
    drop(kept);
    Ok(())
}

fn hold<T: Send + 'static>(kept: &Mutex<Vec<Box<dyn Any + Send>>>, msg: T) {
    kept.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(msg));
}
