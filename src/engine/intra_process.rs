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
use std::sync::{Arc, Mutex, RwLock, Weak};

use super::message::{ConstSharedPtr, Message, UniquePtr};
use super::qos::{Durability, History, QoS, Reliability};
use super::ring_buffer::RingBuffer;
use super::subscription::{Buffered, Pending, SubscriptionInner};
use super::trace::{CopyMade, CopyReason, EventKind, MessageRef, Publication, QosPolicyKind, Tracer, Via};

/// One publisher's intra-process subscriptions, split the way the rules need them:
/// rclcpp's `SplittedSubscriptions`, one per publisher in `pub_to_subs_`
/// (intra_process_manager.hpp:383-387 rolling). Built when a publisher or a subscription is
/// added, so a publish call only reads it.
pub(crate) struct SplittedSubscriptions<M: Message> {
    /// The subscriptions that take a `ConstSharedPtr`: they can share one message.
    take_shared_subscriptions: Vec<Listed<M>>,
    /// The owners (`UniquePtr`, `const T&`, `SharedPtr`): each needs a message of its own.
    take_ownership_subscriptions: Vec<Listed<M>>,
}

/// A subscription in a publisher's list. Weak: a dropped subscription is skipped, then
/// pruned at the next change (rclcpp removes it in its destructor).
struct Listed<M: Message> {
    subscription: Weak<SubscriptionInner<M>>,
}

/// A publisher's lists, shared by the publisher (which reads them on every publish) and the
/// IPM (which writes them when endpoints come and go), and what a transient-local publisher
/// keeps for late joiners.
pub(crate) struct Route<M: Message> {
    lists: RwLock<SplittedSubscriptions<M>>,
    /// A transient-local publisher's `buffer_` (publisher.hpp:185-191 jazzy), which the IPM
    /// also holds as `publisher_buffers_` (intra_process_manager.cpp:41-50 jazzy): its last
    /// `depth` messages, shared, as the publisher's default `SharedPtr` buffer type stores
    /// them (publisher_options.hpp:45 jazzy). `None` for a volatile publisher.
    buffer: Option<Mutex<RingBuffer<Kept<M>>>>,
}

/// A message a transient-local publisher keeps for late joiners.
pub(crate) struct Kept<M> {
    msg: ConstSharedPtr<M>,
    /// The publish call it comes from, which a replay names too.
    publication: Publication,
    /// How it came to be kept: the original itself, or the shared copy made beside it.
    via: Via,
}

impl<M: Message> Route<M> {
    /// Whether the publisher is transient local and keeps messages for late joiners.
    pub(crate) fn keeps_messages(&self) -> bool {
        self.buffer.is_some()
    }

    /// `buffer_->add_shared(shared_msg)` (publisher.hpp:261 and :268 jazzy): the message
    /// the publish just shared joins the publisher's buffer, the oldest one leaving it when
    /// full. No copy: the buffer holds the same shared message.
    pub(crate) fn keep(&self, msg: &ConstSharedPtr<M>, info: &PublishInfo<'_>, via: Via) {
        let Some(buffer) = &self.buffer else { return };
        let kept = Kept { msg: msg.clone(), publication: info.publication, via };
        buffer.lock().unwrap_or_else(|e| e.into_inner()).push(kept);
        info.tracer.emit(info.node, || EventKind::Kept { msg: MessageRef::of::<M>(msg, info.topic, info.publication) });
    }
}

/// What the IPM does with a publisher's lists without knowing its message type.
trait RouteBase: Send + Sync {
    /// Forgets subscriptions that no longer exist.
    fn prune(&self);
    /// The lists as `Any`, to be downcast to [`Route<M>`].
    fn as_any(&self) -> &(dyn Any + Send + Sync);
}

