//! Loaned messages between processes, proved from the outside: the chapter's last experiment
//! (`image-pipeline --transport shm --loan` and, in another terminal, `node image_view_node
//! --transport shm --viewer-callback loaned`) runs as two real processes, and the view reads
//! the pixels in the very memory the pipeline wrote. Not by trusting the trace: the address
//! the view reports lies in a mapping of `/memfd:ipc-lab-pool` in ITS `/proc/<pid>/maps`,
//! the address the pipeline reports lies in a mapping of the same inode in the pipeline's.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{eventually, interrupt, kind};
use serde_json::Value;

/// A running ipc-lab whose JSON events are read as they come.
struct Running {
    child: Child,
    events: Receiver<Value>,
    seen: Vec<Value>,
}

impl Running {
    fn spawn(runtime: &Path, args: &[&str]) -> Running {
        let mut child =
            common::command(runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")));
            }
        });
        Running { child, events, seen: Vec::new() }
    }

    /// Waits (at most 20 s) for an event that `matches`, keeping every event seen.
    fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_after(0, what, matches)
    }

    /// [`Running::wait_for`], for an event after the first `after` ones.
    fn wait_for_after(&mut self, after: usize, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        if let Some(found) = self.seen.iter().skip(after).find(|e| matches(e)) {
            return found.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self.events.recv_timeout(left).unwrap_or_else(|_| panic!("no {what} within 20 s"));
            self.seen.push(event.clone());
            if matches(&event) {
                return event;
            }
        }
    }

    /// Ctrl-C; checks a clean end without a panic; every event it wrote.
    fn stop(mut self) -> Vec<Value> {
        interrupt(&self.child);
        let mut stderr = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{stderr}");
        assert!(!stderr.contains("panicked at"), "{stderr}");
        self.seen.extend(self.events.iter());
        self.seen
    }
}

/// `0x7F..` as a number.
fn addr(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The inode of the shared-memory slot that holds `address` in process `pid`, from its maps.
fn slot_inode_at(pid: u32, address: u64) -> Option<u64> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    maps.lines().filter(|l| l.contains("/memfd:ipc-lab-pool")).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (start, end) = fields[0].split_once('-')?;
        let (start, end) = (u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?);
        (start..end).contains(&address).then(|| fields[4].parse().unwrap())
    })
}

/// The view's events for messages from `pid`: what it received, copied and decoded.
fn from_pipeline<'a>(events: &'a [Value], name: &str, pid: u32) -> Vec<&'a Value> {
    kind(events, name).into_iter().filter(|e| e["publisher_pid"] == pid).collect()
}

