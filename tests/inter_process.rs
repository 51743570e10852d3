//! Real processes talking through the runtime directory: `--split`, `ps`, `echo`, shared
//! memory, and what happens when a peer dies or sends garbage.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::time::Duration;

use common::{events, eventually, interrupt, kind, rejected_reasons, socket_of, stop_cleanly};
use serde_json::Value;

fn spawn(runtime: &Path, args: &[&str]) -> Child {
    common::command(runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn kill9(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Reads lines from a child's stdout on a thread, so a test can wait for some.
struct Lines {
    rx: crossbeam_channel::Receiver<String>,
}

impl Lines {
    fn of(stdout: ChildStdout) -> Lines {
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Lines { rx }
    }

    fn next(&self) -> String {
        self.rx.recv_timeout(Duration::from_secs(10)).expect("a line within 10 s")
    }
}

/// `--split --ipc off`: the consumer runs in another process: its `received` events have
/// another pid than the `published` ones, and every copy on the way is counted.
#[test]
fn split_shows_two_pids_and_every_copy() {
    let runtime = tempfile::tempdir().unwrap();
    let events = events(&common::stdout_in(
        runtime.path(),
        &["two-node", "--split", "--ipc", "off", "--count", "5", "--period", "0", "--format", "json"],
    ));
    let published_pids: Vec<&Value> = kind(&events, "published").iter().map(|e| &e["pid"]).collect();
    let received = kind(&events, "received");
    assert_eq!(received.len(), 5);
    for r in &received {
        assert!(!published_pids.contains(&&r["pid"]), "received in the publisher's process: {r}");
        assert_eq!(r["via"], "middleware");
        assert!(published_pids.contains(&&r["from_pid"]));
    }
    for name in ["serialized", "written", "read", "deserialized"] {
        assert!(!kind(&events, name).is_empty(), "no {name} event");
    }
    // Every `read` copied the bytes its `written` counterpart sent.
    for read in kind(&events, "read") {
        let written = kind(&events, "written").into_iter().find(|w| w["seq"] == read["seq"]).unwrap();
        assert_eq!(read["bytes"], written["bytes"]);
    }
    assert!(common::leftovers(runtime.path()).is_empty(), "{:?}", common::leftovers(runtime.path()));
}

/// `--transport shm`: the payload crosses in shared memory. Nothing is written to or read
/// from the socket; each message is serialized straight into a slot of the publisher's
/// pool (its only copy on the way), and read where it is in the receiving process: the same
/// memfd inode there, at another address.
#[test]
fn shared_memory_copies_no_payload_byte_between_processes() {
    let runtime = tempfile::tempdir().unwrap();
    let events = events(&common::stdout_in(
        runtime.path(),
        &["cyclic", "--split", "--transport", "shm", "--count", "3", "--period", "0", "--format", "json"],
    ));
    assert_eq!(kind(&events, "received").len(), 3);
    assert!(kind(&events, "written").is_empty() && kind(&events, "read").is_empty());
    let mapped = kind(&events, "mapped");
    assert!(mapped.len() >= 3);
    for m in &mapped {
        // Mapped in the receiving process, from the other one.
        assert_ne!(m["pid"], m["from_pid"]);
        assert!(m.get("bytes").is_none(), "mapping copies nothing: {m}");
    }
    // No second copy into the segment: the serialization wrote there.
    assert!(kind(&events, "shm_written").is_empty());
    let in_place = kind(&events, "serialized_in_place");
    for m in &mapped {
        let written = in_place.iter().find(|w| w["pid"] == m["from_pid"] && w["seq"] == m["seq"]).unwrap();
        assert_eq!((&written["inode"], &written["offset"]), (&m["inode"], &m["offset"]), "the same memory: {m}");
    }
    // The receivers gave the slots back to the process that lent them.
    let released = kind(&events, "released");
    assert!(!released.is_empty());
    for r in &released {
        assert!(in_place.iter().any(|w| w["pid"] == r["pid"] && w["inode"] == r["inode"]), "{r}");
        assert_ne!(r["pid"], r["by_pid"]);
    }
    assert!(common::leftovers(runtime.path()).is_empty());
}

/// `ps` lists a running demo with its pid and nodes; once it has exited, nothing is listed
/// and the runtime directory holds nothing of it.
#[test]
fn ps_lists_a_running_demo_and_forgets_it() {
    let runtime = tempfile::tempdir().unwrap();
    let demo = spawn(runtime.path(), &["two-node", "--period", "50ms"]);
    let ps = || {
        let out = common::command(runtime.path()).args(["ps", "--json"]).output().unwrap();
        assert!(out.status.success());
        events(&String::from_utf8(out.stdout).unwrap())
    };
    // The demo announces itself when its transport starts, before it has a node, then
    // again as each node and endpoint comes: wait for the last one, the consumer's
    // subscription, and look at the entry that has it.
    let mut entry = serde_json::Value::Null;
    eventually("ps to list the demo and its subscription", || {
        entry = ps().into_iter().find(|p| p["pid"] == demo.id()).unwrap_or_default();
        entry["subscribes"] == serde_json::json!(["number"])
    });
    assert_eq!(entry["nodes"], serde_json::json!(["producer", "consumer"]));
    assert_eq!(entry["ppid"], std::process::id());
    assert!(entry["rss_bytes"].as_u64().unwrap() > 0);
    assert!(entry["command"].as_str().unwrap().contains("two-node"));
    interrupt(&demo);
    assert!(demo.wait_with_output().unwrap().status.success());
    assert!(ps().is_empty());
    assert!(common::leftovers(runtime.path()).is_empty());
    let text = common::command(runtime.path()).args(["ps", "--lang", "en"]).output().unwrap();
    assert_eq!(String::from_utf8(text.stdout).unwrap(), "no ipc-lab process is running\n");
}

/// `echo --raw` beside `two-node --ipc on`: echo prints each message's CDR bytes, and the
/// demo makes one shared copy for the other process while its own consumer still gets the
/// original.
#[test]
fn echo_makes_the_publisher_copy_for_another_process() {
    let runtime = tempfile::tempdir().unwrap();
    let demo = spawn(runtime.path(), &["two-node", "--ipc", "on", "--period", "20ms", "--format", "json"]);
    let echo = common::command(runtime.path()).args(["echo", "number", "--raw", "--count", "3"]).output().unwrap();
    assert!(echo.status.success(), "{}", String::from_utf8_lossy(&echo.stderr));
    let lines: Vec<String> = String::from_utf8(echo.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        // An Int32: header, then the value little-endian.
        assert!(line.starts_with("00 01 00 00 "), "{line}");
        assert_eq!(line.split(' ').count(), 8, "{line}");
    }
    interrupt(&demo);
    let out = demo.wait_with_output().unwrap();
    assert!(out.status.success());
    let events = events(&String::from_utf8(out.stdout).unwrap());
    let shared = kind(&events, "copied").into_iter().find(|c| c["reason"] == "shared_for_inter_process");
    let shared = shared.expect("a shared copy for the other process");
    let received = kind(&events, "received").into_iter().find(|r| r["seq"] == shared["seq"]).unwrap();
    assert_eq!(received["via"], "original", "the in-process consumer still gets the original");
    let published = kind(&events, "published").into_iter().find(|p| p["seq"] == shared["seq"]).unwrap();
    assert_eq!(received["addr"], published["addr"]);
    assert_ne!(shared["addr"], published["addr"]);
}

/// SIGKILL a subscriber: the publisher keeps running, and a new subscriber gets messages.
#[test]
fn a_killed_subscriber_does_not_stop_the_publisher() {
    let runtime = tempfile::tempdir().unwrap();
    let mut demo = spawn(runtime.path(), &["node", "producer", "--period", "20ms", "--format", "json"]);
    let mut first = spawn(runtime.path(), &["echo", "number"]);
    let lines = Lines::of(first.stdout.take().unwrap());
    assert!(lines.next().starts_with("data: "));
    kill9(&mut first);
    std::thread::sleep(Duration::from_millis(300));
    assert!(demo.try_wait().unwrap().is_none(), "the publisher died with its subscriber");
    let second = common::command(runtime.path()).args(["echo", "number", "--count", "2"]).output().unwrap();
    assert!(second.status.success());
    assert_eq!(String::from_utf8(second.stdout).unwrap().matches("data: ").count(), 2);
    interrupt(&demo);
    assert!(demo.wait().unwrap().success());
    eventually("the killed subscriber's files to be cleaned", || common::leftovers(runtime.path()).is_empty());
}

/// SIGKILL the publisher: the subscriber keeps waiting and resumes when a new one appears.
#[test]
fn a_killed_publisher_does_not_stop_the_subscriber() {
    let runtime = tempfile::tempdir().unwrap();
    let mut producer = spawn(runtime.path(), &["node", "producer", "--period", "20ms"]);
    let mut echo = spawn(runtime.path(), &["echo", "number"]);
    let lines = Lines::of(echo.stdout.take().unwrap());
    assert!(lines.next().starts_with("data: "));
    kill9(&mut producer);
    std::thread::sleep(Duration::from_millis(300));
    while lines.rx.try_recv().is_ok() {}
    assert!(echo.try_wait().unwrap().is_none(), "the subscriber died with its publisher");
    let mut again = spawn(runtime.path(), &["node", "producer", "--period", "20ms"]);
    // The new producer counts from 0 again.
    eventually("messages from the new publisher", || lines.rx.try_recv().is_ok_and(|l| l == "data: 0"));
    interrupt(&echo);
    assert!(echo.wait().unwrap().success());
    interrupt(&again);
    assert!(again.wait().unwrap().success());
    eventually("the runtime directory to empty", || common::leftovers(runtime.path()).is_empty());
}

/// Garbage, an oversized length, a wrong type and a truncated frame: each is refused and
/// reported, and the subscriber goes on.
#[test]
fn hostile_frames_are_refused_and_counted() {
    use ipc_lab::engine::transport::frame::{Frame, FrameHeader, Payload, MAGIC, VERSION};
    let runtime = tempfile::tempdir().unwrap();
    let consumer = spawn(runtime.path(), &["node", "consumer", "--format", "json"]);
    let socket = socket_of(runtime.path(), &consumer);
    let _announced = common::announce_self(runtime.path());

    let send = |bytes: &[u8]| {
        let mut stream = UnixStream::connect(&socket).unwrap();
        let _ = stream.write_all(bytes);
        drop(stream);
        std::thread::sleep(Duration::from_millis(100));
    };
    send(b"GET / HTTP/1.0\r\n\r\n");
    let mut oversized = Vec::from(MAGIC);
    oversized.extend_from_slice(&VERSION.to_le_bytes());
    oversized.extend_from_slice(&0u16.to_le_bytes());
    oversized.extend_from_slice(&16u32.to_le_bytes());
    oversized.extend_from_slice(&u32::MAX.to_le_bytes());
    send(&oversized);
    let header = FrameHeader {
        topic: "number".into(),
        type_name: "std_msgs/msg/String".into(),
        // Our own pid: the receiver checks the claim against the socket's peer.
        publisher_pid: std::process::id(),
        publisher_id: 1,
        seq: 1,
        node: "intruder".into(),
        message_addr: 0,
        copied_bytes: 0,
        serialized_bytes: 9,
        written_bytes: 9,
    };
    let wrong_type = Frame { header: header.clone(), payload: Payload::Bytes(vec![0, 1, 0, 0, 1, 0, 0, 0, 0]) };
    send(&wrong_type.encode());
    let bad_cdr = Frame {
        header: FrameHeader { type_name: "std_msgs/msg/Int32".into(), ..header },
        payload: Payload::Bytes(vec![0, 1, 0, 0, 1]),
    };
    send(&bad_cdr.encode());
    let truncated = wrong_type.encode();
    send(&truncated[..truncated.len() / 2]);
    let liar = Frame { header: FrameHeader { publisher_pid: 1, ..wrong_type.header.clone() }, ..wrong_type.clone() };
    send(&liar.encode());

    let events = stop_cleanly(consumer);
    let reasons = rejected_reasons(&events);
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons[0].contains("bad magic"));
    assert!(reasons[1].contains("over the limit"));
    assert!(reasons[2].contains("carries std_msgs/msg/Int32 here"));
    assert!(reasons[3].contains("truncated CDR data"));
    assert!(reasons[4].contains("truncated frame"));
    assert!(reasons[5].contains("claims pid 1"), "a frame cannot pose as another process");
    assert!(kind(&events, "received").is_empty());
}

/// A runtime directory that others may write to is refused, with a clear error: a node
/// (which exists to talk to other processes) stops; an in-process demo says so and runs on
/// its own, announced nowhere.
#[test]
fn an_unsafe_runtime_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let runtime = tempfile::tempdir().unwrap();
    let dir = runtime.path().join("ipc-lab");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let node = common::command(runtime.path()).args(["node", "consumer", "--lang", "en"]).output().unwrap();
    assert_eq!(node.status.code(), Some(1));
    let stderr = String::from_utf8(node.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains("chmod 700"), "{stderr}");

    let demo = common::command(runtime.path())
        .args(["two-node", "--count", "1", "--period", "0", "--lang", "en", "--format", "classic"])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let stderr = String::from_utf8(demo.stderr).unwrap();
    assert!(stderr.starts_with("note: ") && stderr.contains("chmod 700"), "{stderr}");
    assert_eq!(String::from_utf8(demo.stdout).unwrap().lines().count(), 2);
    assert!(common::leftovers(runtime.path()).is_empty());
}

/// The chapter's last experiment: `image_pipeline_all_in_one` in one process and an
/// `image_view_node` in another. The pipeline's nodes write the pipeline's pid and pointer;
/// the separate view writes its own, different pid and the pointer of its own copy.
#[test]
fn a_viewer_in_another_process_writes_its_own_pid_and_pointer() {
    let runtime = tempfile::tempdir().unwrap();
    let pipeline = spawn(
        runtime.path(),
        &[
            "image-pipeline",
            "--source",
            "synthetic",
            "--fps",
            "50",
            "--frames",
            "100",
            "--show",
            "none",
            "--format",
            "json",
        ],
    );
    let viewer = common::command(runtime.path())
        .args(["node", "image_view_node", "--count", "3", "--show", "none", "--format", "json"])
        .output()
        .unwrap();
    assert!(viewer.status.success(), "{}", String::from_utf8_lossy(&viewer.stderr));
    let out = pipeline.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // "pid: <pid>, ptr: <pointer>" as drawn, by node.
    let drawn = |text: &str| -> Vec<(String, String, String)> {
        events(text)
            .iter()
            .filter(|e| e["event"] == "drawn")
            .map(|e| {
                let line = e["text"].as_str().unwrap();
                let (pid, rest) = line.trim_start_matches("pid: ").split_once(", ptr: ").unwrap();
                let ptr = rest.split(' ').next().unwrap();
                (e["node"].as_str().unwrap().to_string(), pid.to_string(), ptr.to_string())
            })
            .collect()
    };
    let viewer_out = String::from_utf8(viewer.stdout).unwrap();
    let viewer_lines = drawn(&viewer_out);
    let pipeline_lines = drawn(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(viewer_lines.len(), 3);
    let pipeline_pid = pipeline_lines[0].1.clone();
    assert!(pipeline_lines.iter().all(|(_, pid, _)| *pid == pipeline_pid));
    for (node, pid, _) in &viewer_lines {
        assert_eq!(node, "image_view_node");
        assert_ne!(*pid, pipeline_pid, "the separate view runs in its own process");
    }
    // Its pointer is of a message of its own (pointers of two processes are not compared:
    // an address means something only in its process): decoded from the pipeline's bytes.
    let viewer_events = events(&viewer_out);
    for received in kind(&viewer_events, "received") {
        assert_eq!(received["via"], "middleware");
        assert_eq!(received["from_pid"].to_string(), pipeline_pid);
    }
}