impl<M: Message> RouteBase for Route<M> {
    fn prune(&self) {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        lists.take_shared_subscriptions.retain(|l| l.subscription.strong_count() > 0);
        lists.take_ownership_subscriptions.retain(|l| l.subscription.strong_count() > 0);
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

/// An endpoint as `can_communicate` sees it.
#[derive(Clone)]
pub(crate) struct EndpointInfo {
    pub(crate) node: Arc<str>,
    pub(crate) topic: Arc<str>,
    /// Its QoS, checked for compatibility as rclcpp's `can_communicate` does.
    pub(crate) qos: QoS,
}

/// A subscription registered with the IPM (rclcpp's `subscriptions_`).
struct SubscriptionEntry {
    info: EndpointInfo,
    /// A `SubscriptionInner<M>` of the topic's type, behind `Any` so one list holds all
    /// topics.
    subscription: Weak<dyn Any + Send + Sync>,
    /// Adds this subscription to a publisher's lists of the same type; with `replay`, also
    /// hands it what the publisher keeps.
    insert: fn(&SubscriptionEntry, &dyn RouteBase, replay: Option<&Tracer>),
}

/// A publisher registered with the IPM (rclcpp's `publishers_` and its `pub_to_subs_` entry).
struct PublisherEntry {
    info: EndpointInfo,
    /// The publisher's lists of subscriptions; gone when the publisher is.
    route: Weak<dyn RouteBase>,
}

#[derive(Default)]
struct State {
    /// In the order they were added, as rclcpp's ids grow (`get_next_unique_id`).
    subscriptions: Vec<SubscriptionEntry>,
    /// In the order they were added.
    publishers: Vec<PublisherEntry>,
}

/// One per context.
#[derive(Default)]
pub(crate) struct IntraProcessManager {
    /// Changed when an endpoint comes or goes, never on a publish.
    state: Mutex<State>,
}

/// The publisher's side of one publish call, for the trace.
pub(crate) struct PublishInfo<'a> {
    /// Where the call's events go.
    pub(crate) tracer: &'a Tracer,
    /// The publishing node, which the events name.
    pub(crate) node: &'a Arc<str>,
    pub(crate) topic: &'a Arc<str>,
    /// Names this call in every event it causes.
    pub(crate) publication: Publication,
    /// The bytes of the shared copy made for the middleware (0: none), so that a frame to
    /// another process can say everything its sender copied for it.
    pub(crate) copied_for_middleware: std::cell::Cell<u64>,
}

impl PublishInfo<'_> {
    /// Reports a copy made on the publisher's side of this publish call.
    pub(crate) fn report_copy<M: Message>(&self, from: &M, copy: &M, reason: CopyReason) {
        let (topic, publication) = (self.topic, self.publication);
        self.tracer.copied(self.node, CopyMade { topic, publication, from, copy, reason });
    }
}

/// rclcpp's `can_communicate` (intra_process_manager.cpp:199-213 rolling and jazzy, :211
/// humble): the same topic, and QoS that `qos_check_compatible` (qos.cpp:349 rolling) does
/// not call an error. The policy that fails, if one does.
pub(crate) fn incompatible_policy(publisher: &QoS, subscription: &QoS) -> Option<QosPolicyKind> {
    if publisher.reliability == Reliability::BestEffort && subscription.reliability == Reliability::Reliable {
        return Some(QosPolicyKind::Reliability);
    }
    if publisher.durability == Durability::Volatile && subscription.durability == Durability::TransientLocal {
        return Some(QosPolicyKind::Durability);
    }
    None
}

impl State {
    fn prune(&mut self) {
        self.subscriptions.retain(|s| s.subscription.strong_count() > 0);
        self.publishers.retain(|p| p.route.strong_count() > 0);
        for publisher in &self.publishers {
            if let Some(route) = publisher.route.upgrade() {
                route.prune();
            }
        }
    }
}

/// Whether a publisher and a subscription match; an incompatible QoS is reported, never
/// silent (rclcpp's `RequestedIncompatibleQoS` event on the subscription's side).
fn can_communicate(publisher: &EndpointInfo, subscription: &EndpointInfo, tracer: &Tracer) -> bool {
    if publisher.topic != subscription.topic {
        return false;
    }
    let Some(policy) = incompatible_policy(&publisher.qos, &subscription.qos) else { return true };
    tracer.emit(&subscription.node, || EventKind::IncompatibleQos {
        topic: subscription.topic.clone(),
        policy,
        publisher_node: publisher.node.clone(),
        offered: false,
    });
    false
}

