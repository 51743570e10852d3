//! The DDS transport: a message's CDR bytes go to Cyclone DDS as rmw_cyclonedds_cpp hands
//! them (one writer per topic, `rt/<topic>`, the type's DDS name and hash, the endpoint's
//! QoS), and come back from Cyclone's readers. The runtime directory still announces this
//! process, so `ipc-lab ps` shows it with transport `dds`; the bytes never cross its socket.
//!
//! What ipc-lab copies, and reports: the serialization (`serialized`), the hand-over of
//! the CDR bytes to Cyclone (`written`: `dds_writecdr` copies them into Cyclone's sample),
//! the take out of Cyclone's buffer into a buffer of ours (`read`), the deserialization.
//! What Cyclone does in between (its own sample, fragments, resends, reassembly, the
//! kernel's socket copies) is inside the middleware: not counted, not guessed. A sample
//! from DDS says nothing of its sender's process, so its origin claims no copies.
//!
//! Readers ignore this participant's own writers (`ignorelocal`), as rclcpp's
//! intra-process path and the middleware's in-process path already serve this process.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use super::cyclone::{DdsError, Participant, Publications, Reader, Writer};
use super::graph::{Gid, NodeEntitiesInfo, ParticipantEntitiesInfo};
use super::type_hash::{self, PeerType};
use super::{names, qos};
use crate::engine::text::LineText;
use crate::engine::trace::{EventKind, MessageRef, Origin, Publication, QosPolicyKind, FROM_MIDDLEWARE};
use crate::engine::transport::link::{Handle, Link};
use crate::engine::transport::{
    Arrived, FoundPublisher, Handed, Incoming, LocalEntry, LocalKind, OutPayload, Outgoing, Transport, TransportError,
    SCAN_PERIOD,
};
use crate::engine::wire::{Arrival, WireBytes, WireSample};

/// Cyclone DDS beside the runtime directory's announcement.
#[derive(Debug)]
pub(crate) struct DdsTransport {
    link: Handle,
    participant: Participant,
    /// The writer of `ros_discovery_info`: the nodes of this process and their endpoints.
    discovery: Writer,
    /// The writers DDS discovery found, for `ipc-lab echo`.
    publications: Publications,
    state: Mutex<State>,
}

/// The DDS side of this process's graph.
#[derive(Debug, Default)]
struct State {
    /// One writer per publisher, by its id, as rmw_cyclonedds_cpp makes one DDS writer in
    /// every `rmw_create_publisher` (`create_cdds_publisher`, rmw_cyclonedds_cpp/src/rmw_node.cpp,
    /// jazzy).
    writers: HashMap<u64, TopicWriter>,
    /// The nodes as `ros2 node list` sees them, in the order they came.
    nodes: Vec<NodeEntitiesInfo>,
    /// Every local node and endpoint on DDS, until the engine drops it.
    endpoints: Vec<DdsEndpoint>,
}

/// A publisher's DDS writer, its ROS topic and its node.
#[derive(Debug)]
struct TopicWriter {
    topic: Arc<str>,
    node: Arc<str>,
    writer: Arc<Writer>,
    /// Cyclone's count of QoS-incompatible readers, as last reported.
    incompatible: u32,
}

/// A local node, publisher or subscription as the graph lists it.
#[derive(Debug)]
struct DdsEndpoint {
    kind: LocalKind,
    node: Arc<str>,
    /// Its writer's or reader's GUID (none for a node).
    gid: Option<Gid>,
    /// A publisher's id, the key of its writer.
    publisher: u64,
    /// Listed while this is alive.
    alive: Weak<dyn Any + Send + Sync>,
}

impl DdsTransport {
    /// Joins the DDS domain of `link` and publishes an empty graph.
    pub(crate) fn start(link: Handle) -> Result<Arc<dyn Transport>, TransportError> {
        let failed = |e: DdsError| TransportError::Dds(e.to_string());
        let participant = Participant::new(link.domain_id).map_err(failed)?;
        let info_type = names::dds_type_name(ParticipantEntitiesInfo::TYPE_NAME).unwrap_or_default();
        let discovery =
            participant.writer(names::DISCOVERY_TOPIC, &info_type, &qos::discovery_writer_qos()).map_err(failed)?;
        let publications = participant.publications().map_err(failed)?;
        let transport =
            Arc::new(DdsTransport { link, participant, discovery, publications, state: Mutex::new(State::default()) });
        transport.publish_graph();
        let (weak, link) = (Arc::downgrade(&transport), transport.link.shared());
        std::thread::spawn(move || {
            while !link.stopping() {
                std::thread::sleep(SCAN_PERIOD);
                let Some(transport) = weak.upgrade() else { return };
                transport.prune();
                transport.check_writers();
            }
        });
        Ok(transport)
    }

