//! The QoS rules that IPC reads (rclcpp's publisher.hpp, subscription.hpp and
//! intra_process_manager.hpp, humble / jazzy / rolling), checked on the engine's trace
//! events: depth and keep-last overwrites, transient local with its replay to late joiners,
//! the releases that differ, and QoS compatibility on the middleware's path too.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use ipc_lab::engine::msg::std_msgs::Int32;
use ipc_lab::engine::trace::{CopyReason, EventKind, QosPolicyKind, Recorder, TraceEvent, Via};
use ipc_lab::engine::{
    ConstSharedPtr, Context, CreateError, Distro, InitOptions, Node, NodeOptions, QoS, SingleThreadedExecutor,
    UniquePtr,
};
use ipc_lab::ledger::Ledger;

/// A context of its own domain (tests run in parallel in one process) following `distro`.
fn context(distro: Distro) -> (Context, Arc<Recorder>) {
    static DOMAIN: AtomicU32 = AtomicU32::new(1500);
    let recorder = Arc::new(Recorder::default());
    let domain = DOMAIN.fetch_add(1, Ordering::Relaxed);
    let options = InitOptions::default().sink(recorder.clone()).domain_id(domain).distro(distro);
    (Context::init_with(options), recorder)
}

fn ipc() -> NodeOptions {
    NodeOptions::default().use_intra_process_comms(true)
}

/// Runs every callback that has a message, until none has.
fn drain(nodes: &[&Node]) {
    let mut executor = SingleThreadedExecutor::new();
    for node in nodes {
        executor.add_node(node);
    }
    while executor.spin_some() {}
}

/// (node, value, via) of every receipt, in order.
fn receipts(events: &[TraceEvent]) -> Vec<(String, String, Via)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Received { msg, via, .. } => Some((e.node.to_string(), msg.value.to_string(), *via)),
            _ => None,
        })
        .collect()
}

fn count(events: &[TraceEvent], pred: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| pred(&e.kind)).count()
}

fn publish(publisher: &ipc_lab::engine::Publisher<Int32>, values: std::ops::Range<i32>) {
    for data in values {
        publisher.publish(Box::new(Int32 { data }));
    }
}

/// Humble throws for transient local with IPC (publisher.hpp:200-203 humble), in one clear
/// line; Jazzy and rolling accept it. Without IPC every release accepts it.
#[test]
fn humble_refuses_transient_local_with_ipc() {
    let (humble, _) = context(Distro::Humble);
    let node = Node::new(&humble, "n", ipc()).unwrap();
    let refused = node.create_publisher::<Int32>("t", QoS::keep_last(1).transient_local()).err();
    assert_eq!(refused, Some(CreateError::VolatileDurabilityOnly { topic: "t".into() }));
    assert_eq!(
        refused.unwrap().to_string(),
        "intraprocess communication allowed only with volatile durability (topic 't')"
    );
    let sub = node.create_subscription("u", QoS::keep_last(1).transient_local(), |_: UniquePtr<Int32>| {});
    assert!(matches!(sub.err(), Some(CreateError::VolatileDurabilityOnly { .. })));
    let plain = Node::new(&humble, "plain", NodeOptions::default()).unwrap();
    assert!(plain.create_publisher::<Int32>("v", QoS::keep_last(1).transient_local()).is_ok());
    for distro in [Distro::Jazzy, Distro::Rolling] {
        let (ctx, _) = context(distro);
        let node = Node::new(&ctx, "n", ipc()).unwrap();
        assert!(node.create_publisher::<Int32>("t", QoS::keep_last(1).transient_local()).is_ok());
    }
}

