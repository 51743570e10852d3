//! The demos and the engine's rules, asserted on trace events (not on rendered text).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ipc_lab::demos::{cyclic_pipeline, two_node_pipeline, DemoOptions};
use ipc_lab::engine::msg::std_msgs::{Int32, String as StringMsg};
use ipc_lab::engine::trace::{CopyReason, EventKind, Recorder, TraceEvent, Via};
use ipc_lab::engine::{
    Context, CreateError, InitOptions, IntraProcessSetting, Node, NodeOptions, PublisherOptions, QoS,
    SingleThreadedExecutor, UniquePtr,
};

/// A context of its own (own domain: tests run in parallel in one process).
fn context(receipts: Option<u64>) -> (Context, Arc<Recorder>) {
    static DOMAIN: AtomicU32 = AtomicU32::new(1000);
    let recorder = Arc::new(Recorder::default());
    let mut options = InitOptions::default().sink(recorder.clone()).domain_id(DOMAIN.fetch_add(1, Ordering::Relaxed));
    if let Some(n) = receipts {
        options = options.shutdown_after_receipts(n);
    }
    (Context::init_with(options), recorder)
}

fn fast(ipc: bool) -> DemoOptions {
    DemoOptions {
        use_intra_process_comms: ipc,
        period: Duration::ZERO,
        qos: ipc_lab::engine::QoS::keep_last(10),
        loan: false,
    }
}

fn received(events: &[TraceEvent]) -> Vec<(String, usize, Via, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Received { msg, via, .. } => Some((e.node.to_string(), msg.addr, *via, msg.value.to_string())),
            _ => None,
        })
        .collect()
}

fn count(events: &[TraceEvent], pred: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| pred(&e.kind)).count()
}

/// IPC on: each message is received at the address it was published from, starting with
/// value 0, and nothing is copied.
#[test]
fn two_node_with_ipc_moves_every_message() {
    let (ctx, recorder) = context(Some(5));
    two_node_pipeline::main(&ctx, fast(true)).unwrap();
    let events = recorder.events();
    let got = received(&events);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].3, "0");
    for event in &events {
        if let EventKind::Received { msg, via, .. } = &event.kind {
            let published = events.iter().find_map(|e| match &e.kind {
                EventKind::Published { msg: p } if p.publication == msg.publication => Some(p.addr),
                _ => None,
            });
            assert_eq!(published, Some(msg.addr));
            assert_eq!(*via, Via::Original);
        }
    }
    assert_eq!(count(&events, |k| k.bytes_copied().is_some()), 0);
}

/// IPC off: every message is serialized, deserialized into a new message, and (the
/// consumer takes ownership) copied once more into its `UniquePtr`, like rclcpp.
#[test]
fn two_node_without_ipc_pays_three_copies_per_message() {
    let (ctx, recorder) = context(Some(4));
    two_node_pipeline::main(&ctx, fast(false)).unwrap();
    let events = recorder.events();
    assert_eq!(received(&events).len(), 4);
    assert!(received(&events).iter().all(|r| r.2 == Via::Middleware));
    assert_eq!(count(&events, |k| matches!(k, EventKind::Serialized { bytes: 8, .. })), 4);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Deserialized { bytes: 8, .. })), 4);
    let unique_copies =
        count(&events, |k| matches!(k, EventKind::Copied { reason: CopyReason::UniqueFromTaken, bytes: 4, .. }));
    assert_eq!(unique_copies, 4);
}

/// The demo's printed lines are upstream's, in upstream's order.
#[test]
fn two_node_prints_upstream_lines() {
    let (ctx, recorder) = context(Some(2));
    two_node_pipeline::main(&ctx, fast(true)).unwrap();
    let lines: Vec<String> = recorder
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Printed { line } => Some(line.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("Published message with value: 0, and address: 0x"));
    assert!(lines[1].starts_with(" Received message with value: 0, and address: 0x"));
    // Same address on both lines: the upstream launch test's backreference.
    assert_eq!(lines[0].rsplit(' ').next(), lines[1].rsplit(' ').next());
    let hex = lines[0].rsplit("0x").next().unwrap();
    assert!(hex.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()), "{hex}");
}

/// IPC on: one message circulates; its address never changes, and pipe2 receives 42 first.
#[test]
fn cyclic_with_ipc_keeps_one_message() {
    let (ctx, recorder) = context(Some(6));
    cyclic_pipeline::main(&ctx, fast(true)).unwrap();
    let events = recorder.events();
    let got = received(&events);
    assert_eq!(got.len(), 6);
    assert_eq!((got[0].0.as_str(), got[0].3.as_str()), ("pipe2", "42"));
    assert_eq!((got[1].0.as_str(), got[1].3.as_str()), ("pipe1", "43"));
    let first = got[0].1;
    assert!(events.iter().filter_map(|e| e.kind.message()).all(|m| m.addr == first));
}

