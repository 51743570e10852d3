//! The tests with the `dds` feature: each outer test re-runs one inner test of this binary
//! inside a fresh network namespace (`unshare -n`, loopback up with multicast), where the
//! inner test talks to `peer.py` through Cyclone DDS.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ipc_lab::engine::msg::builtin_interfaces::Time;
use ipc_lab::engine::msg::sensor_msgs::Image;
use ipc_lab::engine::msg::std_msgs::{Header, Int32};
use ipc_lab::engine::transport::dds::cyclone::{Participant, Reader, Writer};
use ipc_lab::engine::transport::dds::graph::{NodeEntitiesInfo, ParticipantEntitiesInfo};
use ipc_lab::engine::transport::dds::type_hash::PeerType;
use ipc_lab::engine::transport::dds::{names, padded, qos, type_hash};
use ipc_lab::engine::{Message, QoS};
use serde_json::Value;

/// The Cyclone DDS Python binding the peer runs on: the same Cyclone (11.0.1) as cyclors.
const PEER_PACKAGE: &str = "cyclonedds==11.0.1";

/// Cyclone on loopback only, with multicast, otherwise its defaults: both sides of every
/// test but one.
const LOOPBACK_CONFIG: &str = r#"<CycloneDDS><Domain Id="any"><General><Interfaces><NetworkInterface name="lo" multicast="true"/></Interfaces></General></Domain></CycloneDDS>"#;

/// The same with a 4 MB socket receive buffer (this machine's `net.core.rmem_max`), for a
/// receiver of 6 MB best-effort frames from a writer that sends them in one burst: with
/// Cyclone's default buffer, 0 of 5 such frames arrived here (Python peer to Python peer),
/// with 4 MB 5 of 5.
const LARGE_BUFFER_CONFIG: &str = r#"<CycloneDDS><Domain Id="any"><General><Interfaces><NetworkInterface name="lo" multicast="true"/></Interfaces></General><Internal><SocketReceiveBufferSize min="4MB"/></Internal></Domain></CycloneDDS>"#;

/// A Python with the pinned binding, in a venv under target/ made on first use.
fn peer_python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dds-venv");
        let python = venv.join("bin/python");
        let ready =
            |p: &PathBuf| Command::new(p).args(["-c", "import cyclonedds"]).output().is_ok_and(|o| o.status.success());
        if !ready(&python) {
            let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap();
            assert!(made.success(), "python3 -m venv failed");
            let pip = Command::new(venv.join("bin/pip")).args(["install", "-q", PEER_PACKAGE]).status().unwrap();
            assert!(pip.success(), "pip install {PEER_PACKAGE} failed");
        }
        python
    })
}