/// Keep-last depth 0 is the middleware's default depth (one message), with IPC on or off:
/// rclcpp checks the QoS the middleware reports back (get_actual_qos, publisher.hpp:158
/// and subscription.hpp:147 rolling, since rclcpp #2707 for publishers), and Cyclone DDS
/// and Fast DDS report keep last 1. No release named here refuses it.
#[test]
fn depth_zero_is_the_middlewares_default_with_ipc_or_without() {
    for (distro, options) in
        [(Distro::Rolling, ipc()), (Distro::Humble, ipc()), (Distro::Rolling, NodeOptions::default())]
    {
        let (ctx, recorder) = context(distro);
        let node = Node::new(&ctx, "n", options).unwrap();
        let publisher = node.create_publisher::<Int32>("t", 0).unwrap();
        let _sub = node.create_subscription("t", 0, |_: UniquePtr<Int32>| {}).unwrap();
        publish(&publisher, 0..2);
        drain(&[&node]);
        let events = recorder.events();
        assert_eq!(count(&events, |k| matches!(k, EventKind::Overwritten { .. })), 1, "{distro:?}");
        assert_eq!(receipts(&events).iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["1"], "{distro:?}");
    }
}

/// Two owners, depth 1, three messages published before the executor gets to them (a slow
/// consumer): the first owner's copies were made at publish time, and two of them were then
/// overwritten unread. The ledger files them as dropped, not as received.
#[test]
fn a_copy_for_a_non_last_owner_is_paid_even_when_overwritten() {
    let (ctx, recorder) = context(Distro::Rolling);
    let node = Node::new(&ctx, "n", ipc()).unwrap();
    let publisher = node.create_publisher::<Int32>("t", 1).unwrap();
    let first = Node::new(&ctx, "first", ipc()).unwrap();
    let last = Node::new(&ctx, "last", ipc()).unwrap();
    let _a = first.create_subscription("t", 1, |_: UniquePtr<Int32>| {}).unwrap();
    let _b = last.create_subscription("t", 1, |_: UniquePtr<Int32>| {}).unwrap();
    publish(&publisher, 0..3);
    drain(&[&first, &last]);
    let events = recorder.events();
    let copies = count(&events, |k| matches!(k, EventKind::Copied { reason: CopyReason::NotLast, .. }));
    assert_eq!(copies, 3, "one copy per publish, made at once");
    assert_eq!(count(&events, |k| matches!(k, EventKind::Overwritten { .. })), 4);
    let got = receipts(&events);
    assert_eq!(got.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["2", "2"]);
    let mut ledger = Ledger::default();
    events.iter().for_each(|e| drop(ledger.record(e)));
    let totals = ledger.totals();
    assert_eq!((totals.claimed.copies, totals.dropped.copies, totals.overwritten), (1, 2, 4));
}

/// Transient local with IPC (jazzy and later): the publisher keeps its last `depth`
/// messages and a late-joining transient-local subscription gets them, oldest first: a
/// sharer the kept messages themselves, an owner a copy of each. A volatile late joiner
/// gets nothing old.
#[test]
fn late_joiners_get_what_a_transient_local_publisher_keeps() {
    let (ctx, recorder) = context(Distro::Jazzy);
    let node = Node::new(&ctx, "map_server", ipc()).unwrap();
    let qos = QoS::keep_last(2).transient_local();
    let publisher = node.create_publisher::<Int32>("map", qos).unwrap();
    publish(&publisher, 0..3);
    let late = Node::new(&ctx, "late", ipc()).unwrap();
    let _shared = late.create_subscription("map", qos, |_: ConstSharedPtr<Int32>| {}).unwrap();
    let owner = Node::new(&ctx, "owner", ipc()).unwrap();
    let _owner = owner.create_subscription("map", qos, |_: UniquePtr<Int32>| {}).unwrap();
    let volatile = Node::new(&ctx, "volatile", ipc()).unwrap();
    let _volatile = volatile.create_subscription("map", 2, |_: UniquePtr<Int32>| {}).unwrap();
    drain(&[&late, &owner, &volatile]);
    let events = recorder.events();
    assert_eq!(count(&events, |k| matches!(k, EventKind::Kept { .. })), 3);
    let got = receipts(&events);
    let values = |node: &str| got.iter().filter(|r| r.0 == node).map(|r| (r.1.clone(), r.2)).collect::<Vec<_>>();
    assert_eq!(values("late"), [("1".into(), Via::Original), ("2".into(), Via::Original)]);
    let copied = Via::Copy(CopyReason::UniqueFromSharedBuffer);
    assert_eq!(values("owner"), [("1".into(), copied), ("2".into(), copied)]);
    assert!(values("volatile").is_empty());
    // The sharer reads the very messages that were published.
    let published: Vec<usize> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Published { msg } => Some(msg.addr),
            _ => None,
        })
        .collect();
    let late_addrs: Vec<usize> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Received { msg, .. } if &*e.node == "late" => Some(msg.addr),
            _ => None,
        })
        .collect();
    assert_eq!(late_addrs, published[1..]);
}

