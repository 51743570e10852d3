//! The intra-process manager's copy rules, checked on the trace events of the real engine
//! for every row of the design table (REFERENCE.md section 2), and with a subscriber
//! outside the IPM's reach.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use ipc_lab::demos::copies::{self, Setup, Spec, DESIGN_TABLE, INTER_PROCESS_NODE};
use ipc_lab::engine::msg::std_msgs::Int32;
use ipc_lab::engine::trace::{CopyReason, DiscardReason, EventKind, QosPolicyKind, Recorder, TraceEvent, Via};
use ipc_lab::engine::{Context, InitOptions, Node, NodeOptions, QoS, SingleThreadedExecutor, UniquePtr};

/// Runs the copies experiment and returns its events. Each run gets its own domain: tests
/// run in parallel threads of one process, and one domain's endpoints all hear each other.
fn run(spec: &str, inter: bool) -> Vec<TraceEvent> {
    static DOMAIN: AtomicU32 = AtomicU32::new(100);
    let domain = DOMAIN.fetch_add(1, Ordering::Relaxed);
    let recorder = Arc::new(Recorder::default());
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(domain));
    let setup = Setup { inter_process: inter, ..Setup::default() };
    copies::main(&ctx, &spec.parse::<Spec>().unwrap(), setup).unwrap();
    recorder.events()
}

/// Per receiving node: the address it got and how.
fn received(events: &[TraceEvent]) -> BTreeMap<String, (usize, Via)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Received { msg, via, .. } => Some((e.node.to_string(), (msg.addr, *via))),
            _ => None,
        })
        .collect()
}

fn published_addr(events: &[TraceEvent]) -> usize {
    events
        .iter()
        .find_map(|e| matches!(e.kind, EventKind::Published { .. }).then(|| e.kind.message().unwrap().addr))
        .unwrap()
}