/// `insert_sub_id_for_pub` (intra_process_manager.cpp:186-196 rolling): appended to the
/// list its buffer decides. With `replay`, a transient-local subscription joining a
/// transient-local publisher then gets what the publisher keeps
/// (`do_transient_local_publish`, intra_process_manager.hpp:136-143 jazzy and rolling).
fn insert_sub_id_for_pub<M: Message>(entry: &SubscriptionEntry, route: &dyn RouteBase, replay: Option<&Tracer>) {
    let (Some(route), Some(sub)) = (
        route.as_any().downcast_ref::<Route<M>>(),
        entry.subscription.upgrade().and_then(|s| s.downcast::<SubscriptionInner<M>>().ok()),
    ) else {
        return;
    };
    let listed = Listed { subscription: Arc::downgrade(&sub) };
    let mut lists = route.lists.write().unwrap_or_else(|e| e.into_inner());
    if sub.takes_ownership {
        lists.take_ownership_subscriptions.push(listed);
    } else {
        lists.take_shared_subscriptions.push(listed);
    }
    drop(lists);
    if let (Some(tracer), Some(buffer)) = (replay, &route.buffer) {
        do_transient_local_publish(&buffer.lock().unwrap_or_else(|e| e.into_inner()), &sub, tracer);
    }
}

/// `do_transient_local_publish` (intra_process_manager.hpp:420-461 jazzy and rolling): the
/// kept messages, oldest first, to one late joiner. A sharer gets the kept messages
/// themselves (`get_all_data_shared`); an owner gets a copy of each
/// (`get_all_data_unique` on a `SharedPtr` buffer copies, intra_process_buffer.hpp:292-313
/// jazzy), even when nobody else will ever read the kept one.
fn do_transient_local_publish<M: Message>(
    kept: &RingBuffer<Kept<M>>,
    sub: &Arc<SubscriptionInner<M>>,
    tracer: &Tracer,
) {
    for Kept { msg, publication, via } in kept.iter() {
        if !sub.takes_ownership {
            sub.provide(Pending::Intra(Buffered::Shared(msg.clone()), *publication, *via));
            continue;
        }
        let copy: UniquePtr<M> = Box::new((***msg).clone());
        let reason = CopyReason::UniqueFromSharedBuffer;
        let made = CopyMade { topic: &sub.topic, publication: *publication, from: &***msg, copy: &*copy, reason };
        tracer.copied(&sub.node, made);
        sub.provide(Pending::Intra(Buffered::Unique(copy), *publication, Via::Copy(reason)));
    }
}

impl IntraProcessManager {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// rclcpp's `add_publisher` (intra_process_manager.cpp:35-69 rolling): the publisher's
    /// lists start with the subscriptions that exist already, taken in the order rclcpp's
    /// `std::unordered_map` iterates them. That order is unspecified; libstdc++ (GCC 12)
    /// gives the REVERSE of creation order while the map has at most 13 entries (its first
    /// bucket count) and a scrambled one after a rehash. ipc-lab follows libstdc++'s small
    /// case; code must not rely on either.
    ///
    /// A transient-local publisher gets a buffer of its depth (the node checked that the
    /// distro allows it). Nothing is replayed here: the buffer is still empty.
    pub(crate) fn add_publisher<M: Message>(&self, info: EndpointInfo, tracer: &Tracer) -> Arc<Route<M>> {
        let buffer = match (info.qos.durability, info.qos.history) {
            (Durability::TransientLocal, History::KeepLast(depth)) => Some(Mutex::new(RingBuffer::new(depth))),
            _ => None,
        };
        let lists =
            SplittedSubscriptions { take_shared_subscriptions: Vec::new(), take_ownership_subscriptions: Vec::new() };
        let route: Arc<Route<M>> = Arc::new(Route { lists: RwLock::new(lists), buffer });
        let mut state = self.lock();
        state.prune();
        for entry in state.subscriptions.iter().rev() {
            if can_communicate(&info, &entry.info, tracer) {
                (entry.insert)(entry, &*route, None);
            }
        }
        let erased: Arc<dyn RouteBase> = route.clone();
        state.publishers.push(PublisherEntry { info, route: Arc::downgrade(&erased) });
        route
    }

    /// rclcpp's `add_subscription` (intra_process_manager.hpp:121-149 rolling): appended to
    /// the lists of every matching publisher, so those lists keep creation order; a
    /// transient-local subscription gets what each transient-local publisher keeps.
    pub(crate) fn add_subscription<M: Message>(
        &self,
        subscription: &Arc<SubscriptionInner<M>>,
        info: EndpointInfo,
        tracer: &Tracer,
    ) {
        let any: Arc<dyn Any + Send + Sync> = subscription.clone();
        let mut state = self.lock();
        state.prune();
        let entry = SubscriptionEntry { info, subscription: Arc::downgrade(&any), insert: insert_sub_id_for_pub::<M> };
        for publisher in &state.publishers {
            let Some(route) = publisher.route.upgrade() else { continue };
            if can_communicate(&publisher.info, &entry.info, tracer) {
                let late_joiner = publisher.info.qos.durability == Durability::TransientLocal
                    && entry.info.qos.durability == Durability::TransientLocal;
                insert_sub_id_for_pub::<M>(&entry, &*route, late_joiner.then_some(tracer));
            }
        }
        state.subscriptions.push(entry);
    }