/// IPC off: every hop makes a new message (deserialized, then copied for the owner).
#[test]
fn cyclic_without_ipc_makes_a_new_message_every_hop() {
    let (ctx, recorder) = context(Some(3));
    cyclic_pipeline::main(&ctx, fast(false)).unwrap();
    let events = recorder.events();
    assert_eq!(received(&events).len(), 3);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Deserialized { .. })), 3);
    assert!(received(&events).iter().all(|r| r.2 == Via::Middleware));
}

/// A full keep-last queue overwrites its oldest message and says so.
#[test]
fn full_queue_overwrites_oldest_and_reports_it() {
    let (ctx, recorder) = context(None);
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let node = Node::new(&ctx, "n", ipc).unwrap();
    let publisher = node.create_publisher::<Int32>("t", 2).unwrap();
    let sub = node.create_subscription("t", 2, |_: UniquePtr<Int32>| {}).unwrap();
    for data in 0..5 {
        publisher.publish(Box::new(Int32 { data }));
    }
    let mut executor = SingleThreadedExecutor::new();
    executor.add_node(&node);
    while executor.spin_some() {}
    let events = recorder.events();
    let overwritten: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Overwritten { msg } => Some(msg.value.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(overwritten, ["0", "1", "2"]);
    let values: Vec<String> = received(&events).into_iter().map(|r| r.3).collect();
    assert_eq!(values, ["3", "4"]);
    assert_eq!(sub.overwritten(), 3);
}

/// QoS rules checked when a publisher or subscription is created.
#[test]
fn qos_is_validated() {
    let (ctx, _) = context(None);
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let node = Node::new(&ctx, "n", ipc).unwrap();
    let keep_all = node.create_publisher::<Int32>("a", QoS::keep_all()).err();
    assert_eq!(keep_all, Some(CreateError::KeepAllWithIntraProcess { topic: "a".into() }));
    assert_eq!(
        keep_all.unwrap().to_string(),
        "intraprocess communication on topic 'a' allowed only with keep last history qos policy"
    );
    // Depth 0 is the middleware's default (keep last 1), which rclcpp's IPC check reads back.
    assert!(node.create_subscription("b", 0, |_: UniquePtr<Int32>| {}).is_ok());
    // Without IPC, keep-all is allowed (the middleware's unbounded history).
    let plain = Node::new(&ctx, "plain", NodeOptions::default()).unwrap();
    assert!(plain.create_publisher::<Int32>("c", QoS::keep_all()).is_ok());
    // One topic, one type.
    let mismatch = node.create_publisher::<StringMsg>("c", 10).err();
    assert!(matches!(mismatch, Some(CreateError::TypeMismatch { .. })));
}

/// A publisher can override its node: with IPC disabled it takes the middleware path even
/// to an intra-process subscription of the same context.
#[test]
fn per_publisher_override_takes_the_middleware_path() {
    let (ctx, recorder) = context(None);
    let ipc = NodeOptions::default().use_intra_process_comms(true);
    let node = Node::new(&ctx, "n", ipc).unwrap();
    let options = PublisherOptions { use_intra_process_comm: IntraProcessSetting::Disable };
    let publisher = node.create_publisher_with_options::<Int32>("t", 10, options).unwrap();
    assert!(!publisher.uses_intra_process());
    let _sub = node.create_subscription("t", 10, |_: UniquePtr<Int32>| {}).unwrap();
    publisher.publish(Box::new(Int32 { data: 1 }));
    let mut executor = SingleThreadedExecutor::new();
    executor.add_node(&node);
    while executor.spin_some() {}
    let got = received(&recorder.events());
    assert_eq!(got.len(), 1, "received once, not twice");
    assert_eq!(got[0].2, Via::Middleware);
}

/// A shutdown wakes a callback sleeping in `sleep_for` at once, even while a trigger for
/// the executor is still pending (the cyclic demo's sleep must end on Ctrl-C).
#[test]
fn shutdown_cuts_a_sleep_short() {
    let (ctx, _) = context(None);
    let node = Node::new(&ctx, "n", NodeOptions::default()).unwrap();
    // A timer triggers the guard condition; nobody takes that trigger.
    let _timer = node.create_wall_timer(Duration::from_secs(60), || {});
    let sleeper = {
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            (ctx.sleep_for(Duration::from_secs(30)), start.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    ctx.shutdown();
    let (slept_fully, took) = sleeper.join().unwrap();
    assert!(!slept_fully);
    assert!(took < Duration::from_secs(10), "the sleep went on for {took:?}");
}