/// Two messages from a transient-local publisher to an owning subscription of the same
/// process, keep last `depth`, under `distro`'s rules: what happened.
fn two_to_an_owner(distro: Distro, depth: usize) -> Vec<TraceEvent> {
    let (ctx, recorder) = context(distro);
    let node = Node::new(&ctx, "p", ipc()).unwrap();
    let qos = QoS::keep_last(depth).transient_local();
    let publisher = node.create_publisher::<Int32>("t", qos).unwrap();
    let owner = Node::new(&ctx, "owner", ipc()).unwrap();
    let _sub = owner.create_subscription("t", qos, |_: UniquePtr<Int32>| {}).unwrap();
    publish(&publisher, 0..2);
    drain(&[&owner]);
    recorder.events()
}

/// Rolling (rclcpp 29.3.0, PR #2708): a transient-local IPC publisher always publishes to
/// the middleware, even with nobody outside its process: the serialization shows. Jazzy
/// (28.1.6) does not. Both keep an extra shared copy when an owner exists.
#[test]
fn rolling_always_serializes_a_transient_local_message() {
    for (distro, serialized) in [(Distro::Jazzy, 0), (Distro::Rolling, 2)] {
        let events = two_to_an_owner(distro, 5);
        assert_eq!(count(&events, |k| matches!(k, EventKind::Serialized { .. })), serialized, "{distro:?}");
        let kept_copies =
            count(&events, |k| matches!(k, EventKind::Copied { reason: CopyReason::SharedForTransientLocal, .. }));
        assert_eq!(kept_copies, 2, "{distro:?}");
        let via: Vec<Via> = receipts(&events).into_iter().map(|r| r.2).collect();
        assert_eq!(via, [Via::Original, Via::Original], "{distro:?}: the owner still gets the original");
        let mut ledger = Ledger::default();
        events.iter().for_each(|e| drop(ledger.record(e)));
        let totals = ledger.totals();
        assert_eq!(totals.kept.copies, 2 + serialized as u64, "{distro:?}");
        assert_eq!(totals.in_flight.copies, 0, "{distro:?}");
    }
}

/// A subscription keeps what the IPM gives it and what the middleware gives it in two
/// queues of its depth, as rclcpp does (the intra-process ring buffer, and the rmw reader's
/// history): from rolling on a transient-local publisher also publishes to the middleware,
/// and those duplicates must not push the intra-process messages out of a queue that holds
/// exactly what was published.
#[test]
fn the_middlewares_duplicates_do_not_overwrite_intra_process_messages() {
    let events = two_to_an_owner(Distro::Rolling, 2);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Overwritten { .. })), 0);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Discarded { .. })), 2, "both duplicates arrive");
    let got: Vec<(String, Via)> = receipts(&events).into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(got, [("0".to_string(), Via::Original), ("1".to_string(), Via::Original)]);
}

/// QoS compatibility holds on the middleware's path too (IPC off): a best-effort publisher
/// does not reach a reliable subscription, which hears why; a best-effort subscription of
/// the same topic still gets the message.
#[test]
fn the_middleware_matches_reliability_too() {
    let (ctx, recorder) = context(Distro::Rolling);
    let camera = Node::new(&ctx, "camera", NodeOptions::default()).unwrap();
    let publisher = camera.create_publisher::<Int32>("image", QoS::keep_last(5).best_effort()).unwrap();
    let strict = Node::new(&ctx, "strict", NodeOptions::default()).unwrap();
    let _strict = strict.create_subscription("image", 5, |_: UniquePtr<Int32>| {}).unwrap();
    let relaxed = Node::new(&ctx, "relaxed", NodeOptions::default()).unwrap();
    let _relaxed = relaxed.create_subscription("image", QoS::sensor_data(), |_: UniquePtr<Int32>| {}).unwrap();
    publish(&publisher, 0..1);
    drain(&[&strict, &relaxed]);
    let events = recorder.events();
    let nodes: Vec<String> = receipts(&events).into_iter().map(|r| r.0).collect();
    assert_eq!(nodes, ["relaxed"]);
    let reported: Vec<(String, QosPolicyKind)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::IncompatibleQos { policy, .. } => Some((e.node.to_string(), *policy)),
            _ => None,
        })
        .collect();
    assert_eq!(reported, [("strict".to_string(), QosPolicyKind::Reliability)]);
}

