//! The image pipeline's rules, asserted on trace events: what the frames show and what each
//! frame costs, with IPC on and off, one view or two, owning or sharing.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use ipc_lab::demos::image_pipeline::{self, ImageOptions, ViewerCallback};
use ipc_lab::engine::msg::sensor_msgs::Image;
use ipc_lab::engine::trace::{CopyReason, EventKind, Recorder, TraceEvent};
use ipc_lab::engine::{Context, InitOptions};
use ipc_lab::image::capture::{Paced, VideoCapture};
use ipc_lab::image::synthetic::SyntheticCamera;
use ipc_lab::image::text::put_text;
use ipc_lab::image::text::Color;
use ipc_lab::image::view::{Nowhere, Window};
use ipc_lab::image::{Encoding, ImageError, Mat};
use ipc_lab::labels::Labels;

/// Runs the pipeline on `frames` synthetic 64x48 frames, in lockstep, and returns its events.
fn run(ipc: bool, views: usize, callback: ViewerCallback, frames: u64) -> Vec<TraceEvent> {
    static DOMAIN: AtomicU32 = AtomicU32::new(2000);
    let recorder = Arc::new(Recorder::default());
    let options = InitOptions::default().sink(recorder.clone()).domain_id(DOMAIN.fetch_add(1, Ordering::Relaxed));
    let ctx = Context::init_with(options);
    let cap = Paced::new(Box::new(SyntheticCamera::new(64, 48)), &ctx, 0)
        .frames(Some(frames))
        .lockstep(Some(1 + views as u64));
    let options = ImageOptions {
        use_intra_process_comms: ipc,
        labels: Labels::new(false),
        text_scale: 1,
        viewer_callback: callback,
        loan: false,
    };
    image_pipeline::main(&ctx, &options, Box::new(cap), views, |_| Box::new(Nowhere) as Box<dyn Window>).unwrap();
    recorder.events()
}

/// The text lines drawn, as (node, y, pointer written on the frame).
fn drawn(events: &[TraceEvent]) -> Vec<(String, i32, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Drawn { y, text } => {
                let ptr = text.split("ptr: ").nth(1)?.split(' ').next()?.to_string();
                Some((e.node.to_string(), *y, ptr))
            }
            _ => None,
        })
        .collect()
}

fn count(events: &[TraceEvent], pred: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| pred(&e.kind)).count()
}

/// IPC on: the camera, the watermark and the view write the same pointer on every frame:
/// one message travelled the whole pipeline. And the pid is this process's.
#[test]
fn ipc_on_one_pointer_through_all_three_nodes() {
    let events = run(true, 1, ViewerCallback::Unique, 4);
    let lines = drawn(&events);
    assert_eq!(lines.len(), 12);
    for frame in lines.chunks(3) {
        let nodes: Vec<(&str, i32)> = frame.iter().map(|(n, y, _)| (n.as_str(), *y)).collect();
        assert_eq!(nodes, [("camera_node", 20), ("watermark_node", 40), ("image_view_node", 60)]);
        assert!(frame.iter().all(|l| l.2 == frame[0].2), "{frame:?}");
        assert!(frame[0].2.starts_with("0x") && frame[0].2[2..].chars().all(|c| !c.is_ascii_uppercase()));
    }
    let pid = format!("pid: {}, ", std::process::id());
    assert!(events.iter().all(|e| !matches!(&e.kind, EventKind::Drawn { text, .. } if !text.starts_with(&pid))));
    assert_eq!(count(&events, |k| k.bytes_copied().is_some()), 0);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Shown { .. })), 4);
}

/// IPC off: every hop is serialized and deserialized into a new message, so the camera's
/// pointer is never the watermark's.
#[test]
fn ipc_off_new_messages_at_every_hop() {
    let events = run(false, 1, ViewerCallback::Unique, 3);
    for frame in drawn(&events).chunks(3) {
        assert_ne!(frame[0].2, frame[1].2, "{frame:?}");
    }
    // Per frame: two serializations, two deserializations, two copies into a UniquePtr.
    assert_eq!(count(&events, |k| matches!(k, EventKind::Serialized { .. })), 6);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Deserialized { .. })), 6);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Copied { reason: CopyReason::UniqueFromTaken, .. })), 6);
}

/// Two views that take ownership: exactly one copy per frame, for the first view; the last
/// one gets the original, so its line shows the camera's pointer. The same with the
/// `const Image::SharedPtr` of Ardent to Galactic: rclcpp counts it as an owner, and each
/// view draws on its own message.
#[test]
fn two_owning_views_cost_one_copy_per_frame() {
    for callback in [ViewerCallback::Unique, ViewerCallback::SharedPtr] {
        two_owning_views(callback);
    }
}

