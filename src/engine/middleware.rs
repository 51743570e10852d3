//! The middleware path: what a message takes when intra-process communication does not
//! apply. A stand-in for DDS inside one process: the publisher serializes to CDR, the
//! bytes are handed to every matched subscription, and each subscription deserializes
//! them into a new message when its callback runs.
//!
//! Within a process every endpoint of a domain is matched at once, so no early message is
//! lost. A transient-local publisher's samples are kept, as a DDS writer's history of its
//! depth, for subscriptions of this process that join later. When the context enables a transport ([`super::transport`]), the domain also reaches the
//! subscriptions of other processes, and theirs reach it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::intra_process::incompatible_policy;
use super::qos::{Durability, History, QoS};
use super::ring_buffer::RingBuffer;
use super::trace::{EventKind, Tracer};
use super::transport::{Handed, ToLocalSubscriptions, Transport};
use super::wire::WireSample;

/// A subscription as the middleware sees it.
pub(crate) trait WireSubscription: Send + Sync {
    /// Queues the sample and wakes the subscription's executor; it is decoded when the
    /// callback is about to run.
    fn enqueue(&self, sample: WireSample);
}

/// A subscription registered with the middleware.
struct Endpoint {
    /// The context that created it: an intra-process subscription already gets the
    /// messages of intra-process publishers of the same context from the IPM.
    context_id: u64,
    /// Whether it is an intra-process subscription.
    intra: bool,
    /// The `ignore_local_publications` subscription option: the middleware does not deliver
    /// what publishers of the same context (rmw's participant) send.
    ignore_local_publications: bool,
    /// The subscription itself; gone when its handle is dropped.
    subscription: Weak<dyn WireSubscription>,
    /// Its node, which an incompatible-QoS event names.
    node: Arc<str>,
    /// Its QoS: the middleware matches a publisher and a subscription only when
    /// `can_communicate` would (DDS checks the same request-offer rules).
    qos: QoS,
    /// Its context's tracer, for the incompatible-QoS events of its side.
    tracer: Tracer,
}

/// A publisher registered with the middleware: only so that a subscription with a QoS it
/// cannot serve hears of it when they meet, as DDS discovery reports it.
struct Writer {
    node: Arc<str>,
    /// Its context and whether it uses IPC: the IPM reports its own pairs.
    context_id: u64,
    /// The publisher's id within its context (`Publication::publisher`).
    id: u64,
    intra: bool,
    qos: QoS,
    /// Registered while this is alive.
    alive: Weak<dyn std::any::Any + Send + Sync>,
    /// A transient-local writer's history: the last `depth` samples handed to the
    /// middleware, given to a transient-local subscription that joins later, as DDS does.
    /// Only what reaches the middleware is kept: a Jazzy (28.1.6) publisher with IPC hands
    /// it nothing while nobody outside its IPM subscribes (rclcpp #2704).
    history: Option<RingBuffer<WireSample>>,
}

impl Writer {
    /// Whether a subscription that joins gets this writer's history.
    fn replays_to(&self, endpoint: &Endpoint) -> bool {
        let sender = Sender { context_id: self.context_id, intra: self.intra, qos: self.qos };
        endpoint.qos.durability == Durability::TransientLocal
            && self.alive.strong_count() > 0
            && sender.reaches(endpoint)
    }
}

/// Everything on one topic.
struct Topic {
    /// The ROS type name of the first endpoint; a second type on the same topic is refused.
    type_name: &'static str,
    /// Its subscriptions, in the order they were added.
    endpoints: Vec<Endpoint>,
    /// Its publishers.
    writers: Vec<Writer>,
}

/// One domain: the endpoints that can hear each other.
pub(crate) struct Domain {
    /// `ROS_DOMAIN_ID`: only endpoints of one domain hear each other.
    pub(crate) id: u32,
    /// Every topic with a subscription or a publisher in this process.
    topics: Mutex<HashMap<Arc<str>, Topic>>,
    /// Counts the subscriptions added so far: a publisher that found no local subscription
    /// needing the middleware keeps that answer while this has not moved, instead of
    /// looking again on every publish (rclcpp reads matched counts that discovery keeps).
    generation: AtomicU64,
    /// The way to other processes, once a context asks for it.
    pub(crate) transport: OnceLock<Arc<dyn Transport>>,
}

impl Drop for Domain {
    fn drop(&mut self) {
        if let Some(transport) = self.transport.get() {
            transport.close();
        }
    }
}

/// Who publishes, as far as matching is concerned.
pub(crate) struct Sender {
    /// The publisher's context.
    pub(crate) context_id: u64,
    /// Whether the publisher uses intra-process communication.
    pub(crate) intra: bool,
    /// Its QoS, matched against each subscription's.
    pub(crate) qos: QoS,
}

impl Sender {
    /// An intra-process subscription of the same context got this message from the IPM:
    /// rclcpp's publisher leaves it out when it counts who needs the middleware
    /// (`get_subscription_count() > get_intra_process_subscription_count()`,
    /// publisher.hpp `publish`).
    fn already_served(&self, endpoint: &Endpoint) -> bool {
        self.intra && endpoint.intra && self.context_id == endpoint.context_id
    }