/// The design table's notation for what each subscription got: `@1` is the original,
/// copies are numbered by first appearance from left to right.
fn notation(spec: &str, inter: bool) -> Vec<String> {
    let events = run(spec, inter);
    let original = published_addr(&events);
    let got = received(&events);
    let mut labels: Vec<usize> = vec![original];
    let n = spec.split(',').count();
    (1..=n)
        .map(|i| {
            let (addr, _) = got[&copies::subscriber_name(i)];
            let index = labels.iter().position(|&a| a == addr).unwrap_or_else(|| {
                labels.push(addr);
                labels.len() - 1
            });
            format!("@{}", index + 1)
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn copy_reasons(events: &[TraceEvent]) -> Vec<CopyReason> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Copied { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

/// Every row of the design table. The table names which addresses occur, not who gets
/// which; who gets the original is the rule "the last owner in the list", checked below.
#[test]
fn design_table_rows_come_out_of_the_engine() {
    assert_eq!(DESIGN_TABLE.len(), 7, "every row of REFERENCE.md's table");
    for &(spec, expected) in DESIGN_TABLE {
        let got = notation(spec, false);
        let expected: Vec<String> = expected.split(',').map(String::from).collect();
        assert_eq!(sorted(got.clone()), sorted(expected), "row {spec}: got {got:?}");
    }
}

/// The last owner added gets the original; owners before it get copies.
#[test]
fn the_last_owner_gets_the_original() {
    assert_eq!(notation("U,U", false), ["@2", "@1"]);
    assert_eq!(notation("U,U,S,S", false), ["@2", "@1", "@3", "@3"]);
    assert_eq!(notation("U,S", false), ["@1", "@2"]);
}

/// With no owner, the message is promoted to shared: zero copies, one address for all.
#[test]
fn shared_only_makes_no_copy() {
    let events = run("S,S,S", false);
    assert!(copy_reasons(&events).is_empty());
    let original = published_addr(&events);
    assert!(received(&events).values().all(|&(addr, via)| addr == original && via == Via::Original));
}

/// Two or more shared subscriptions with an owner: one copy, shared by the shared ones.
#[test]
fn shared_subscriptions_share_one_copy() {
    let events = run("U,S,S", false);
    assert_eq!(copy_reasons(&events), [CopyReason::SharedForSharedSubscriptions]);
}

/// A subscriber outside the IPM with owners present: one shared copy first, for the shared
/// subscriptions and the middleware; the owner still gets the original; the outsider gets
/// a message deserialized from that copy's bytes.
#[test]
fn inter_process_subscriber_costs_one_shared_copy() {
    let events = run("U,S", true);
    assert_eq!(copy_reasons(&events), [CopyReason::SharedForInterProcess]);
    let original = published_addr(&events);
    let got = received(&events);
    assert_eq!(got["sub1"], (original, Via::Original));
    assert_eq!(got["sub2"].1, Via::Copy(CopyReason::SharedForInterProcess));
    assert_eq!(got[INTER_PROCESS_NODE].1, Via::Middleware);
    // The bytes were serialized from the shared copy, not from the original.
    let copy_addr = got["sub2"].0;
    let serialized_from = events.iter().find_map(|e| match &e.kind {
        EventKind::Serialized { msg, .. } => Some(msg.addr),
        _ => None,
    });
    assert_eq!(serialized_from, Some(copy_addr));
}

/// With no owner, an outsider costs no intra-process copy: the message is shared as is
/// and serialized from the original.
#[test]
fn inter_process_without_owners_shares_the_original() {
    let events = run("S", true);
    assert!(copy_reasons(&events).is_empty());
    let original = published_addr(&events);
    assert_eq!(received(&events)["sub1"], (original, Via::Original));
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Serialized { msg, .. } if msg.addr == original)));
}

/// An intra-process subscription's callback never runs twice for one publication: the
/// middleware's copy of a message it already got from the IPM is discarded.
#[test]
fn no_subscription_receives_twice() {
    let events = run("U,S,S", true);
    let receipts = events.iter().filter(|e| matches!(e.kind, EventKind::Received { .. })).count();
    assert_eq!(receipts, 4);
    assert_eq!(received(&events).len(), 4);
}

/// rclcpp sorts four callback signatures: only `ConstSharedPtr` shares; `const T &` (R) and
/// `SharedPtr` (P) are owners, so they get copies as `UniquePtr` (U) does.
#[test]
fn ref_and_shared_ptr_callbacks_are_owners() {
    assert_eq!(notation("R", false), ["@1"]);
    assert_eq!(notation("R,R", false), ["@2", "@1"]);
    assert_eq!(copy_reasons(&run("R,R", false)), [CopyReason::NotLast]);
    // One owner (P) and one sharer: the sharer comes first in the list and gets the copy.
    assert_eq!(notation("P,S", false), ["@1", "@2"]);
    assert_eq!(copy_reasons(&run("P,S", false)), [CopyReason::NotLast]);
    assert_eq!(notation("R,P,U", false), ["@2", "@3", "@1"]);
}

/// `intra_process_buffer_type`: the buffer, not the callback, decides how the IPM counts a
/// subscription. A `UniquePtr` callback behind a `SharedPtr` buffer is a sharer for the
/// IPM, and its copy is made when it takes the message (`consume_unique`); a
/// `ConstSharedPtr` callback behind a `UniquePtr` buffer is an owner and gets the original.
#[test]
fn the_buffer_type_decides_who_is_an_owner() {
    let events = run("U/S", false);
    assert_eq!(copy_reasons(&events), [CopyReason::UniqueFromSharedBuffer]);
    assert_eq!(received(&events)["sub1"].1, Via::Copy(CopyReason::UniqueFromSharedBuffer));
    // Two sharers for the IPM: no copy at publish time, one at take time.
    assert_eq!(copy_reasons(&run("U/S,S", false)), [CopyReason::UniqueFromSharedBuffer]);
    // Owner U and owner S/U: the first gets a copy, the last (S) the original.
    assert_eq!(notation("U,S/U", false), ["@2", "@1"]);
}

fn discarded_by(events: &[TraceEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Discarded { reason: DiscardReason::DeliveredByIntraProcess, .. } => Some(e.node.to_string()),
            _ => None,
        })
        .collect()
}

fn deserialized_by(events: &[TraceEvent]) -> Vec<String> {
    events.iter().filter(|e| matches!(e.kind, EventKind::Deserialized { .. })).map(|e| e.node.to_string()).collect()
}

/// rclcpp #1722: when the publisher also reaches a subscriber outside the IPM, the
/// middleware delivers to every matched reader, so each same-process IPC subscription
/// takes and DESERIALIZES the duplicate before it discards it: `copies U --inter` is 4
/// copies (shared copy, serialize, the outsider's deserialize, the duplicate), not 3.
#[test]
fn ipc_subscriptions_pay_for_the_middleware_duplicate() {
    let events = run("U", true);
    assert_eq!(deserialized_by(&events), [INTER_PROCESS_NODE, "sub1"]);
    assert_eq!(discarded_by(&events), ["sub1"]);
    assert_eq!(events.iter().filter_map(|e| e.kind.bytes_copied()).count(), 4);
    // The duplicate is dropped before the callback: one receipt each.
    assert_eq!(received(&events).len(), 2);
    // No outsider, no middleware, no duplicate.
    assert!(discarded_by(&run("U,S", false)).is_empty());
}