    /// rclcpp's `do_intra_process_publish` (intra_process_manager.hpp:223-280 rolling), or
    /// with `return_shared` its `do_intra_process_publish_and_return_shared` (:287-338):
    /// then the returned message is the one the middleware serializes (or the publisher
    /// keeps), and how it came to be. `return_shared` names why a shared message is needed,
    /// the reason of the copy made for it when there are owners.
    pub(crate) fn do_intra_process_publish<M: Message>(
        route: &Route<M>,
        info: &PublishInfo<'_>,
        msg: UniquePtr<M>,
        return_shared: Option<CopyReason>,
    ) -> Option<(ConstSharedPtr<M>, Via)> {
        let lists = route.lists.read().unwrap_or_else(|e| e.into_inner());
        let (shared, owners) = (&lists.take_shared_subscriptions, &lists.take_ownership_subscriptions);
        if owners.is_empty() {
            // Nobody needs to own it: promote to shared, zero copies.
            let msg: ConstSharedPtr<M> = Arc::new(msg);
            add_shared_msg_to_buffers(&msg, shared, info, Via::Original);
            return return_shared.map(|_| (msg, Via::Original));
        }
        if let Some(reason) = return_shared {
            // One shared copy for the middleware (or the publisher's buffer) and the shared
            // subscriptions (intra_process_manager.hpp:318 rolling and jazzy, :278 humble).
            let copy = shared_copy(&*msg, info, reason);
            info.copied_for_middleware.set(msg.deep_size() as u64);
            add_shared_msg_to_buffers(&copy, shared, info, Via::Copy(reason));
            add_owned_msg_to_buffers(msg, &[owners], info);
            return Some((copy, Via::Copy(reason)));
        }
        if shared.len() <= 1 {
            // "this case is equivalent to all the buffers requiring ownership": the shared
            // one first, then the owners (intra_process_manager.hpp:249-265 rolling).
            add_owned_msg_to_buffers(msg, &[shared, owners], info);
        } else {
            // intra_process_manager.hpp:271 rolling and jazzy, :231 humble.
            let copy = shared_copy(&*msg, info, CopyReason::SharedForSharedSubscriptions);
            add_shared_msg_to_buffers(&copy, shared, info, Via::Copy(CopyReason::SharedForSharedSubscriptions));
            add_owned_msg_to_buffers(msg, &[owners], info);
        }
        drop(lists);
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
    subscriptions: &[Listed<M>],
    info: &PublishInfo<'_>,
    via: Via,
) {
    for sub in subscriptions.iter().filter_map(|l| l.subscription.upgrade()) {
        sub.provide(Pending::Intra(Buffered::Shared(msg.clone()), info.publication, via));
    }
}

/// Everyone but the last gets a copy; the last gets the original. `lists` are walked one
/// after the other as one list, without building it.
fn add_owned_msg_to_buffers<M: Message>(msg: UniquePtr<M>, lists: &[&Vec<Listed<M>>], info: &PublishInfo<'_>) {
    let live = |l: &&Listed<M>| l.subscription.strong_count() > 0;
    let mut all = lists.iter().flat_map(|list| list.iter()).filter(live);
    let Some(mut current) = all.next() else { return };
    for next in all {
        if let Some(sub) = current.subscription.upgrade() {
            // "Copy the message since we have additional subscriptions to serve"
            // (intra_process_manager.hpp:584-589 rolling and jazzy, :460-465 humble).
            let copy: UniquePtr<M> = Box::new((*msg).clone());
            info.report_copy(&*msg, &*copy, CopyReason::NotLast);
            sub.provide_unique(copy, info.publication, Via::Copy(CopyReason::NotLast));
        }
        current = next;
    }
    if let Some(last) = current.subscription.upgrade() {
        last.provide_unique(msg, info.publication, Via::Original);
    }
}