    /// Whether the middleware hands this sender's messages to `endpoint`. It does to every
    /// matched reader, those the IPM served included (they discard the duplicate after
    /// paying for it), except a reader that ignores local publications. A reader whose QoS
    /// the sender cannot serve is not matched.
    fn reaches(&self, endpoint: &Endpoint) -> bool {
        !(endpoint.ignore_local_publications && self.context_id == endpoint.context_id) && self.matches(endpoint)
    }

    /// `can_communicate`'s QoS rules, on the middleware's side too.
    fn matches(&self, endpoint: &Endpoint) -> bool {
        incompatible_policy(&self.qos, &endpoint.qos).is_none()
    }
}

/// A pair the IPM matches, and reports about, itself: both use IPC in one context.
fn ipm_pair(writer: &Writer, endpoint: &Endpoint) -> bool {
    writer.intra && endpoint.intra && writer.context_id == endpoint.context_id
}

/// Reports a publisher and a subscription of the middleware that cannot communicate, on
/// the subscription's side (rclcpp's `RequestedIncompatibleQoS`), unless the IPM does.
fn report_incompatible(topic: &Arc<str>, writer: &Writer, endpoint: &Endpoint) {
    if ipm_pair(writer, endpoint) || endpoint.subscription.strong_count() == 0 || writer.alive.strong_count() == 0 {
        return;
    }
    if let Some(policy) = incompatible_policy(&writer.qos, &endpoint.qos) {
        let publisher_node = writer.node.clone();
        endpoint.tracer.emit(&endpoint.node, || EventKind::IncompatibleQos {
            topic: topic.clone(),
            policy,
            publisher_node,
            offered: false,
        });
    }
}

/// A publisher as the middleware registers it.
pub(crate) struct NewWriter {
    pub(crate) node: Arc<str>,
    pub(crate) context_id: u64,
    /// The publisher's id within its context.
    pub(crate) id: u64,
    pub(crate) intra: bool,
    pub(crate) qos: QoS,
    /// The publisher, registered while it lives.
    pub(crate) alive: Weak<dyn std::any::Any + Send + Sync>,
}

impl Sender {}

/// A subscription as the middleware registers it.
pub(crate) struct NewEndpoint {
    /// The subscription's context.
    pub(crate) context_id: u64,
    /// Whether it is an intra-process subscription.
    pub(crate) intra: bool,
    /// The `ignore_local_publications` subscription option.
    pub(crate) ignore_local_publications: bool,
    /// The subscription itself.
    pub(crate) subscription: Weak<dyn WireSubscription>,
    /// Its node.
    pub(crate) node: Arc<str>,
    /// Its QoS.
    pub(crate) qos: QoS,
    /// Its context's tracer.
    pub(crate) tracer: Tracer,
}