/// The chapter's last experiment: the pipeline publishes each watermarked frame as a loaned
/// message, and the view in the other process reads its pixels where the pipeline wrote
/// them. Both processes name that memory by the same memfd inode while their addresses for
/// it differ, the kernel's maps say the same, and no byte is copied between the processes:
/// nothing serialized, written into or read out of a socket, nothing deserialized in the
/// view (its one copy is ipc-lab's own, to draw its line on read-only pixels). The one copy
/// per frame is the pipeline's: the watermark puts the pixels it received into the loan.
#[test]
fn the_chapters_last_experiment_copies_no_pixel_between_processes() {
    let runtime = tempfile::tempdir().unwrap();
    let view_args = ["node", "image_view_node", "--transport", "shm", "--viewer-callback", "loaned"];
    let mut view = Running::spawn(runtime.path(), &[&view_args[..], &["--show", "none", "--format", "json"]].concat());
    let pipeline_args = ["image-pipeline", "--transport", "shm", "--loan", "--show", "none", "--fps", "20"];
    let mut pipeline =
        Running::spawn(runtime.path(), &[&pipeline_args[..], &["--frames", "1000", "--format", "json"]].concat());
    let pipeline_pid = pipeline.child.id();
    let received = view.wait_for("a frame from the pipeline", |e| {
        e["event"] == "received" && e["publisher_pid"] == pipeline_pid && e["node"] == "image_view_node"
    });
    let seq = received["seq"].clone();
    let payload = addr(&received["payload_addr"]);
    // The kernel's word, while both run: the view reads inside a slot of the pool...
    let view_inode = slot_inode_at(view.child.id(), payload).expect("the view's pixels are in a memfd slot");
    let loan = pipeline.wait_for("the loan", |e| {
        e["event"] == "loan_published" && e["topic"] == "watermarked_image" && e["seq"] == seq
    });
    // ... and the pipeline wrote them in a mapping of the very same memfd.
    let pipeline_inode = slot_inode_at(pipeline_pid, addr(&loan["payload_addr"])).expect("the pipeline's slot");
    assert_eq!(view_inode, pipeline_inode);
    assert_eq!(loan["inode"], view_inode);
    let mapped = view.wait_for("the mapping", |e| e["event"] == "mapped" && e["seq"] == seq);
    assert_eq!((mapped["inode"].as_u64(), &mapped["offset"]), (Some(view_inode), &loan["offset"]));
    assert_ne!(received["addr"], loan["addr"], "two processes, two virtual addresses");
    assert_eq!(received["from_addr"], loan["addr"]);

    let view_events = view.stop();
    let pipeline_events = pipeline.stop();
    // Nothing crossed as bytes, and nothing was decoded on the view's side.
    for name in ["deserialized", "read", "written", "shm_written", "serialized"] {
        assert!(from_pipeline(&view_events, name, pipeline_pid).is_empty(), "the view: {name}");
        let sent: Vec<_> =
            kind(&pipeline_events, name).into_iter().filter(|e| e["topic"] == "watermarked_image").collect();
        assert!(sent.iter().all(|e| e["node"] != "watermark_node"), "the pipeline: {name}: {sent:?}");
    }
    let copies = from_pipeline(&view_events, "copied", pipeline_pid);
    assert!(copies.iter().all(|c| c["reason"] == "read_only_to_draw_on"), "{copies:?}");
    // End to end, each frame cost one copy: the watermark's, in the pipeline, into the loan
    // (it received the camera's pixels on the heap), as the frames say; none on the way.
    let receipts = from_pipeline(&view_events, "received", pipeline_pid);
    for r in &receipts {
        assert_eq!((&r["serialized_bytes"], &r["written_bytes"]), (&Value::from(0), &Value::from(0)));
        assert_eq!(r["copied_bytes"], 320 * 240 * 3);
    }
    let summary = kind(&view_events, "summary")[0];
    assert_eq!(summary["end_to_end_copies"], receipts.len(), "{summary}");
    assert_eq!(summary["end_to_end_bytes"], receipts.len() * 320 * 240 * 3, "{summary}");
    assert!(kind(&pipeline_events, "copied").iter().any(|c| c["reason"] == "into_loan"));
    assert!(common::leftovers(runtime.path()).is_empty());
}

/// The side view names the loaned message by its segment, the same in both processes: the
/// pipeline's row says where it lent the frame, the view's row where it read it, next to two
/// different addresses; with `--stable` the name is a label (`memfd#1+0`).
#[test]
fn both_processes_name_a_loaned_frame_by_the_same_segment() {
    for stable in [false, true] {
        let runtime = tempfile::tempdir().unwrap();
        let flags: &[&str] = if stable { &["--stable", "--lang", "en"] } else { &["--lang", "en"] };
        let view_args = ["node", "image_view_node", "--transport", "shm", "--viewer-callback", "loaned"];
        let view_args = [&view_args[..], &["--show", "none", "--count", "3"], flags].concat();
        let view = common::command(runtime.path()).args(&view_args).stdout(Stdio::piped()).spawn().unwrap();
        let pipeline_args = ["image-pipeline", "--transport", "shm", "--loan", "--show", "none", "--fps", "10"];
        let pipeline_args = [&pipeline_args[..], &["--frames", "3000"], flags].concat();
        let pipeline = common::command(runtime.path()).args(&pipeline_args).stdout(Stdio::piped()).spawn().unwrap();
        // The view stops after its three frames; then the pipeline is stopped.
        let view_out = view.wait_with_output().unwrap();
        interrupt(&pipeline);
        let pipeline_out = pipeline.wait_with_output().unwrap();
        assert!(view_out.status.success() && pipeline_out.status.success());
        let (view_text, pipeline_text) =
            (String::from_utf8(view_out.stdout).unwrap(), String::from_utf8(pipeline_out.stdout).unwrap());
        let name_in = |text: &str, words: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.split_once(words))
                .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_string())
                .collect()
        };
        let read = name_in(&view_text, "read in place: ");
        let lent = name_in(&pipeline_text, "lent and published in ");
        assert!(!read.is_empty(), "{view_text}");
        assert!(!lent.is_empty(), "{pipeline_text}");
        assert!(read.iter().all(|r| lent.contains(r)), "view {read:?}, pipeline {lent:?}");
        if stable {
            assert_eq!(read[0], "memfd#1+0");
        } else {
            assert!(read[0].starts_with("memfd:") && read[0].ends_with("+0"), "{read:?}");
        }
    }
}