/// `ignore_local_publications` keeps the duplicate from arriving at all: 3 copies again.
#[test]
fn ignore_local_publications_avoids_the_duplicate() {
    static DOMAIN: AtomicU32 = AtomicU32::new(900);
    let recorder = Arc::new(Recorder::default());
    let domain = DOMAIN.fetch_add(1, Ordering::Relaxed);
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(domain));
    let setup = Setup { inter_process: true, ignore_local_publications: true, ..Setup::default() };
    copies::main(&ctx, &"U,S".parse::<Spec>().unwrap(), setup).unwrap();
    let events = recorder.events();
    assert!(discarded_by(&events).is_empty());
    assert_eq!(deserialized_by(&events), [INTER_PROCESS_NODE]);
    assert_eq!(received(&events).len(), 3);
}

/// Who received a message, in the order the executor ran them, and how.
fn receipts(events: &[TraceEvent]) -> Vec<(String, Via)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Received { via, .. } => Some((e.node.to_string(), *via)),
            _ => None,
        })
        .collect()
}

/// Two owners `first` and `second` (created in that order) and a publisher created before
/// them or after them; returns the one that got the original.
fn original_goes_to(publisher_first: bool) -> String {
    static DOMAIN: AtomicU32 = AtomicU32::new(950);
    let recorder = Arc::new(Recorder::default());
    let domain = DOMAIN.fetch_add(1, Ordering::Relaxed);
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(domain));
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let node = Node::new(&ctx, "n", ipc).unwrap();
    let early = publisher_first.then(|| node.create_publisher::<Int32>("t", 10).unwrap());
    let first = Node::new(&ctx, "first", ipc).unwrap();
    let second = Node::new(&ctx, "second", ipc).unwrap();
    let _a = first.create_subscription("t", 10, |_: UniquePtr<Int32>| {}).unwrap();
    let _b = second.create_subscription("t", 10, |_: UniquePtr<Int32>| {}).unwrap();
    let publisher = early.unwrap_or_else(|| node.create_publisher::<Int32>("t", 10).unwrap());
    publisher.publish(Box::new(Int32 { data: 1 }));
    let mut executor = SingleThreadedExecutor::new();
    executor.add_node(&first);
    executor.add_node(&second);
    while executor.spin_some() {}
    let got = receipts(&recorder.events());
    got.into_iter().find(|(_, via)| *via == Via::Original).unwrap().0
}

/// The publisher's lists are built when endpoints are added (rclcpp's `pub_to_subs_`):
/// subscriptions added after the publisher are appended in creation order, so the last
/// created owner gets the original; those that existed before are taken in the order
/// libstdc++'s `unordered_map` iterates them, the reverse of creation order for a few.
#[test]
fn the_order_of_a_publishers_list_follows_creation() {
    assert_eq!(original_goes_to(true), "second");
    assert_eq!(original_goes_to(false), "first");
}

/// `can_communicate`: a best-effort publisher and a reliable subscription do not match.
/// The subscription gets nothing, and says why in an `incompatible_qos` event.
#[test]
fn incompatible_reliability_is_reported_not_silent() {
    static DOMAIN: AtomicU32 = AtomicU32::new(970);
    let recorder = Arc::new(Recorder::default());
    let domain = DOMAIN.fetch_add(1, Ordering::Relaxed);
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(domain));
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let node = Node::new(&ctx, "camera", ipc).unwrap();
    let publisher = node.create_publisher::<Int32>("t", QoS::keep_last(5).best_effort()).unwrap();
    let viewer = Node::new(&ctx, "viewer", ipc).unwrap();
    let _sub = viewer.create_subscription("t", QoS::keep_last(5), |_: UniquePtr<Int32>| {}).unwrap();
    publisher.publish(Box::new(Int32 { data: 1 }));
    let mut executor = SingleThreadedExecutor::new();
    executor.add_node(&viewer);
    while executor.spin_some() {}
    let events = recorder.events();
    assert!(receipts(&events).is_empty());
    let reported: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::IncompatibleQos { policy, publisher_node, .. } => {
                Some((e.node.to_string(), *policy, publisher_node.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(reported, [("viewer".to_string(), QosPolicyKind::Reliability, "camera".to_string())]);
}