fn two_owning_views(callback: ViewerCallback) {
    let events = run(true, 2, callback, 3);
    let copies: Vec<CopyReason> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Copied { reason, bytes, .. } if &*e.node == "watermark_node" => {
                assert!(*bytes >= 64 * 48 * 3);
                Some(*reason)
            }
            _ => None,
        })
        .collect();
    assert_eq!(copies, [CopyReason::NotLast; 3]);
    assert_eq!(count(&events, |k| k.bytes_copied().is_some()), 3);
    for frame in drawn(&events).chunks(4) {
        let (camera, watermark, view, view2) = (&frame[0], &frame[1], &frame[2], &frame[3]);
        assert_eq!((view.0.as_str(), view2.0.as_str()), ("image_view_node", "image_view_node2"));
        assert_eq!(camera.2, watermark.2);
        assert_ne!(view.2, camera.2, "the first view got a copy");
        assert_eq!(view2.2, camera.2, "the last view got the original");
    }
}

/// Two views that take it shared: the message is never copied, every line shows the same
/// pointer: the callback's signature made the difference. But a read-only message cannot be
/// drawn on in Rust, so each view copies the pixels it draws on, and that is reported too.
#[test]
fn two_sharing_views_share_the_message_and_copy_only_to_draw() {
    let events = run(true, 2, ViewerCallback::ConstShared, 3);
    let lines = drawn(&events);
    assert_eq!(lines.len(), 12);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Shown { .. })), 6);
    for frame in lines.chunks(4) {
        assert!(frame.iter().all(|l| l.2 == frame[0].2), "{frame:?}");
    }
    let reasons: Vec<CopyReason> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Copied { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [CopyReason::ReadOnlyToDrawOn; 6], "one pixel copy per view per frame, nothing else");
}

/// The camera filling its new message from the capture buffer is reported as its own kind
/// of event, never as a copy on the way.
#[test]
fn the_camera_fill_is_not_a_copy() {
    let events = run(true, 1, ViewerCallback::Unique, 2);
    let fills: Vec<&TraceEvent> = events.iter().filter(|e| matches!(e.kind, EventKind::Filled { .. })).collect();
    assert_eq!(fills.len(), 2);
    for fill in fills {
        assert_eq!(&*fill.node, "camera_node");
        assert!(matches!(fill.kind, EventKind::Filled { bytes, .. } if bytes == 64 * 48 * 3));
    }
    assert_eq!(count(&events, |k| matches!(k, EventKind::Copied { .. })), 0);
}

/// The four encodings wrap without copying and take text; any other is refused.
#[test]
fn encodings() {
    for (name, bpp) in [("bgr8", 3), ("rgba8", 4), ("mono8", 1), ("mono16", 2)] {
        let mut msg = Image {
            width: 80,
            height: 24,
            encoding: name.into(),
            step: 80 * bpp,
            data: vec![128; 80 * 24 * bpp as usize],
            ..Image::default()
        };
        let before = msg.data.clone();
        let pixels = msg.data.as_ptr();
        let mut mat = Mat::wrap(&mut msg).unwrap();
        assert_eq!(mat.encoding(), Encoding::from_ros(name).unwrap());
        assert_eq!(mat.data().as_ptr(), pixels);
        put_text(&mut mat, "pid: 1", 10, 20, 1, Color::GREEN);
        assert_ne!(msg.data, before, "{name}: no pixel changed");
    }
    let mut msg = Image { width: 2, height: 2, encoding: "yuv422".into(), data: vec![0; 8], ..Image::default() };
    assert_eq!(Mat::wrap(&mut msg).err(), Some(ImageError::UnsupportedEncoding("yuv422".into())));
    let mut short =
        Image { width: 4, height: 4, encoding: "mono8".into(), step: 4, data: vec![0; 3], ..Image::default() };
    assert!(matches!(Mat::wrap(&mut short), Err(ImageError::TooFewBytes { .. })));
}

/// `--frames` ends the camera, and the run ends once the last frame has been shown.
#[test]
fn a_finite_source_ends_the_run_after_its_last_frame() {
    let events = run(true, 1, ViewerCallback::Unique, 7);
    assert_eq!(count(&events, |k| matches!(k, EventKind::Shown { .. })), 7);
    let mut cap = Paced::new(Box::new(SyntheticCamera::new(8, 8)), &Context::init(), 0).frames(Some(1));
    let mut frame = Default::default();
    assert!(cap.read(&mut frame) && !cap.read(&mut frame));
}