/// The `copies` experiment with the QoS options: three messages, depth 2, subscriptions
/// made after publishing. Transient local: the last two reach both late joiners (the owner
/// through copies); volatile: nothing does.
#[test]
fn the_copies_experiment_takes_late_joiners() {
    use ipc_lab::demos::copies::{self, Setup, Spec};
    for (qos, expected) in [(QoS::keep_last(2).transient_local(), 4), (QoS::keep_last(2), 0)] {
        let (ctx, recorder) = context(Distro::Jazzy);
        let setup = Setup { qos, messages: 3, late: true, ..Setup::default() };
        copies::main(&ctx, &"S,U".parse::<Spec>().unwrap(), setup).unwrap();
        let events = recorder.events();
        let got = receipts(&events);
        assert_eq!(got.len(), expected, "{qos:?}: {got:?}");
        assert!(got.iter().all(|r| r.1 != "42"), "the oldest left the publisher's buffer: {got:?}");
    }
}

/// A volatile publisher with transient-local subscriptions: durability is incompatible
/// (qos_check_compatible, qos.cpp rolling), on the IPC path and the middleware's alike;
/// each pair says so and nothing arrives. With volatile subscriptions the same publisher
/// reaches them.
#[test]
fn a_volatile_publisher_does_not_reach_transient_local_subscriptions() {
    use ipc_lab::demos::copies::{self, Setup, Spec};
    for (qos, received, refused) in [(QoS::keep_last(2).transient_local(), 0, 2), (QoS::keep_last(2), 2, 0)] {
        let (ctx, recorder) = context(Distro::Jazzy);
        let setup = Setup { qos, volatile_publisher: true, inter_process: true, ..Setup::default() };
        copies::main(&ctx, &"U".parse::<Spec>().unwrap(), setup).unwrap();
        let events = recorder.events();
        assert_eq!(receipts(&events).len(), received, "{qos:?}");
        let durability =
            count(&events, |k| matches!(k, EventKind::IncompatibleQos { policy: QosPolicyKind::Durability, .. }));
        assert_eq!(durability, refused, "{qos:?}: the IPC subscription and the one outside it");
    }
}

/// The middleware keeps a transient-local writer's last `depth` samples, as a DDS writer's
/// history, for a transient-local subscription outside the IPM that joins later. What it
/// keeps is what it was given: a rolling publisher (29.3.0, PR #2708) always hands its
/// messages to the middleware, a Jazzy one (28.1.6) only while someone outside its IPM
/// subscribes, so Jazzy's late joiner outside gets nothing old (rclcpp issue #2704).
#[test]
fn a_late_joiner_outside_the_ipm_gets_the_middlewares_history_from_rolling_on() {
    use ipc_lab::demos::copies::{self, Setup, Spec, INTER_PROCESS_NODE};
    let transient = QoS::keep_last(2).transient_local();
    for (distro, qos, expected) in [
        (Distro::Jazzy, transient, vec![]),
        (Distro::Rolling, transient, vec!["43", "44"]),
        (Distro::Rolling, QoS::keep_last(2), vec![]),
    ] {
        let (ctx, recorder) = context(distro);
        let setup = Setup { qos, messages: 3, late: true, inter_process: true, ..Setup::default() };
        copies::main(&ctx, &"U".parse::<Spec>().unwrap(), setup).unwrap();
        let events = recorder.events();
        let outside: Vec<String> = receipts(&events)
            .into_iter()
            .filter(|r| r.0 == INTER_PROCESS_NODE)
            .inspect(|r| assert_eq!(r.2, Via::Middleware))
            .map(|r| r.1)
            .collect();
        assert_eq!(outside, expected, "{distro:?} {qos:?}");
    }
}