/// Runs the inner test `name` in a new network namespace and checks that it passed. One
/// at a time: two 6 MB best-effort streams at once on a loaded 2-core machine overflow
/// the socket buffers and lose every frame.
fn in_netns(name: &str, config: &str) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("unshare")
        .args(["-n", "--", "sh", "-c", "ip link set lo up && ip link set lo multicast on && exec \"$@\"", "sh"])
        .arg(exe)
        .args([name, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("IPC_LAB_PEER_PYTHON", peer_python())
        .env("CYCLONEDDS_URI", config)
        .output()
        .expect("unshare runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && text.contains("1 passed"), "{name} in a network namespace:\n{text}");
}

/// Refuses to run anywhere but in the namespace [`in_netns`] makes: only `lo` exists.
fn only_loopback() {
    // /proc/net/dev is this network namespace's (sysfs would still show the host's).
    let dev = std::fs::read_to_string("/proc/net/dev").unwrap();
    let interfaces: Vec<_> = dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    assert_eq!(interfaces, ["lo"], "inner DDS tests run only through their outer test (unshare -n)");
}

/// The peer, and its JSON lines as they come.
struct Peer {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl Peer {
    fn start(args: &[&str]) -> Peer {
        only_loopback();
        let python = std::env::var("IPC_LAB_PEER_PYTHON").expect("set by in_netns");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dds/peer.py");
        let mut child =
            Command::new(python).arg(script).args(args).stdout(Stdio::piped()).spawn().expect("the peer starts");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Peer { child, lines }
    }

    /// The next line with `key`, skipping others; panics with what came if none does.
    fn next(&mut self, key: &str) -> Value {
        let mut seen = Vec::new();
        for line in self.lines.by_ref() {
            let value: Value = serde_json::from_str(&line.unwrap()).unwrap();
            if let Some(found) = value.get(key) {
                return found.clone();
            }
            seen.push(value);
        }
        panic!("the peer ended without {key:?}; it said {seen:?}");
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn participant() -> Participant {
    Participant::new(0).expect("Cyclone starts")
}

fn writer_for<M: Message>(p: &Participant, topic: &str, ros_qos: QoS) -> Writer {
    let qos = qos::endpoint_qos(&ros_qos, M::TYPE_NAME).unwrap();
    p.writer(&names::dds_topic(topic), &names::dds_type_name(M::TYPE_NAME).unwrap(), &qos).unwrap()
}

fn reader_for<M: Message>(p: &Participant, topic: &str, ros_qos: QoS) -> Reader {
    let qos = qos::endpoint_qos(&ros_qos, M::TYPE_NAME).unwrap();
    p.reader(&names::dds_topic(topic), &names::dds_type_name(M::TYPE_NAME).unwrap(), &qos).unwrap()
}

fn wait_for_reader(writer: &Writer) {
    wait_until("the peer's reader discovered", || writer.matched_readers().unwrap() > 0);
}

/// What the peer saw of one of our endpoints.
fn check_endpoint(seen: &Value, topic: &str, type_name: &str, reliable: bool, depth: usize) {
    assert_eq!(seen["topic"], names::dds_topic(topic));
    assert_eq!(seen["type"], names::dds_type_name(type_name).unwrap());
    assert_eq!(seen["reliability"].as_str().unwrap().ends_with("BestEffort"), !reliable, "{seen}");
    assert_eq!(seen["history"], format!("Policy.History.KeepLast(depth={depth})"));
    assert_eq!(seen["durability"], "Policy.Durability.Volatile");
    assert_eq!(seen["user_data"], type_hash::user_data(type_name).unwrap());
}

/// The frame the peer makes for `seed`: its pixel pattern, rebuilt here.
fn peer_image(seed: usize) -> Image {
    let (width, height) = (1920, 1080);
    Image {
        header: Header { stamp: Time { sec: 1, nanosec: 2 }, frame_id: "camera_frame".into() },
        height,
        width,
        encoding: "bgr8".into(),
        is_bigendian: 0,
        step: width * 3,
        data: (0..(width * height * 3) as usize).map(|i| ((seed + i % 256) % 251) as u8).collect(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn int32_from_ipc_lab_to_a_cyclone_peer() {
    in_netns("interop::inner_int32_out", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of int32_from_ipc_lab_to_a_cyclone_peer"]
fn inner_int32_out() {
    let mut peer = Peer::start(&["sub-int32", "--count", "3"]);
    peer.next("ready");
    let p = participant();
    let writer = writer_for::<Int32>(&p, "number", QoS::from(10));
    check_endpoint(&peer.next("endpoint"), "number", Int32::TYPE_NAME, true, 10);
    wait_for_reader(&writer);
    for data in 0..3 {
        writer.write(&padded(Int32 { data }.to_cdr())).unwrap();
    }
    let received: Vec<_> = (0..3).map(|_| peer.next("received")).collect();
    assert_eq!(received, [0, 1, 2]);
}

#[test]
fn int32_from_a_cyclone_peer_to_ipc_lab() {
    in_netns("interop::inner_int32_in", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of int32_from_a_cyclone_peer_to_ipc_lab"]
fn inner_int32_in() {
    let p = participant();
    let reader = reader_for::<Int32>(&p, "number", QoS::from(10));
    let mut peer = Peer::start(&["pub-int32", "--count", "3"]);
    check_endpoint(&peer.next("endpoint"), "number", Int32::TYPE_NAME, true, 10);
    for data in 0..3 {
        let bytes = reader.take(Duration::from_secs(20)).unwrap().expect("a sample from the peer");
        // Byte for byte what ipc-lab would have sent: XCDR1, little-endian, 8 bytes.
        assert_eq!(bytes, padded(Int32 { data }.to_cdr()));
    }
}

#[test]
fn image_from_ipc_lab_to_a_cyclone_peer() {
    in_netns("interop::inner_image_out", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of image_from_ipc_lab_to_a_cyclone_peer"]
fn inner_image_out() {
    let mut peer = Peer::start(&[
        "sub-image",
        "--topic",
        "rt/image",
        "--best-effort",
        "--depth",
        "5",
        "--count",
        "1",
        "--timeout",
        "60",
    ]);
    peer.next("ready");
    let p = participant();
    let writer = writer_for::<Image>(&p, "image", QoS::sensor_data());
    check_endpoint(&peer.next("endpoint"), "image", Image::TYPE_NAME, false, 5);
    wait_for_reader(&writer);
    let image = peer_image(7);
    let bytes = padded(image.to_cdr());
    // Best effort, as the image nodes declare: a frame may be lost, so frames go on until
    // the peer has one.
    let received_one = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = received_one.clone();
    let sender = std::thread::spawn(move || {
        for _ in 0..300 {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            writer.write(&bytes).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let received = peer.next("received");
    received_one.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(received["width"], 1920);
    assert_eq!(received["height"], 1080);
    assert_eq!(received["encoding"], "bgr8");
    assert_eq!(received["step"], 5760);
    assert_eq!(received["frame_id"], "camera_frame");
    assert_eq!(received["size"], 1920 * 1080 * 3);
    assert_eq!(received["sha256"], sha256_hex(&image.data));
    sender.join().unwrap();
}

#[test]
fn image_from_a_cyclone_peer_to_ipc_lab() {
    in_netns("interop::inner_image_in", LARGE_BUFFER_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of image_from_a_cyclone_peer_to_ipc_lab"]
fn inner_image_in() {
    let p = participant();
    let reader = reader_for::<Image>(&p, "image", QoS::sensor_data());
    let mut peer = Peer::start(&["pub-image", "--topic", "rt/image", "--best-effort", "--depth", "5", "--count", "20"]);
    check_endpoint(&peer.next("endpoint"), "image", Image::TYPE_NAME, false, 5);
    let bytes = reader.take(Duration::from_secs(30)).unwrap().expect("a frame from the peer");
    let image = Image::from_cdr(&bytes).unwrap();
    let seed = usize::from(image.data[0]);
    assert_eq!(*image, peer_image(seed));
    // The peer's bytes are ipc-lab's encoding of the same image, padding aside.
    let ours = image.to_cdr();
    assert_eq!(&bytes[..ours.len()], &ours[..]);
    assert!(bytes.len() - ours.len() < 4);
}

#[test]
fn the_ros_graph_reaches_a_cyclone_peer() {
    in_netns("interop::inner_graph", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of the_ros_graph_reaches_a_cyclone_peer"]
fn inner_graph() {
    let mut peer = Peer::start(&["graph"]);
    peer.next("ready");
    let p = participant();
    let writer = writer_for::<Int32>(&p, "number", QoS::from(10));
    let graph_qos = qos::discovery_writer_qos();
    let type_name = names::dds_type_name(ParticipantEntitiesInfo::TYPE_NAME).unwrap();
    let graph = p.writer(names::DISCOVERY_TOPIC, &type_name, &graph_qos).unwrap();
    let mut node = NodeEntitiesInfo::new("producer");
    node.writer_gid_seq.push(writer.gid().unwrap());
    let info = ParticipantEntitiesInfo { gid: p.gid().unwrap(), node_entities_info_seq: vec![node] };
    graph.write(&padded(info.to_cdr())).unwrap();
    let seen = peer.next("endpoint");
    assert_eq!(seen["topic"], "ros_discovery_info");
    assert_eq!(seen["type"], "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_");
    assert_eq!(seen["durability"], "Policy.Durability.TransientLocal");
    assert_eq!(seen["user_data"], graph_qos.user_data);
    let nodes = peer.next("nodes");
    assert_eq!(nodes, serde_json::json!([{"namespace": "/", "name": "producer", "readers": 0, "writers": 1}]));
}

/// Waits up to 20 s for `ready` to say yes.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(20), "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_peer_type_with_the_same_name_and_another_hash_is_told_apart() {
    in_netns("interop::inner_type_mismatch", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of a_peer_type_with_the_same_name_and_another_hash_is_told_apart"]
fn inner_type_mismatch() {
    let p = participant();
    let reader = reader_for::<Int32>(&p, "number", QoS::from(10));
    let other = "RIHS01_00000000000000000000000000000000000000000000000000000000000000ff";
    let user_data = format!("typehash={other};");
    let _peer = Peer::start(&["pub-int32", "--count", "100", "--user-data", &user_data]);
    let mut writers = Vec::new();
    wait_until("the peer's writer matched", || {
        writers = reader.matched_writers().unwrap();
        !writers.is_empty()
    });
    assert_eq!(writers[0].type_name, "std_msgs::msg::dds_::Int32_");
    let ours = type_hash::rihs01(Int32::TYPE_NAME).unwrap();
    assert_eq!(
        type_hash::compare_peer(Int32::TYPE_NAME, &writers[0].user_data),
        PeerType::Different { ours, theirs: other.into() }
    );
}

#[test]
fn a_best_effort_peer_and_a_reliable_reader_do_not_communicate() {
    in_netns("interop::inner_incompatible_qos", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of a_best_effort_peer_and_a_reliable_reader_do_not_communicate"]
fn inner_incompatible_qos() {
    let p = participant();
    let reader = reader_for::<Int32>(&p, "number", QoS::from(10));
    let _peer = Peer::start(&["pub-int32", "--best-effort", "--count", "100"]);
    let mut incompatible = None;
    wait_until("an incompatible QoS reported", || {
        incompatible = reader.incompatible_qos().unwrap();
        incompatible.is_some()
    });
    assert_eq!(incompatible.unwrap().policy, "reliability");
    assert!(reader.matched_writers().unwrap().is_empty());
    assert_eq!(reader.take(Duration::from_millis(500)).unwrap(), None);
}

/// `ipc-lab` itself with `--transport dds`, in its own runtime directory, its stdout piped.
fn ipc_lab_dds(runtime: &std::path::Path, args: &[&str]) -> Child {
    only_loopback();
    crate::common::command(runtime)
        .args(args)
        .args(["--transport", "dds", "--lang", "en"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipc-lab starts")
}

/// The output of a child that has ended, which must have ended well: whatever a DDS peer
/// sent, ipc-lab reports it as events, never a panic or a failed exit.
fn stdout_of(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ipc_lab_producer_to_a_cyclone_peer() {
    in_netns("interop::inner_producer_out", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of ipc_lab_producer_to_a_cyclone_peer"]
fn inner_producer_out() {
    let mut peer = Peer::start(&["sub-int32", "--count", "3"]);
    peer.next("ready");
    let runtime = tempfile::tempdir().unwrap();
    let producer = ipc_lab_dds(runtime.path(), &["node", "producer", "--period", "100ms", "--format", "json"]);
    check_endpoint(&peer.next("endpoint"), "number", Int32::TYPE_NAME, true, 10);
    let received: Vec<_> = (0..3).map(|_| peer.next("received")).collect();
    crate::common::interrupt(&producer);
    let json = stdout_of(producer);
    // The producer counts from 0; the peer hears from the first sample after matching.
    let first = received[0].as_i64().unwrap();
    assert_eq!(received, [first, first + 1, first + 2]);
    let events = crate::common::events(&json);
    let written = crate::common::kind(&events, "written");
    assert!(!written.is_empty(), "{json}");
    assert!(written.iter().all(|w| w["bytes"] == 8), "{json}");
}

#[test]
fn a_cyclone_peer_to_the_ipc_lab_consumer() {
    in_netns("interop::inner_consumer_in", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of a_cyclone_peer_to_the_ipc_lab_consumer"]
fn inner_consumer_in() {
    let runtime = tempfile::tempdir().unwrap();
    let consumer = ipc_lab_dds(runtime.path(), &["node", "consumer", "--count", "3", "--format", "classic"]);
    let mut peer = Peer::start(&["pub-int32", "--count", "3"]);
    check_endpoint(&peer.next("endpoint"), "number", Int32::TYPE_NAME, true, 10);
    let out = stdout_of(consumer);
    for value in 0..3 {
        assert!(out.contains(&format!("Received message with value: {value},")), "{out}");
    }
}

/// Two ipc-lab processes over DDS: each one's JSON says what it copied, and nothing more.
#[test]
fn ipc_lab_producer_to_ipc_lab_consumer_over_dds() {
    in_netns("interop::inner_node_pair", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of ipc_lab_producer_to_ipc_lab_consumer_over_dds"]
fn inner_node_pair() {
    use ipc_lab::ledger::{Ledger, Tally};
    use ipc_lab::render::json::from_json;
    let runtime = tempfile::tempdir().unwrap();
    let consumer = ipc_lab_dds(runtime.path(), &["node", "consumer", "--count", "3", "--format", "json"]);
    let producer = ipc_lab_dds(runtime.path(), &["node", "producer", "--period", "100ms", "--format", "json"]);
    let consumer_json = stdout_of(consumer);
    crate::common::interrupt(&producer);
    let producer_json = stdout_of(producer);
    let fold = |json: &str| {
        let mut ledger = Ledger::default();
        let events: Vec<_> = json.lines().filter_map(from_json).collect();
        let receipts: Vec<_> = events.iter().filter_map(|e| ledger.record(e)).collect();
        (receipts, ledger.totals())
    };
    // The consumer: per message, the take out of Cyclone (8 B), the decoding (8 B) and
    // the UniquePtr copy (4 B); the sender's copies are not known over DDS.
    let (receipts, totals) = fold(&consumer_json);
    assert_eq!(receipts.len(), 3, "{consumer_json}");
    for receipt in &receipts {
        assert_eq!(receipt.cost(), Tally { copies: 3, bytes: 20 }, "{consumer_json}");
    }
    assert_eq!(totals.unclaimed(), Tally::default());
    // The producer: per message sent (once the consumer's reader matched), the encoding
    // and the hand-over to Cyclone, 8 B each, for a reader this trace does not cover.
    let (receipts, totals) = fold(&producer_json);
    assert!(receipts.is_empty());
    let events = crate::common::events(&producer_json);
    let sent = crate::common::kind(&events, "written").len() as u64;
    assert!(sent >= 3, "{producer_json}");
    assert_eq!(crate::common::kind(&events, "serialized").len() as u64, sent, "{producer_json}");
    assert_eq!(totals.all, Tally { copies: 2 * sent, bytes: 16 * sent }, "{producer_json}");
}

/// The consumer meets a peer whose Int32 has another hash and a best-effort peer its
/// reliable reader cannot hear: a `rejected` event for each, and the values of
/// the first still printed (the layout is the same here; the event says it may not be).
#[test]
fn the_ipc_lab_consumer_reports_a_foreign_hash_and_an_incompatible_qos() {
    in_netns("interop::inner_consumer_events", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of the_ipc_lab_consumer_reports_a_foreign_hash_and_an_incompatible_qos"]
fn inner_consumer_events() {
    let runtime = tempfile::tempdir().unwrap();
    let consumer = ipc_lab_dds(runtime.path(), &["node", "consumer", "--format", "json"]);
    let mut best_effort = Peer::start(&["pub-int32", "--best-effort", "--count", "1", "--timeout", "3"]);
    let other = "typehash=RIHS01_00000000000000000000000000000000000000000000000000000000000000ff;";
    let mut foreign = Peer::start(&["pub-int32", "--count", "3", "--user-data", other]);
    foreign.next("done");
    best_effort.next("done");
    crate::common::interrupt(&consumer);
    let json = stdout_of(consumer);
    let events = crate::common::events(&json);
    let reasons: Vec<_> =
        crate::common::kind(&events, "rejected").iter().map(|e| e["reason"].as_str().unwrap().to_owned()).collect();
    assert!(reasons.iter().any(|r| r.contains("sends another std_msgs/msg/Int32")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("incompatible reliability QoS")), "{reasons:?}");
    assert_eq!(crate::common::kind(&events, "received").len(), 3, "{json}");
}

/// ipc-lab's writers meet Cyclone readers that ask for more than they offer: a reliable
/// reader of the best-effort camera (what a default `ros2 topic echo /image` asks for) and
/// a transient-local reader of the volatile producer. Each publisher's node reports it
/// once, as an `incompatible_qos` event of the publisher's side (`offered`), never silence.
#[test]
fn ipc_lab_writers_report_readers_they_cannot_serve() {
    in_netns("interop::inner_offered_incompatible", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of ipc_lab_writers_report_readers_they_cannot_serve"]
fn inner_offered_incompatible() {
    let runtime = tempfile::tempdir().unwrap();
    let camera_args = ["node", "camera_node", "--source", "synthetic", "--size", "640x480", "--fps", "10"];
    let cases = [
        (
            &camera_args[..],
            &["sub-image", "--topic", "rt/image", "--depth", "5"][..],
            "camera_node",
            "image",
            "reliability",
        ),
        (
            &["node", "producer", "--period", "100ms"][..],
            &["sub-int32", "--transient-local"][..],
            "producer",
            "number",
            "durability",
        ),
    ];
    for (args, peer_args, node, topic, policy) in cases {
        let mut peer = Peer::start(&[peer_args, &["--count", "1", "--timeout", "60"]].concat());
        peer.next("ready");
        let publisher = ipc_lab_dds(runtime.path(), &[args, &["--format", "json"]].concat());
        let offered = |e: &Value| e["event"] == "incompatible_qos" && e["offered"] == true;
        let events = json_until(publisher, offered);
        let reported: Vec<_> = events.iter().filter(|e| offered(e)).collect();
        let said = |e: &&Value| e["event"] == "incompatible_qos" || e["event"] == "rejected";
        let told: Vec<_> = events.iter().filter(said).collect();
        assert_eq!(reported.len(), 1, "{node}: {} events, of them {told:?}", events.len());
        let event = reported[0];
        assert_eq!((event["node"].as_str(), event["publisher_node"].as_str()), (Some(node), Some(node)), "{event}");
        assert_eq!((event["topic"].as_str(), event["policy"].as_str()), (Some(topic), Some(policy)), "{event}");
        drop(peer);
    }
}

/// Reads `child`'s JSON lines until one is `found` (a minute at most, so that a missing
/// event fails instead of hanging), stops it with Ctrl-C, and returns every event it
/// printed, after checking that it ended well.
fn json_until(mut child: Child, found: impl Fn(&Value) -> bool) -> Vec<Value> {
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events = Vec::new();
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        let done = found(&event);
        events.push(event);
        if done {
            break;
        }
    }
    crate::common::interrupt(&child);
    stdout_of(child);
    reader.join().unwrap();
    events.extend(lines.try_iter().filter_map(|l| serde_json::from_str::<Value>(&l).ok()));
    events
}

/// `ipc-lab` with `args` and the environment `env` (pairs), to its end: its stdout, after
/// checking that it ended well without a panic.
fn ipc_lab_run(runtime: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    only_loopback();
    let mut command = crate::common::command(runtime);
    command.args(args).args(["--lang", "en"]).env_remove("RMW_IMPLEMENTATION");
    command.envs(env.iter().copied());
    stdout_of(command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("ipc-lab starts"))
}

/// The chapter's two terminals, each node in a child process, talking through Cyclone:
/// `two-node --split --transport dds`, and `cyclic --split` with DDS chosen as ROS 2
/// chooses it, by `RMW_IMPLEMENTATION`. Every hand-over went to DDS (`to_pid` 0), none
/// through a socket. The side view names the sender as a DDS writer (a sample names no
/// process) and counts the take out of DDS, never a socket read or a sender's frame.
#[test]
fn split_demos_over_dds() {
    in_netns("interop::inner_split_demos", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of split_demos_over_dds"]
fn inner_split_demos() {
    let runtime = tempfile::tempdir().unwrap();
    let two_node = ["two-node", "--split", "--transport", "dds", "--count", "3", "--period", "100ms"];
    let classic = ipc_lab_run(runtime.path(), &[&two_node[..], &["--format", "classic"]].concat(), &[]);
    assert_eq!(classic.matches(" Received message with value: ").count(), 3, "{classic}");
    let side = ipc_lab_run(runtime.path(), &[&two_node[..], &["--stable"]].concat(), &[]);
    let rows: Vec<&str> = side.lines().filter(|l| l.contains("──▶ consumer")).collect();
    assert_eq!(rows.len(), 3, "{side}");
    for row in rows {
        assert!(row.contains("a DDS writer") && row.contains("taken from DDS 8 B + deserialize 8 B"), "{side}");
        assert!(!row.contains("socket") && !row.contains("serialize 0 B"), "{side}");
    }
    assert!(side.contains("as counted on the receiving side"), "{side}");
    let cyclic = ["cyclic", "--split", "--count", "4", "--period", "100ms", "--format", "json"];
    let json = ipc_lab_run(runtime.path(), &cyclic, &[("RMW_IMPLEMENTATION", "rmw_cyclonedds_cpp")]);
    let events = crate::common::events(&json);
    assert!(crate::common::kind(&events, "received").len() >= 4, "{json}");
    let written = crate::common::kind(&events, "written");
    assert!(!written.is_empty() && written.iter().all(|w| w["to_pid"] == 0), "{json}");
    assert!(crate::common::kind(&events, "shm_written").is_empty(), "{json}");
}

/// The image nodes over DDS: ipc-lab's camera to the Python peer (what `rqt_image_view`
/// would see), the peer's frames to ipc-lab's view (a `cam2image` remapped to
/// `watermarked_image`), and ipc-lab's three image nodes in three processes.
#[test]
fn image_nodes_over_dds() {
    in_netns("interop::inner_image_nodes", LARGE_BUFFER_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of image_nodes_over_dds"]
fn inner_image_nodes() {
    let runtime = tempfile::tempdir().unwrap();
    let camera_args = ["node", "camera_node", "--source", "synthetic", "--size", "640x480", "--fps", "10"];
    let mut peer = Peer::start(&["sub-image", "--topic", "rt/image", "--best-effort", "--depth", "5", "--count", "1"]);
    peer.next("ready");
    let camera = ipc_lab_dds(runtime.path(), &[&camera_args[..], &["--format", "json"]].concat());
    check_endpoint(&peer.next("endpoint"), "image", Image::TYPE_NAME, false, 5);
    let frame = peer.next("received");
    assert_eq!((frame["width"].as_u64(), frame["height"].as_u64()), (Some(640), Some(480)), "{frame}");
    assert_eq!(frame["encoding"], "bgr8");
    drop(peer);
    // The same camera, a watermark and a view: three processes, one DDS domain.
    let watermark = ipc_lab_dds(runtime.path(), &["node", "watermark_node", "--format", "json"]);
    let view_args = ["node", "image_view_node", "--show", "none", "--count", "3", "--format", "classic"];
    let view = stdout_of(ipc_lab_dds(runtime.path(), &view_args));
    assert_eq!(view.lines().filter(|l| l.starts_with("pid: ")).count(), 3, "{view}");
    for node in [camera, watermark] {
        crate::common::interrupt(&node);
        stdout_of(node);
    }
    // The peer's 1920x1080 frames on rt/watermarked_image reach the view.
    let view_args = ["node", "image_view_node", "--show", "none", "--count", "1", "--format", "json"];
    let view = ipc_lab_dds(runtime.path(), &view_args);
    let _peer = Peer::start(&[
        "pub-image",
        "--topic",
        "rt/watermarked_image",
        "--best-effort",
        "--depth",
        "5",
        "--count",
        "30",
    ]);
    let json = stdout_of(view);
    let events = crate::common::events(&json);
    let received = crate::common::kind(&events, "received");
    assert_eq!(received.len(), 1, "{json}");
    assert!(received[0]["value"].as_str().unwrap().starts_with("1920x1080 bgr8"), "{json}");
}

/// `image-pipeline --transport dds`: the all-in-one pipeline keeps its own three nodes in
/// one process, and its frames reach a view in another process (`ipc-lab node
/// image_view_node`) and a Cyclone reader of `rt/watermarked_image` (what `rqt_image_view`
/// would subscribe to) through DDS; everything it handed to DDS went to the middleware.
#[test]
fn the_all_in_one_pipeline_over_dds() {
    in_netns("interop::inner_pipeline", LARGE_BUFFER_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of the_all_in_one_pipeline_over_dds"]
fn inner_pipeline() {
    let runtime = tempfile::tempdir().unwrap();
    let topic = ["--topic", "rt/watermarked_image", "--best-effort", "--depth", "5", "--count", "1"];
    let mut peer = Peer::start(&[&["sub-image"][..], &topic].concat());
    peer.next("ready");
    let pipeline_args = ["image-pipeline", "--source", "synthetic", "--size", "320x240", "--fps", "10"];
    let pipeline = ipc_lab_dds(runtime.path(), &[&pipeline_args[..], &["--show", "none", "--format", "json"]].concat());
    check_endpoint(&peer.next("endpoint"), "watermarked_image", Image::TYPE_NAME, false, 5);
    let frame = peer.next("received");
    assert_eq!((frame["width"].as_u64(), frame["height"].as_u64()), (Some(320), Some(240)), "{frame}");
    let view_args = ["node", "image_view_node", "--show", "none", "--count", "3", "--format", "json"];
    let view = stdout_of(ipc_lab_dds(runtime.path(), &view_args));
    let view_events = crate::common::events(&view);
    let received = crate::common::kind(&view_events, "received");
    assert_eq!(received.len(), 3, "{view}");
    assert!(received.iter().all(|r| r["value"] == "320x240 bgr8"), "{view}");
    crate::common::interrupt(&pipeline);
    let json = stdout_of(pipeline);
    let events = crate::common::events(&json);
    // Inside the pipeline the view still gets each frame from the watermark node.
    let views: Vec<_> =
        crate::common::kind(&events, "received").into_iter().filter(|r| r["node"] == "image_view_node").collect();
    assert!(!views.is_empty(), "{json}");
    let written = crate::common::kind(&events, "written");
    assert!(written.iter().any(|w| w["topic"] == "watermarked_image"), "{json}");
    assert!(written.iter().all(|w| w["to_pid"] == 0), "{json}");
    assert!(crate::common::kind(&events, "rejected").is_empty(), "{json}");
}

/// `ipc-lab echo` on DDS learns the type from DDS discovery (the peer's writer says
/// `std_msgs::msg::dds_::Int32_`), and hears a best-effort writer because it asks for best
/// effort when a publisher offers only that; `ipc-lab ps` says it runs on DDS.
#[test]
fn echo_learns_the_type_from_dds_discovery() {
    in_netns("interop::inner_echo", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of echo_learns_the_type_from_dds_discovery"]
fn inner_echo() {
    let runtime = tempfile::tempdir().unwrap();
    let echo = ipc_lab_dds(runtime.path(), &["echo", "number", "--count", "2"]);
    let mut peer = Peer::start(&["pub-int32", "--best-effort", "--count", "30"]);
    // The echo process, as `ipc-lab ps` lists it: on DDS.
    let echo_of = |listed: &str| {
        let lines = listed.lines().map(|l| serde_json::from_str::<Value>(l).unwrap());
        lines.into_iter().find(|p| p["command"].as_str().is_some_and(|c| c.contains("echo number")))
    };
    let mut listed = None;
    wait_until("echo listed by ps", || {
        listed = echo_of(&ipc_lab_run(runtime.path(), &["ps", "--json"], &[]));
        listed.is_some()
    });
    assert_eq!(listed.unwrap()["transport"], "dds");
    // An echo that heard nothing by the peer's end is stopped, and fails below.
    peer.next("done");
    let mut echo = echo;
    if echo.try_wait().unwrap().is_none() {
        crate::common::interrupt(&echo);
    }
    let out = stdout_of(echo);
    let values: Vec<_> = out.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(values.len(), 2, "{out}");
    assert!(out.ends_with("---\n"), "{out}");
}

/// When a publisher, then its node, ends in a process that goes on, `ros_discovery_info`
/// says so: the writer's GID leaves the node, then the node leaves the list (what
/// `ros2 node info` and `ros2 node list` show).
#[test]
fn ended_endpoints_leave_the_ros_graph() {
    in_netns("interop::inner_graph_removal", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of ended_endpoints_leave_the_ros_graph"]
fn inner_graph_removal() {
    use ipc_lab::engine::transport::{TransportKind, TransportOptions};
    use ipc_lab::engine::{Context, InitOptions, Node, NodeOptions};
    let runtime = tempfile::tempdir().unwrap();
    std::env::set_var("XDG_RUNTIME_DIR", runtime.path());
    let mut peer = Peer::start(&["graph", "--follow", "--timeout", "30"]);
    peer.next("ready");
    let ctx = Context::init_with(InitOptions::default());
    let options = TransportOptions { kind: TransportKind::Dds, command: "interop".into() };
    ctx.enable_transport(options).unwrap();
    let node = Node::new(&ctx, "producer", NodeOptions::default()).unwrap();
    let publisher = node.create_publisher::<Int32>("number", 10).unwrap();
    let mut wait_for = |expected: Value| {
        let mut seen = Vec::new();
        loop {
            let nodes = peer.next("nodes");
            if nodes == expected {
                return;
            }
            assert!(seen.len() < 100, "never {expected}: {seen:?}");
            seen.push(nodes);
        }
    };
    let producer =
        |writers| serde_json::json!([{"namespace": "/", "name": "producer", "readers": 0, "writers": writers}]);
    wait_for(producer(1));
    drop(publisher);
    wait_for(producer(0));
    drop(node);
    wait_for(serde_json::json!([]));
}

/// A peer whose `sensor_msgs::msg::dds_::Image_` is another layout (two fields), and one
/// that sends bytes no Image decodes from: each sample is a `rejected` event naming the
/// type and what was wrong, the view goes on, and ends cleanly.
#[test]
fn another_layout_and_garbage_are_rejected_events() {
    in_netns("interop::inner_bad_samples", LOOPBACK_CONFIG);
}

#[test]
#[ignore = "runs inside the network namespace of another_layout_and_garbage_are_rejected_events"]
fn inner_bad_samples() {
    let runtime = tempfile::tempdir().unwrap();
    let view = ipc_lab_dds(runtime.path(), &["node", "image_view_node", "--show", "none", "--format", "json"]);
    let common = ["--topic", "rt/watermarked_image", "--best-effort", "--depth", "5", "--count", "3"];
    for role in ["pub-other-image", "pub-garbage-image"] {
        let mut peer = Peer::start(&[&[role][..], &common].concat());
        peer.next("done");
    }
    crate::common::interrupt(&view);
    let json = stdout_of(view);
    let events = crate::common::events(&json);
    let reasons: Vec<_> =
        crate::common::kind(&events, "rejected").iter().map(|e| e["reason"].as_str().unwrap().to_owned()).collect();
    let other = "sensor_msgs/msg/Image: truncated CDR data: 4 bytes needed at offset 8";
    let garbage = "sensor_msgs/msg/Image: truncated CDR data: 4294967295 bytes needed at offset 12";
    assert!(reasons.iter().any(|r| r == other), "{reasons:?}");
    assert!(reasons.iter().any(|r| r == garbage), "{reasons:?}");
    assert!(crate::common::kind(&events, "received").is_empty(), "{json}");
}