/// The survivor's socket descriptors: one more per connected peer, none left for a dead one.
fn sockets_of(pid: u32) -> usize {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// Sends `which` (`-STOP`) to process `pid`.
fn signal(pid: u32, which: &str) {
    let kill = std::process::Command::new("kill").args([which, &pid.to_string()]).status().expect("kill runs");
    assert!(kill.success());
}

/// How many of process `pid`'s mappings are slots of a shared-memory pool.
fn slot_mappings(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap().matches("/memfd:ipc-lab-pool").count()
}

/// SIGKILL, no chance to clean up, with frames on their way (100 a second): a killed view
/// gives its slots back to the pipeline at once (`reclaimed`) and its connection is closed,
/// so the pipeline's sockets are as many after each dead view; the pipeline goes on lending.
/// A killed pipeline leaves the view running: its mappings of the dead pool go when the
/// messages in them are dropped, the dead process's files in the runtime directory are
/// removed, and the view still ends cleanly. Nothing is ever named in /dev/shm.
#[test]
fn a_killed_view_or_pipeline_leaves_the_other_running_and_nothing_behind() {
    let dev_shm = || std::fs::read_dir("/dev/shm").map_or(0, |d| d.count());
    let shm_before = dev_shm();
    let runtime = tempfile::tempdir().unwrap();
    let view_args = ["node", "image_view_node", "--transport", "shm", "--viewer-callback", "loaned", "--show", "none"];
    let view_args = [&view_args[..], &["--format", "json"]].concat();
    let pipeline_args = ["image-pipeline", "--transport", "shm", "--loan", "--show", "none", "--fps", "100"];
    let mut pipeline = Running::spawn(runtime.path(), &[&pipeline_args[..], &["--format", "json"]].concat());
    let pipeline_pid = pipeline.child.id();
    let mut sockets_after = Vec::new();
    for _ in 0..2 {
        let mut view = Running::spawn(runtime.path(), &view_args);
        let view_pid = view.child.id();
        view.wait_for("a frame", |e| e["event"] == "received" && e["publisher_pid"] == pipeline_pid);
        // Stopped first, so that frames lent to it are surely on their way when it dies (a
        // view killed between two frames may hold nothing to reclaim).
        signal(view_pid, "-STOP");
        for _ in 0..3 {
            let after = pipeline.seen.len();
            pipeline.wait_for_after(after, "a loan to the stopped view", |e| {
                e["event"] == "loan_published" && e["topic"] == "watermarked_image"
            });
        }
        view.child.kill().unwrap();
        view.child.wait().unwrap();
        pipeline.wait_for("the reclaim", |e| e["event"] == "reclaimed" && e["peer_pid"] == view_pid);
        let after = pipeline.seen.len();
        pipeline.wait_for_after(after, "a frame after the reclaim", |e| e["event"] == "published");
        eventually("the dead view's files to go", || common::leftovers(runtime.path()).len() == 2);
        sockets_after.push(sockets_of(pipeline_pid));
    }
    assert_eq!(sockets_after[0], sockets_after[1], "a socket left for a dead view");

    let mut view = Running::spawn(runtime.path(), &view_args);
    let view_pid = view.child.id();
    view.wait_for("a frame", |e| e["event"] == "received" && e["publisher_pid"] == pipeline_pid);
    pipeline.child.kill().unwrap();
    pipeline.child.wait().unwrap();
    eventually("the dead pool's mappings to go", || slot_mappings(view_pid) == 0);
    eventually("the dead pipeline's files to go", || common::leftovers(runtime.path()).len() == 2);
    assert!(view.child.try_wait().unwrap().is_none(), "the view went on");
    view.stop();
    eventually("the runtime directory to empty", || common::leftovers(runtime.path()).is_empty());
    assert_eq!(dev_shm(), shm_before, "something was named in /dev/shm");
}

/// With no reader in another process nothing is lent: `borrow_loaned_message` gives a message
/// on the heap, and `publish(loaned)` publishes it by reference, as rclcpp does when the
/// middleware did not lend (publisher.hpp:425 jazzy). With IPC on that is one copy: the
/// watermark receives a message at another address, pixels included, than the one the camera
/// filled, and the copy is the publisher's (`publish_by_reference`).
#[test]
fn a_loan_that_falls_back_to_the_heap_is_published_by_reference() {
    let runtime = tempfile::tempdir().unwrap();
    let args = ["image-pipeline", "--transport", "shm", "--loan", "--show", "none", "--fps", "0", "--frames", "3"];
    let out = common::command(runtime.path()).args(args).args(["--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let events: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let on_image = |name: &str| -> Vec<Value> {
        kind(&events, name).into_iter().filter(|e| e["topic"] == "image").cloned().collect()
    };
    let (published, received, copied) = (on_image("published"), on_image("received"), on_image("copied"));
    assert_eq!((published.len(), received.len(), copied.len()), (3, 3, 3));
    for ((p, r), c) in published.iter().zip(&received).zip(&copied) {
        assert_ne!(addr(&p["addr"]), addr(&r["addr"]), "the watermark got the camera's message itself");
        assert_ne!(addr(&p["payload_addr"]), addr(&r["payload_addr"]), "its pixels were not copied");
        assert_eq!(
            (&c["reason"], &c["from"], &c["addr"]),
            (&Value::from("publish_by_reference"), &p["addr"], &r["addr"])
        );
    }
    assert!(kind(&events, "loan_published").is_empty(), "nothing was lent");
}

/// `--loan` on the number demo's nodes, in two processes: the producer borrows a loaned
/// `Int32` in its shared-memory pool and writes the number there; the consumer's
/// `Loaned<Int32>` reads it in place. The kernel's maps say the consumer's message lies in a
/// mapping of the very memfd the producer wrote in, at another address; nothing was
/// serialized, written, read or deserialized for it, and the value is the one published.
#[test]
fn a_loaned_int32_is_read_in_place_by_a_consumer_in_another_process() {
    let runtime = tempfile::tempdir().unwrap();
    let shm = ["--transport", "shm", "--loan", "--format", "json"];
    let mut consumer = Running::spawn(runtime.path(), &[&["node", "consumer"][..], &shm].concat());
    let mut producer = Running::spawn(runtime.path(), &[&["node", "producer", "--period", "100ms"][..], &shm].concat());
    let producer_pid = producer.child.id();
    let received = consumer.wait_for("a number from the producer", |e| {
        e["event"] == "received" && e["publisher_pid"] == producer_pid && e["node"] == "consumer"
    });
    let seq = received["seq"].clone();
    let consumer_inode =
        slot_inode_at(consumer.child.id(), addr(&received["addr"])).expect("the consumer's number is in a memfd slot");
    let loan = producer.wait_for("the loan", |e| e["event"] == "loan_published" && e["seq"] == seq);
    let producer_inode = slot_inode_at(producer_pid, addr(&loan["addr"])).expect("the producer's slot");
    assert_eq!(consumer_inode, producer_inode);
    assert_eq!(
        (&loan["inode"], &loan["header_bytes"], &loan["loaned_bytes"]),
        (&Value::from(consumer_inode), &Value::from(4), &Value::from(8))
    );
    assert_ne!(received["addr"], loan["addr"], "two processes, two virtual addresses");
    assert_eq!(received["from_addr"], loan["addr"]);
    assert_eq!(addr(&received["payload_addr"]), addr(&received["addr"]) + 4, "the value after the CDR header");
    let published = producer.wait_for("the publish", |e| e["event"] == "published" && e["seq"] == seq);
    assert_eq!(received["value"], published["value"]);

    let consumer_events = consumer.stop();
    let producer_events = producer.stop();
    let receipts = from_pipeline(&consumer_events, "received", producer_pid);
    // What the producer did for the numbers the consumer got (once it is gone, nothing is
    // lent: the heap fallback is published by reference, with its copy).
    let received_seqs: Vec<&Value> = receipts.iter().map(|r| &r["seq"]).collect();
    for name in ["deserialized", "read", "written", "shm_written", "serialized", "copied"] {
        assert!(from_pipeline(&consumer_events, name, producer_pid).is_empty(), "the consumer: {name}");
        let made = kind(&producer_events, name).into_iter().filter(|e| received_seqs.contains(&&e["seq"]));
        assert_eq!(made.count(), 0, "the producer: {name}");
    }
    assert!(receipts.iter().all(|r| r["serialized_bytes"] == 0 && r["written_bytes"] == 0 && r["copied_bytes"] == 0));
    assert_eq!(kind(&consumer_events, "summary")[0]["end_to_end_copies"], 0);
}