    /// Forgets the nodes and endpoints the engine has dropped, as rmw_cyclonedds does in
    /// `rmw_destroy_publisher` and `rmw_destroy_node`: a writer deleted (Cyclone tells the
    /// peers), its GID out of the graph, and the graph published again.
    fn prune(&self) {
        let changed = {
            let mut state = self.state();
            let State { writers, nodes, endpoints } = &mut *state;
            let (alive, gone): (Vec<_>, Vec<_>) =
                std::mem::take(endpoints).into_iter().partition(|e| e.alive.strong_count() > 0);
            *endpoints = alive;
            for endpoint in &gone {
                if endpoint.kind == LocalKind::Publisher {
                    writers.remove(&endpoint.publisher);
                }
                if let Some(gid) = endpoint.gid {
                    for node in nodes.iter_mut() {
                        node.writer_gid_seq.retain(|g| *g != gid);
                        node.reader_gid_seq.retain(|g| *g != gid);
                    }
                }
            }
            // A node stays while it or one of its endpoints lives (rclcpp's endpoints hold
            // their node).
            nodes.retain(|n| endpoints.iter().any(|e| *e.node == *n.node_name));
            !gone.is_empty()
        };
        if changed {
            self.publish_graph();
        }
    }

    /// Readers elsewhere that ask for more than a writer's QoS offers (a reliable reader of
    /// the best-effort camera, a transient-local reader of a volatile publisher) get
    /// nothing from it: an event on the publisher's node each time Cyclone counts more of
    /// them, as rclcpp's `OfferedIncompatibleQoS` event on the publisher's side.
    fn check_writers(&self) {
        let found: Vec<_> = self
            .state()
            .writers
            .values_mut()
            .filter_map(|w| {
                let qos = w.writer.incompatible_qos().ok().flatten()?;
                (qos.count > w.incompatible).then(|| {
                    w.incompatible = qos.count;
                    (w.node.clone(), w.topic.clone(), qos.policy)
                })
            })
            .collect();
        for (node, topic, policy) in found {
            let kind = match policy {
                "reliability" => QosPolicyKind::Reliability,
                "durability" => QosPolicyKind::Durability,
                // A policy ROS 2's nodes here never set differently (deadline, liveliness):
                // said in the middleware's words.
                other => {
                    self.refused(&format!(
                        "a DDS reader of '{topic}' asks for a {other} QoS this writer does not offer"
                    ));
                    continue;
                }
            };
            let publisher_node = node.clone();
            self.link.tracer.emit(&node, || EventKind::IncompatibleQos {
                topic,
                policy: kind,
                publisher_node,
                offered: true,
            });
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Says in the trace that Cyclone refused something (never a panic).
    fn refused(&self, what: &str) {
        self.link
            .tracer
            .emit(&Arc::from(""), || EventKind::Rejected { from_pid: FROM_MIDDLEWARE, reason: LineText::cut(what) });
    }

    /// Publishes this participant's nodes on `ros_discovery_info`, as rmw_dds_common's
    /// graph cache does after every change (`update_participant_entities`,
    /// rmw_dds_common/src/graph_cache.cpp, rolling).
    fn publish_graph(&self) {
        let Ok(gid) = self.participant.gid() else { return };
        let info = ParticipantEntitiesInfo { gid, node_entities_info_seq: self.state().nodes.clone() };
        if let Err(e) = self.discovery.write(&info.to_cdr()) {
            self.refused(&e.to_string());
        }
    }

    /// The node `name` in the graph, added if new.
    fn node<'s>(state: &'s mut State, name: &str) -> &'s mut NodeEntitiesInfo {
        match state.nodes.iter().position(|n| n.node_name == name) {
            Some(i) => &mut state.nodes[i],
            None => {
                state.nodes.push(NodeEntitiesInfo::new(name));
                state.nodes.last_mut().expect("just pushed")
            }
        }
    }

