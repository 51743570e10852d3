//! A message too large for a frame between processes (over `frame::MAX_PAYLOAD`, 64 MiB:
//! an 8K `bgr8` image is 99.5 MiB) is not sent to the other processes, and the publisher
//! says so (`too_large_for_frame`) instead of sending it, seeing every receiver refuse it and
//! close the connection, and reporting the receiver gone. The receiver never sees it, and
//! the next message that fits reaches it on the same connection. (A frame over the limit
//! that comes anyway is refused by the receiver as "over the limit": tests/inter_process.rs.)
//!
//! The publisher is this test process, through the library: `--size` refuses such a frame
//! up front, so no ipc-lab command makes one on purpose.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipc_lab::engine::msg::sensor_msgs::Image;
use ipc_lab::engine::trace::{EventKind, Recorder};
use ipc_lab::engine::transport::frame::MAX_PAYLOAD;
use ipc_lab::engine::transport::{TransportKind, TransportOptions};
use ipc_lab::engine::{Context, InitOptions, Node, NodeOptions};

/// A `bgr8` image of `width` x `height`.
fn image(width: u32, height: u32) -> Box<Image> {
    Box::new(Image {
        width,
        height,
        encoding: "bgr8".into(),
        step: width * 3,
        data: vec![0x40; width as usize * height as usize * 3],
        ..Image::default()
    })
}

/// Publishes an 8K image then a small one over `transport` in `domain`, to an
/// `image_view_node` that stops after one frame; returns what the publisher and the view
/// reported.
fn publish_8k_then_small(
    transport: &str,
    kind: TransportKind,
    domain: u32,
) -> (Vec<EventKind>, Vec<serde_json::Value>) {
    let runtime = std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR").unwrap());
    let view = common::command(&runtime)
        .args(["node", "image_view_node", "--show", "none", "--count", "1", "--format", "json"])
        .args(["--transport", transport, "--domain", &domain.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(domain));
    ctx.enable_transport(TransportOptions { kind, command: "frame_limit".into() }).unwrap();
    let node = Node::new(&ctx, "big_camera", NodeOptions::default()).unwrap();
    let publisher = node.create_publisher::<Image>("watermarked_image", 5).unwrap();
    let start = Instant::now();
    while publisher.get_subscription_count() == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "the view never subscribed");
        std::thread::sleep(Duration::from_millis(20));
    }
    publisher.publish(image(7680, 4320));
    publisher.publish(image(64, 48));
    // It ends once the small image came; a view still waiting after a generous while never
    // got it (the 8K frame was refused, and the connection with the small one behind it).
    let mut view = view;
    let start = Instant::now();
    while view.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = view.kill();
    let out = view.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !stderr.contains("panicked"), "{transport}: {stdout}{stderr}");
    drop(publisher);
    drop(node);
    ctx.shutdown();
    let events = recorder.events().into_iter().map(|e| e.kind).collect();
    (events, common::events(&String::from_utf8(out.stdout).unwrap()))
}

#[test]
fn a_message_over_the_frame_limit_is_not_sent_and_the_publisher_says_why() {
    let runtime = tempfile::tempdir().unwrap();
    // This test is alone in its binary: no other thread reads the environment.
    std::env::set_var("XDG_RUNTIME_DIR", runtime.path());
    for (transport, kind, domain) in [("socket", TransportKind::Socket, 0), ("shm", TransportKind::SharedMemory, 1)] {
        let (mine, view) = publish_8k_then_small(transport, kind, domain);
        let too_large: Vec<(usize, usize)> = mine
            .iter()
            .filter_map(|e| match e {
                EventKind::TooLargeForFrame { bytes, limit, .. } => Some((*bytes, *limit)),
                _ => None,
            })
            .collect();
        assert_eq!(too_large.len(), 1, "{transport}: the 8K image, once: {too_large:?}");
        let (bytes, limit) = too_large[0];
        assert!(bytes > 7680 * 4320 * 3 && limit == MAX_PAYLOAD, "{transport}: {bytes} B over {limit} B");
        assert!(!mine.iter().any(|e| matches!(e, EventKind::PeerLost { .. })), "{transport}: blamed the view");
        assert!(common::kind(&view, "rejected").is_empty(), "{transport}: the view refused a frame: {view:?}");
        let received = common::kind(&view, "received");
        assert_eq!(received.len(), 1, "{transport}: {view:?}");
        assert_eq!(received[0]["value"], "64x48 bgr8", "{transport}: the small image came through");
    }
}
