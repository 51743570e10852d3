//! The intra-process manager (IPM): rclcpp's rules for handing one published message to
//! the subscriptions of the same context, making as few copies as ownership allows.
//!
//! The rules (REFERENCE.md section 2), for a message published as `UniquePtr`:
//! - no subscription takes ownership: the message becomes shared, zero copies;
//! - owners and at most one shared subscription: everyone but the LAST in the list
//!   (shared ones first, then owners in the order they were added) gets a copy, the last
//!   one gets the original;
//! - owners and two or more shared subscriptions: one copy shared by all shared ones, then
//!   the owners as above;
//! - a subscriber outside the IPM's reach (another process, or IPC off) as well: with
//!   owners, one shared copy is made first, for the shared subscriptions and for the
//!   middleware; without owners the message is shared as it is.
//!
//! ```
//! use std::sync::Arc;
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::trace::{EventKind, Recorder};
//! use ipc_lab::engine::{Context, InitOptions, MessageAddress, Node, NodeOptions, UniquePtr};
//!
//! let recorder = Arc::new(Recorder::default());
//! let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()));
//! let node = Node::new(&ctx, "n", NodeOptions::default().use_intra_process_comms(true)).unwrap();
//! let publisher = node.create_publisher::<Int32>("t", 10).unwrap();
//! let _first = node.create_subscription("t", 10, |_: UniquePtr<Int32>| {}).unwrap();
//! let _last = node.create_subscription("t", 10, |_: UniquePtr<Int32>| {}).unwrap();
//! let msg = Box::new(Int32 { data: 1 });
//! let original = msg.address();
//! publisher.publish(msg);
//! // Two owners: the first added got a copy, made from the original.
//! let copies: Vec<_> = recorder.events().into_iter()
//!     .filter_map(|e| match e.kind { EventKind::Copied { from, .. } => Some(from), _ => None })
//!     .collect();
//! assert_eq!(copies, [original]);
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::message::{ConstSharedPtr, Message, UniquePtr};
use super::subscription::{Buffered, Pending, SubscriptionInner};
use super::trace::{CopyMade, CopyReason, Publication, Tracer, Via};

/// A subscription registered with the IPM.
struct Entry {
    takes_ownership: bool,
    /// A `SubscriptionInner<M>` of the topic's type, behind `Any` so one map holds all
    /// topics; weak, so a dropped subscription simply disappears.
    subscription: Weak<dyn Any + Send + Sync>,
}

/// One per context.
#[derive(Default)]
pub(crate) struct IntraProcessManager {
    /// Per topic, the intra-process subscriptions in the order they were added.
    topics: Mutex<HashMap<Arc<str>, Vec<Entry>>>,
}

/// The publisher's side of one publish call, for the trace.
pub(crate) struct PublishInfo<'a> {
    pub(crate) tracer: &'a Tracer,
    pub(crate) node: &'a Arc<str>,
    pub(crate) topic: &'a Arc<str>,
    pub(crate) publication: Publication,
}

impl PublishInfo<'_> {
    /// Reports a copy made on the publisher's side of this publish call.
    pub(crate) fn report_copy<M: Message>(&self, from: &M, copy: &M, reason: CopyReason) {
        let (topic, publication) = (self.topic, self.publication);
        self.tracer.copied(self.node, CopyMade { topic, publication, from, copy, reason });
    }
}

/// The live subscriptions of a topic, split the way the rules need them.
struct Subscribers<M: Message> {
    shared: Vec<Arc<SubscriptionInner<M>>>,
    owners: Vec<Arc<SubscriptionInner<M>>>,
}

impl IntraProcessManager {
    pub(crate) fn add_subscription<M: Message>(&self, subscription: &Arc<SubscriptionInner<M>>) {
        let any: Arc<dyn Any + Send + Sync> = subscription.clone();
        let entry = Entry { takes_ownership: subscription.takes_ownership, subscription: Arc::downgrade(&any) };
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics.entry(subscription.topic.clone()).or_default().push(entry);
    }