    /// Creates the DDS writer or reader of a local endpoint; its GID goes into the graph.
    fn add_endpoint(&self, entry: &LocalEntry) -> Result<(), String> {
        let dds_type =
            names::dds_type_name(entry.type_name).ok_or_else(|| format!("no DDS name for {}", entry.type_name))?;
        let mut dds_qos = qos::endpoint_qos(&entry.qos, entry.type_name).map_err(|e| e.to_string())?;
        let topic = names::dds_topic(&entry.topic);
        let mut state = self.state();
        let gid = if entry.kind == LocalKind::Publisher {
            let writer = Arc::new(self.participant.writer(&topic, &dds_type, &dds_qos).map_err(|e| e.to_string())?);
            let gid = writer.gid().map_err(|e| e.to_string())?;
            let (topic, node) = (entry.topic.clone(), entry.node.clone());
            state.writers.insert(entry.publisher, TopicWriter { topic, node, writer, incompatible: 0 });
            Self::node(&mut state, &entry.node).writer_gid_seq.push(gid);
            gid
        } else {
            // The in-process path already serves this participant's own subscriptions.
            dds_qos.ignore_local = true;
            let reader = self.participant.reader(&topic, &dds_type, &dds_qos).map_err(|e| e.to_string())?;
            let gid = reader.gid().map_err(|e| e.to_string())?;
            Self::node(&mut state, &entry.node).reader_gid_seq.push(gid);
            let listener = Listener::new(self.link.shared(), entry, reader);
            std::thread::spawn(move || listener.run());
            gid
        };
        state.endpoints.push(DdsEndpoint::of(entry, Some(gid)));
        Ok(())
    }
}

impl Transport for DdsTransport {
    fn announce(&self, entry: LocalEntry) {
        self.link.announce(entry.clone());
        match entry.kind {
            LocalKind::Node => {
                let mut state = self.state();
                Self::node(&mut state, &entry.node);
                state.endpoints.push(DdsEndpoint::of(&entry, None));
            }
            LocalKind::Publisher | LocalKind::Subscription => {
                if let Err(reason) = self.add_endpoint(&entry) {
                    self.refused(&format!("DDS endpoint on '{}': {reason}", entry.topic));
                }
            }
        }
        self.publish_graph();
    }

    /// The readers Cyclone matched with a writer of `topic`: other participants, each
    /// reader once (every writer of the topic matches the same readers).
    fn remote_subscriber_count(&self, topic: &str) -> usize {
        let writer = self.state().writers.values().find(|w| *w.topic == *topic).map(|w| w.writer.clone());
        writer.and_then(|w| w.matched_readers().ok()).map_or(0, |n| n as usize)
    }

    fn send(&self, out: &Outgoing<'_>) {
        let Some(writer) = self.state().writers.get(&out.header.publisher_id).map(|w| w.writer.clone()) else { return };
        let encoded;
        let bytes = match out.payload {
            OutPayload::Encoded(bytes) => bytes.as_slice(),
            OutPayload::Message(msg) => {
                encoded = msg.to_cdr();
                let bytes = encoded.len();
                self.link.tracer.emit(out.node, || EventKind::Serialized { msg: (out.msg)(), bytes });
                &encoded
            }
        };
        match writer.write(bytes) {
            // dds_writecdr copied the bytes into Cyclone's sample: our hand-over, counted
            // once whatever the number of readers (Cyclone sends that one sample to all).
            Ok(()) => {
                let len = bytes.len();
                self.link.tracer.emit(out.node, || EventKind::Written {
                    msg: (out.msg)(),
                    bytes: len,
                    to_pid: FROM_MIDDLEWARE,
                })
            }
            Err(e) => self.refused(&format!("publishing on '{}': {e}", out.header.topic)),
        }
    }

    fn receive(&self, frame: Incoming) -> Result<Arrived, String> {
        Err(format!("payload kind {} on the socket of a DDS transport: DDS peers talk through DDS", frame.kind))
    }

    /// Leaves the ROS graph at once (an empty node list, as after the last
    /// `rmw_destroy_node`), even if this process exits before the participant goes; a
    /// reader found since the last scan that a writer cannot serve is still reported.
    fn close(&self) {
        self.check_writers();
        self.link.close();
        self.state().nodes.clear();
        self.publish_graph();
    }

    /// The writers of `rt/<topic>` discovery found, their DDS type mapped back to ROS's;
    /// reliable only if all of them are, as `ros2 topic echo` adapts its QoS to the
    /// publishers it finds (`choose_qos`, ros2cli/ros2cli/qos.py, rolling).
    fn found_publisher(&self, topic: &str) -> Option<FoundPublisher> {
        let dds_topic = names::dds_topic(topic);
        let writers: Vec<_> = self.publications.alive().ok()?.into_iter().filter(|w| w.topic == dds_topic).collect();
        let first = writers.first()?;
        let type_name = names::ros_type_name(&first.type_name).unwrap_or_else(|| first.type_name.clone());
        Some(FoundPublisher { type_name, reliable: writers.iter().all(|w| w.reliable) })
    }
}

