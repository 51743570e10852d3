//! The shared-memory pool against peers that do not play by the rules: a publisher that
//! sends descriptors of the wrong kind, unsealed or too small, or slot references past the
//! end; a subscriber that never gives its slots back, gives back ones it does not hold, and
//! dies. Each is refused or reclaimed with an event; nothing panics, nothing crashes with
//! SIGBUS, and the well-behaved side goes on.

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{events, eventually, interrupt, kind, rejected_reasons, socket_of, stop_cleanly, FrameReader};
use ipc_lab::engine::transport::discovery::{self, Announcement, Endpoint};
use ipc_lab::engine::transport::frame::{
    Frame, FrameHeader, Payload, ReleaseFrame, SlotRef, ACK_LEN, KIND_ACK, KIND_RELEASE, PREFIX_LEN, RELEASE_LEN,
};
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

fn spawn(runtime: &Path, args: &[&str]) -> Child {
    common::command(runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// A memfd of `size` bytes holding `bytes` at its start, with `seals`.
fn memfd(size: u64, bytes: &[u8], sealable: bool, seals: SealFlag) -> OwnedFd {
    let flags = if sealable { MFdFlags::MFD_ALLOW_SEALING } else { MFdFlags::empty() };
    let mut file = std::fs::File::from(memfd_create(c"test", flags).unwrap());
    file.set_len(size).unwrap();
    file.write_all(bytes).unwrap();
    if !seals.is_empty() {
        fcntl(&file, FcntlArg::F_ADD_SEALS(seals)).unwrap();
    }
    OwnedFd::from(file)
}

fn sealed() -> SealFlag {
    SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_FUTURE_WRITE | SealFlag::F_SEAL_SEAL
}

/// A shared-memory frame on `number` from this process's publisher 1.
fn slot_frame(seq: u64, slot: SlotRef) -> Vec<u8> {
    let header = FrameHeader {
        topic: "number".into(),
        type_name: "std_msgs/msg/Int32".into(),
        publisher_pid: std::process::id(),
        publisher_id: 1,
        seq,
        node: "intruder".into(),
        message_addr: 0,
        copied_bytes: 0,
        serialized_bytes: 8,
        written_bytes: 0,
    };
    Frame { header, payload: Payload::SharedMemory(slot) }.encode()
}

/// Writes `frame` with `fd` attached (if any) on a new connection to `socket`.
fn send_with(socket: &Path, frame: &[u8], fd: Option<&OwnedFd>) -> UnixStream {
    let stream = UnixStream::connect(socket).unwrap();
    let fds: Vec<i32> = fd.iter().map(|fd| fd.as_fd().as_raw_fd()).collect();
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    let iov = [std::io::IoSlice::new(frame)];
    let sent = sendmsg::<()>(stream.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None).unwrap();
    assert_eq!(sent, frame.len());
    stream
}

/// Descriptors of the wrong kind, unsealed or too small, references past the end or to a
/// slot never sent, a flood: each refused once with its reason, and the connection closed.
/// A good slot in between is received, and its release comes back on the same connection.
#[test]
fn a_hostile_publisher_is_refused_without_a_crash() {
    let runtime = tempfile::tempdir().unwrap();
    let consumer = spawn(runtime.path(), &["node", "consumer", "--transport", "shm", "--format", "json"]);
    let socket = socket_of(runtime.path(), &consumer);
    let _announced = common::announce_self(runtime.path());
    let at = |offset, len| SlotRef { slot: 0, offset, len };
    let hostile = |frame: Vec<u8>, fd: Option<OwnedFd>| {
        drop(send_with(&socket, &frame, fd.as_ref()));
        std::thread::sleep(Duration::from_millis(100));
    };
    let cdr = [0, 1, 0, 0, 42, 0, 0, 0];
    hostile(slot_frame(1, at(0, 8)), Some(memfd(4096, &cdr, false, SealFlag::empty())));
    let (pipe, _writer) = nix::unistd::pipe().unwrap();
    hostile(slot_frame(2, at(0, 8)), Some(pipe));
    hostile(slot_frame(3, at(0, 8)), Some(std::fs::File::open(runtime.path()).unwrap().into()));
    hostile(slot_frame(4, at(u64::MAX - 4, 8)), Some(memfd(4096, &cdr, true, sealed())));
    hostile(slot_frame(5, at(0, 8192)), Some(memfd(4096, &cdr, true, sealed())));
    hostile(slot_frame(6, at(0, 8)), None);
    // A flood of references to a slot never sent: refused once, then the connection is gone.
    let flood: Vec<u8> = (0..1000).flat_map(|seq| slot_frame(100 + seq, SlotRef { slot: 7, ..at(0, 8) })).collect();
    let mut stream = UnixStream::connect(&socket).unwrap();
    let _ = stream.write_all(&flood);
    drop(stream);

    // A good one: received, and given back on the same connection once decoded.
    let mut good = send_with(&socket, &slot_frame(7, at(0, 8)), Some(&memfd(4096, &cdr, true, sealed())));
    good.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The acknowledgement of the frame may come first.
    let mut release = [0u8; PREFIX_LEN + RELEASE_LEN];
    good.read_exact(&mut release[..PREFIX_LEN]).unwrap();
    if u16::from_le_bytes([release[6], release[7]]) == KIND_ACK {
        good.read_exact(&mut [0u8; ACK_LEN]).unwrap();
        good.read_exact(&mut release[..PREFIX_LEN]).unwrap();
    }
    good.read_exact(&mut release[PREFIX_LEN..]).unwrap();
    assert_eq!(u16::from_le_bytes([release[6], release[7]]), KIND_RELEASE);
    assert_eq!(ReleaseFrame::decode(&release[PREFIX_LEN..]), Some(ReleaseFrame { publisher: 1, slot: 0 }));

    let events = stop_cleanly(consumer);
    let reasons = rejected_reasons(&events);
    assert_eq!(reasons.len(), 7, "{reasons:?}");
    assert!(reasons[0].contains("not sealed"), "{}", reasons[0]);
    assert!(reasons[1].contains("not a memfd") && reasons[2].contains("not a memfd"), "{reasons:?}");
    assert!(reasons[3].contains("past the end") && reasons[4].contains("past the end"), "{reasons:?}");
    assert!(reasons[5].contains("never sent here") && reasons[6].contains("never sent here"), "{reasons:?}");
    let received = kind(&events, "received");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["value"], "42");
    let mapped = kind(&events, "mapped");
    assert_eq!(mapped.len(), 1);
    assert!(mapped[0]["inode"].as_u64().unwrap() > 0);
}

/// A fake subscriber process (this test): it announces a subscription to `number`, takes
/// the producer's frames and never releases a slot.
struct Hoarder {
    listener: UnixListener,
    dir: std::path::PathBuf,
}

impl Hoarder {
    fn announce(dir: &Path) -> Hoarder {
        let socket = discovery::socket_path(dir, std::process::id(), 0);
        let listener = UnixListener::bind(&socket).unwrap();
        let endpoint =
            Endpoint { node: "hoarder".into(), topic: "number".into(), type_name: "std_msgs/msg/Int32".into() };
        let announcement = Announcement {
            pid: std::process::id(),
            ppid: 1,
            command: "hoarder".into(),
            domain: 0,
            started: 0,
            ipc: "off".into(),
            transport: "shm".into(),
            socket,
            nodes: vec!["hoarder".into()],
            publishers: Vec::new(),
            subscriptions: vec![endpoint],
        };
        discovery::write(dir, &announcement).unwrap();
        Hoarder { listener, dir: dir.to_path_buf() }
    }
}

impl Drop for Hoarder {
    fn drop(&mut self) {
        discovery::remove(&self.dir, std::process::id(), 0);
    }
}

/// A subscriber that holds every slot: the pool says so (`pool_exhausted`, held by it) and
/// the publisher goes on; a release of a slot it does not hold is refused; its connection
/// closing (as when it is killed) gives every slot back at once (`reclaimed`).
#[test]
fn a_subscriber_that_never_releases_exhausts_the_pool_and_its_end_reclaims_it() {
    let runtime = tempfile::tempdir().unwrap();
    let producer =
        spawn(runtime.path(), &["node", "producer", "--transport", "shm", "--period", "5ms", "--format", "json"]);
    let dir = runtime.path().join("ipc-lab");
    eventually("the runtime directory", || dir.join(format!("{}-0.sock", producer.id())).exists());
    let hoarder = Hoarder::announce(&dir);
    let (stream, _) = hoarder.listener.accept().unwrap();
    // Read (and so drop) whatever comes, descriptors included, for a while.
    stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut reader = FrameReader::new(stream);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(800) {
        let _ = reader.next();
    }
    let mut stream = reader.stream;
    let _ = stream.write_all(&ReleaseFrame { publisher: 1, slot: 99 }.encode());
    std::thread::sleep(Duration::from_millis(300));
    drop(stream);
    drop(hoarder);
    std::thread::sleep(Duration::from_millis(100));
    interrupt(&producer);
    let out = producer.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let events = events(&String::from_utf8(out.stdout).unwrap());
    let me = u64::from(std::process::id());
    let exhausted = kind(&events, "pool_exhausted");
    assert!(!exhausted.is_empty(), "the pool never filled up");
    assert_eq!(exhausted[0]["held_by"], me);
    // The producer's depth (10) waiting, half of it in the socket (5), and 8 more read and
    // not yet taken by the subscriptions.
    assert_eq!(exhausted[0]["slots"], 23);
    let rejected = kind(&events, "rejected");
    assert!(rejected.iter().any(|r| r["reason"].as_str().unwrap().contains("does not hold")), "{rejected:?}");
    // The refused release closed the connection: every slot came back at once. (The
    // producer may connect again before the announcement goes, and be reclaimed again.)
    let reclaimed = kind(&events, "reclaimed");
    assert!(!reclaimed.is_empty());
    assert_eq!((reclaimed[0]["peer_pid"].as_u64(), reclaimed[0]["slots"].as_u64()), (Some(me), Some(23)));
    // The producer never stopped publishing.
    let last_published = events.iter().rposition(|e| e["event"] == "published").unwrap();
    assert!(last_published > events.iter().position(|e| e["event"] == "pool_exhausted").unwrap());
}

/// `ipc-lab ps` shows each process's share of the shared-memory slots: a page that the
/// producer wrote and the consumer read is mapped by both, and `/proc/<pid>/smaps` counts half
/// of it for each (Pss below Rss); a process that maps no slot has no such figure.
#[test]
fn ps_shows_the_slots_shared_by_two_processes() {
    let runtime = tempfile::tempdir().unwrap();
    let consumer = spawn(runtime.path(), &["node", "consumer", "--transport", "shm"]);
    let producer = spawn(runtime.path(), &["node", "producer", "--transport", "shm", "--period", "20ms"]);
    let ps = || {
        let out = common::command(runtime.path()).args(["ps", "--json"]).output().unwrap();
        assert!(out.status.success());
        events(&String::from_utf8(out.stdout).unwrap())
    };
    let of = |entries: &[serde_json::Value], pid: u32| entries.iter().find(|e| e["pid"] == pid).cloned();
    eventually("both to map slots", || {
        let entries = ps();
        [producer.id(), consumer.id()].iter().all(|&pid| of(&entries, pid).is_some_and(|e| e["shm_pss_bytes"].is_u64()))
    });
    let entries = ps();
    let producer_entry = of(&entries, producer.id()).unwrap();
    let (rss, pss) =
        (producer_entry["shm_rss_bytes"].as_u64().unwrap(), producer_entry["shm_pss_bytes"].as_u64().unwrap());
    assert!(rss > 0 && pss < rss, "shared pages count half: rss {rss}, pss {pss}");
    let table = common::command(runtime.path()).args(["ps", "--lang", "en"]).output().unwrap();
    assert!(String::from_utf8(table.stdout).unwrap().lines().next().unwrap().contains("SHM PSS"));
    for child in [&producer, &consumer] {
        interrupt(child);
    }
    for child in [producer, consumer] {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    eventually("the runtime directory to empty", || common::leftovers(runtime.path()).is_empty());
}