impl Domain {
    /// The process-wide domain with this id, created on first use.
    pub(crate) fn join(id: u32) -> Arc<Domain> {
        static DOMAINS: OnceLock<Mutex<HashMap<u32, Weak<Domain>>>> = OnceLock::new();
        let mut domains = DOMAINS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        domains.retain(|_, d| d.strong_count() > 0);
        if let Some(domain) = domains.get(&id).and_then(Weak::upgrade) {
            return domain;
        }
        let domain = Arc::new(Domain {
            id,
            topics: Mutex::default(),
            generation: AtomicU64::new(1),
            transport: OnceLock::new(),
        });
        domains.insert(id, Arc::downgrade(&domain));
        domain
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Topic>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `topic` for `type_name`; returns the type already there if it differs.
    pub(crate) fn check_type(&self, topic: &Arc<str>, type_name: &'static str) -> Result<(), &'static str> {
        let mut topics = self.lock();
        let entry = topics.entry(topic.clone()).or_insert_with(|| Topic {
            type_name,
            endpoints: Vec::new(),
            writers: Vec::new(),
        });
        entry.endpoints.retain(|e| e.subscription.strong_count() > 0);
        entry.writers.retain(|w| w.alive.strong_count() > 0);
        if entry.type_name == type_name {
            Ok(())
        } else {
            Err(entry.type_name)
        }
    }

    /// Registers a subscription; it hears of every publisher here that cannot serve it, and
    /// a transient-local one gets what transient-local publishers kept, oldest first.
    pub(crate) fn add_subscription(&self, topic: &Arc<str>, new: NewEndpoint) {
        let NewEndpoint { context_id, intra, ignore_local_publications, subscription, node, qos, tracer } = new;
        let mut replay = Vec::new();
        let joined = subscription.clone();
        if let Some(entry) = self.lock().get_mut(topic) {
            let endpoint = Endpoint { context_id, intra, ignore_local_publications, subscription, node, qos, tracer };
            for writer in &entry.writers {
                report_incompatible(topic, writer, &endpoint);
                if let Some(history) = writer.history.as_ref().filter(|_| writer.replays_to(&endpoint)) {
                    replay.extend(history.iter().cloned());
                }
            }
            entry.endpoints.push(endpoint);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        // Handed over outside the lock, as `distribute` does.
        if let Some(subscription) = joined.upgrade() {
            replay.into_iter().for_each(|sample| subscription.enqueue(sample));
        }
    }

    /// Registers a publisher; every subscription here that it cannot serve hears of it.
    pub(crate) fn add_publisher(&self, topic: &Arc<str>, new: NewWriter) {
        let NewWriter { node, context_id, id, intra, qos, alive } = new;
        let history = match (qos.durability, qos.history) {
            (Durability::Volatile, _) => None,
            (Durability::TransientLocal, History::KeepLast(depth)) => Some(RingBuffer::new(depth)),
            (Durability::TransientLocal, History::KeepAll) => Some(RingBuffer::new(usize::MAX)),
        };
        if let Some(entry) = self.lock().get_mut(topic) {
            let writer = Writer { node, context_id, id, intra, qos, alive, history };
            for endpoint in &entry.endpoints {
                report_incompatible(topic, &writer, endpoint);
            }
            entry.writers.push(writer);
        }
    }

    /// Whether a message from `sender` must also take the middleware path: some live
    /// subscription is outside the sender's intra-process reach, here or in another process.
    ///
    /// `none_local_at` is the sender's memory of the last answer: the generation at which no
    /// local subscription needed the middleware (0: unknown).
    pub(crate) fn has_other_subscribers(&self, topic: &str, sender: &Sender, none_local_at: &AtomicU64) -> bool {
        let generation = self.generation.load(Ordering::Acquire);
        let local = none_local_at.load(Ordering::Relaxed) != generation && {
            let found = self.lock().get(topic).is_some_and(|t| {
                t.endpoints
                    .iter()
                    .any(|e| e.subscription.strong_count() > 0 && !sender.already_served(e) && sender.matches(e))
            });
            if !found {
                none_local_at.store(generation, Ordering::Relaxed);
            }
            found
        };
        local || self.transport.get().is_some_and(|t| t.remote_subscriber_count(topic) > 0)
    }

    /// Whether [`Domain::distribute`] hands a message from `sender` to some live subscription
    /// of this process (which then needs the bytes on its heap).
    pub(crate) fn has_local_readers(&self, topic: &str, sender: &Sender) -> bool {
        self.lock()
            .get(topic)
            .is_some_and(|t| t.endpoints.iter().any(|e| e.subscription.strong_count() > 0 && sender.reaches(e)))
    }

    /// Live subscriptions of `topic` in this process, for rclcpp's subscription count.
    pub(crate) fn local_subscription_count(&self, topic: &str) -> usize {
        self.lock().get(topic).map_or(0, |t| t.endpoints.iter().filter(|e| e.subscription.strong_count() > 0).count())
    }

    /// The transport's way into this domain: bytes from another process go to every local
    /// subscription of their topic. A callback holding a weak handle, because the domain
    /// owns the transport and the transport must not know the domain.
    pub(crate) fn from_other_processes(self: &Arc<Self>) -> ToLocalSubscriptions {
        let domain = Arc::downgrade(self);
        Box::new(move |topic, type_name, sample, arrived| match domain.upgrade() {
            Some(domain) => domain.distribute_from_process(topic, type_name, sample, arrived),
            None => Handed::DomainGone,
        })
    }

    /// Bytes from another process: every local subscription of the topic gets them, after
    /// `arrived` is told the topic's type.
    fn distribute_from_process(
        &self,
        topic: &str,
        type_name: &str,
        sample: &WireSample,
        arrived: &dyn Fn(&'static str),
    ) -> Handed {
        let (local_type, targets): (_, Vec<_>) = match self.lock().get(topic) {
            Some(t) if t.type_name != type_name => return Handed::OtherType { local: t.type_name },
            Some(t) => (t.type_name, t.endpoints.iter().filter_map(|e| e.subscription.upgrade()).collect()),
            None => return Handed::NoSubscription,
        };
        arrived(local_type);
        for subscription in targets {
            subscription.enqueue(sample.clone());
        }
        Handed::ToSubscriptions
    }

    /// Hands `sample` to every matched subscription the middleware reaches: the middleware's
    /// part of `do_inter_process_publish` within this process. Like DDS, also to those that
    /// already have it from the IPM (they take it and discard it).
    pub(crate) fn distribute(&self, topic: &str, sender: &Sender, sample: &WireSample) {
        let targets: Vec<_> = match self.lock().get_mut(topic) {
            Some(t) => {
                let writer = t
                    .writers
                    .iter_mut()
                    .find(|w| w.context_id == sender.context_id && w.id == sample.publication.publisher);
                if let Some(history) = writer.and_then(|w| w.history.as_mut()) {
                    history.push(sample.clone());
                }
                t.endpoints.iter().filter(|e| sender.reaches(e)).filter_map(|e| e.subscription.upgrade()).collect()
            }
            None => return,
        };
        // Handed over outside the lock: a subscription wakes its executor from here.
        for subscription in targets {
            subscription.enqueue(sample.clone());
        }
    }
}