impl DdsEndpoint {
    fn of(entry: &LocalEntry, gid: Option<Gid>) -> Self {
        let (kind, node, publisher, alive) = (entry.kind, entry.node.clone(), entry.publisher, entry.alive.clone());
        DdsEndpoint { kind, node, gid, publisher, alive }
    }
}

/// Numbers the samples a process takes from DDS: they carry no publisher id of ours.
static SAMPLES: AtomicU64 = AtomicU64::new(1);

/// One subscription's DDS reader and the thread that takes its samples.
struct Listener {
    link: Arc<Link>,
    /// The subscription: the thread ends (and the reader goes) when it does.
    alive: Weak<dyn Any + Send + Sync>,
    reader: Reader,
    topic: Arc<str>,
    type_name: &'static str,
    /// The writers whose type was already reported as another layout.
    reported: HashSet<Gid>,
    /// Cyclone's count of QoS-incompatible writers, as last reported.
    incompatible: u32,
}

impl Listener {
    fn new(link: Arc<Link>, entry: &LocalEntry, reader: Reader) -> Self {
        let (topic, type_name) = (entry.topic.clone(), entry.type_name);
        let alive = entry.alive.clone();
        Self { link, alive, reader, topic, type_name, reported: HashSet::new(), incompatible: 0 }
    }

    fn run(mut self) {
        let mut checked = Instant::now();
        while !self.link.stopping() && self.alive.strong_count() > 0 {
            match self.reader.take(SCAN_PERIOD) {
                Ok(Some(bytes)) => self.hand_over(bytes),
                Ok(None) => {}
                Err(e) => {
                    self.reject(&e.to_string());
                    return;
                }
            }
            if checked.elapsed() >= SCAN_PERIOD {
                checked = Instant::now();
                self.check_peers();
            }
        }
    }

    fn reject(&self, reason: &str) {
        self.link
            .tracer
            .emit(&Arc::from(""), || EventKind::Rejected { from_pid: FROM_MIDDLEWARE, reason: LineText::cut(reason) });
    }

    /// A writer of another layout under our type's name, or one whose QoS cannot reach us:
    /// an event each, once.
    fn check_peers(&mut self) {
        for writer in self.reader.matched_writers().unwrap_or_default() {
            if let PeerType::Different { ours, theirs } = type_hash::compare_peer(self.type_name, &writer.user_data) {
                if self.reported.insert(writer.gid) {
                    let topic = &self.topic;
                    self.reject(&format!(
                        "a DDS writer on '{topic}' sends another {}: {theirs}, ours is {ours}",
                        self.type_name
                    ));
                }
            }
        }
        if let Ok(Some(qos)) = self.reader.incompatible_qos() {
            if qos.count > self.incompatible {
                self.incompatible = qos.count;
                let topic = &self.topic;
                self.reject(&format!("a DDS writer on '{topic}' cannot be heard: incompatible {} QoS", qos.policy));
            }
        }
    }

    /// The sample Cyclone gave (already copied into `bytes`: the `read` event) goes to the
    /// local subscriptions, which decode it or reject it.
    fn hand_over(&self, bytes: Vec<u8>) {
        let publication =
            Publication { pid: FROM_MIDDLEWARE, publisher: 0, seq: SAMPLES.fetch_add(1, Ordering::Relaxed) };
        // The sender is a DDS participant: no process, node or copies of it are known here.
        let origin = Origin {
            pid: FROM_MIDDLEWARE,
            node: Arc::from(""),
            addr: 0,
            copied_bytes: 0,
            serialized_bytes: 0,
            written_bytes: 0,
        };
        let sample = WireSample {
            bytes: WireBytes::Heap(Arc::new(bytes)),
            publication,
            intra_process_context: None,
            arrival: Some(Arrival { origin, segment: None }),
        };
        let arrived = |type_name| {
            self.link.tracer.emit(&Arc::from(""), || {
                let bytes = sample.bytes.as_slice();
                let msg = MessageRef::of_cdr(bytes, self.topic.clone(), type_name, publication);
                EventKind::Read { msg, bytes: bytes.len(), from_pid: FROM_MIDDLEWARE }
            })
        };
        match (self.link.to_local)(&self.topic, self.type_name, &sample, &arrived) {
            Handed::ToSubscriptions | Handed::DomainGone => {}
            Handed::NoSubscription => self.reject(&format!("nobody here subscribes to '{}'", self.topic)),
            Handed::OtherType { local } => {
                self.reject(&format!("topic '{}' carries {local} here, not {}", self.topic, self.type_name))
            }
        }
    }
}