    fn subscribers<M: Message>(&self, topic: &str) -> Subscribers<M> {
        let mut found = Subscribers { shared: Vec::new(), owners: Vec::new() };
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entries) = topics.get_mut(topic) else {
            return found;
        };
        entries.retain(|e| e.subscription.strong_count() > 0);
        for entry in entries.iter() {
            // The topic's type was checked when the subscription was created, so the
            // downcast only fails for one that is being dropped right now.
            let Some(sub) = entry.subscription.upgrade().and_then(|s| s.downcast().ok()) else {
                continue;
            };
            if entry.takes_ownership {
                found.owners.push(sub);
            } else {
                found.shared.push(sub);
            }
        }
        found
    }

    /// rclcpp's `do_intra_process_publish`, or with `inter_process` its
    /// `do_intra_process_publish_and_return_shared`: then the returned message is the
    /// one the middleware must serialize.
    pub(crate) fn do_intra_process_publish<M: Message>(
        &self,
        info: &PublishInfo<'_>,
        msg: UniquePtr<M>,
        inter_process: bool,
    ) -> Option<ConstSharedPtr<M>> {
        let Subscribers { shared, owners } = self.subscribers::<M>(info.topic);
        if owners.is_empty() {
            // Nobody needs to own it: promote to shared, zero copies.
            let msg: ConstSharedPtr<M> = Arc::new(msg);
            add_shared_msg_to_buffers(&msg, &shared, info, Via::Original);
            return inter_process.then_some(msg);
        }
        if inter_process {
            // One shared copy for the middleware and the shared subscriptions
            // (intra_process_manager.hpp:318 rolling and jazzy, :278 humble).
            let copy = shared_copy(&*msg, info, CopyReason::SharedForInterProcess);
            add_shared_msg_to_buffers(&copy, &shared, info, Via::Copy(CopyReason::SharedForInterProcess));
            add_owned_msg_to_buffers(msg, &owners, info);
            return Some(copy);
        }
        if shared.len() <= 1 {
            let all: Vec<_> = shared.into_iter().chain(owners).collect();
            add_owned_msg_to_buffers(msg, &all, info);
        } else {
            // intra_process_manager.hpp:271 rolling and jazzy, :231 humble.
            let copy = shared_copy(&*msg, info, CopyReason::SharedForSharedSubscriptions);
            add_shared_msg_to_buffers(&copy, &shared, info, Via::Copy(CopyReason::SharedForSharedSubscriptions));
            add_owned_msg_to_buffers(msg, &owners, info);
        }
        None
    }
}

/// `std::allocate_shared<MessageT>(allocator, *message)`: one copy that the shared
/// subscriptions (and the middleware) will hold together.
fn shared_copy<M: Message>(msg: &M, info: &PublishInfo<'_>, reason: CopyReason) -> ConstSharedPtr<M> {
    let copy: UniquePtr<M> = Box::new(msg.clone());
    info.report_copy(msg, &*copy, reason);
    Arc::new(copy)
}

/// Every shared subscription gets the same pointer.
fn add_shared_msg_to_buffers<M: Message>(
    msg: &ConstSharedPtr<M>,
    subscriptions: &[Arc<SubscriptionInner<M>>],
    info: &PublishInfo<'_>,
    via: Via,
) {
    for sub in subscriptions {
        sub.provide(Pending::Intra(Buffered::Shared(msg.clone()), info.publication, via));
    }
}

/// Everyone but the last gets a copy; the last gets the original.
fn add_owned_msg_to_buffers<M: Message>(
    msg: UniquePtr<M>,
    subscriptions: &[Arc<SubscriptionInner<M>>],
    info: &PublishInfo<'_>,
) {
    let Some((last, others)) = subscriptions.split_last() else {
        return;
    };
    for sub in others {
        // "Copy the message since we have additional subscriptions to serve"
        // (intra_process_manager.hpp:584-589 rolling and jazzy, :460-465 humble).
        let copy: UniquePtr<M> = Box::new((*msg).clone());
        info.report_copy(&*msg, &*copy, CopyReason::NotLast);
        sub.provide_unique(copy, info.publication, Via::Copy(CopyReason::NotLast));
    }
    last.provide_unique(msg, info.publication, Via::Original);
}
