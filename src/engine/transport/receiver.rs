//! The receiving side: accept connections from publishers in other processes, read their
//! frames, refuse what is malformed, and hand the rest to the local subscriptions.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::budget::{self, Share};
use super::frame::{FrameHeader, Prefix, MAX_FDS_PER_FRAME, MAX_PAYLOAD, PREFIX_LEN};
use nix::sys::socket::MsgFlags;

use super::frame::{AckFrame, ReleaseFrame, ACK_LEN, KIND_ACK, KIND_RELEASE, RELEASE_LEN};
use super::link::Link;
use super::outbox::Outbox;
use super::{socket, Arrived, BackChannel, Handed, Incoming, Transport, SCAN_PERIOD};
use crate::engine::text::LineText;
use crate::engine::trace::{EventKind, MessageRef, Origin, Publication};
use crate::engine::wire::{Arrival, WireSample};

/// More simultaneous publishers than any demo has: beyond this, a new connection is read
/// only in the place of a quiet one ([`QUIET_EVICTION`]), else refused, so that a local peer
/// cannot make us start threads without end.
pub const MAX_CONNECTIONS: usize = 64;

/// Connections from one process read at once: a process sends to us on one (`outbox.rs`),
/// and a second covers a reconnection while the old one is read to its end. Beyond, a
/// connection is refused: one process cannot take the places of the others.
pub const MAX_CONNECTIONS_PER_PEER: usize = 2;

/// A connection that sends no byte this long after it is accepted is closed: a publisher
/// connects when it has a frame and writes it at once. (Between frames a connection may be
/// quiet for as long as its publisher is: closing it would tell both sides the peer is
/// gone.)
pub const SILENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Once the first byte of a frame is read, the whole frame must be there within this: a
/// peer that stalls in the middle of a frame, or sends it a byte at a time, is closed. The
/// largest frame takes milliseconds. It also bounds how long a payload waits for room in
/// the memory budget (`budget.rs`).
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// When [`MAX_CONNECTIONS`] are read, a new connection takes the place of the one that has
/// been quiet the longest, if that one has been quiet at least this long: connections that
/// sent a frame and then nothing (from many processes) cannot keep a publisher out.
pub const QUIET_EVICTION: Duration = Duration::from_secs(1);

/// A connection being read, and the process at its other end.
struct Reader {
    pid: u32,
    thread: JoinHandle<()>,
    activity: Arc<Activity>,
}

/// What the accept loop knows of a connection being read, kept up by its reader.
struct Activity {
    /// When its last byte came (or it was accepted).
    heard: Mutex<Instant>,
    /// Told to end, to make room for a new connection.
    evicted: AtomicBool,
}

impl Activity {
    fn new() -> Activity {
        Activity { heard: Mutex::new(Instant::now()), evicted: AtomicBool::new(false) }
    }

    fn heard(&self) {
        *self.heard.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn quiet_for(&self) -> Duration {
        self.heard.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }

    fn evicted(&self) -> bool {
        self.evicted.load(Ordering::SeqCst)
    }
}

impl Link {
    pub(super) fn accept_loop(self: Arc<Self>, listener: UnixListener, transport: Weak<dyn Transport>) {
        let mut readers: Vec<Reader> = Vec::new();
        while !self.stopping() {
            readers.retain(|r| !r.thread.is_finished());
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            // Who is really on the other end, as the kernel says: a frame cannot claim
            // another pid.
            let pid = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
                .map_or(0, |c| c.pid() as u32);
            if let Err(why) = self.admit(&readers, pid) {
                // Closed by dropping it; said once per connection refused.
                self.reject(pid, &why);
                continue;
            }
            let activity = Arc::new(Activity::new());
            let (link, transport, heard) = (self.clone(), transport.clone(), activity.clone());
            let thread = std::thread::spawn(move || link.read_loop(stream, pid, heard, &transport));
            readers.push(Reader { pid, thread, activity });
        }
    }

    /// Whether a new connection from `pid` is read: only from a process that announced
    /// itself, at most [`MAX_CONNECTIONS_PER_PEER`] of its own, and at most
    /// [`MAX_CONNECTIONS`] in all, the quietest making room ([`QUIET_EVICTION`]). `Err` says
    /// why not.
    fn admit(&self, readers: &[Reader], pid: u32) -> Result<(), String> {
        if !self.announced(pid) {
            return Err(format!(
                "pid {pid} has no announcement in the runtime directory: only an ipc-lab process is read"
            ));
        }
        let live: Vec<&Reader> = readers.iter().filter(|r| !r.activity.evicted()).collect();
        let theirs = live.iter().filter(|r| r.pid == pid).count();
        if theirs >= MAX_CONNECTIONS_PER_PEER {
            return Err(format!("pid {pid} already has {theirs} connections, at most {MAX_CONNECTIONS_PER_PEER}"));
        }
        if live.len() < MAX_CONNECTIONS {
            return Ok(());
        }
        let quietest = live.iter().map(|r| (r.activity.quiet_for(), r)).max_by_key(|(quiet, _)| *quiet);
        match quietest {
            Some((quiet, r)) if quiet >= QUIET_EVICTION => {
                r.activity.evicted.store(true, Ordering::SeqCst);
                Ok(())
            }
            _ => Err(format!("{MAX_CONNECTIONS} connections are read already, none quiet for {QUIET_EVICTION:?}")),
        }
    }

    pub(super) fn reject(&self, from_pid: u32, reason: &str) {
        self.tracer.emit(&Arc::from(""), || EventKind::Rejected { from_pid, reason: LineText::cut(reason) });
    }

    /// Reads frames until the peer closes, a frame is malformed, it is too slow, its place is
    /// taken, or we stop; then forgets what the peer had sent.
    fn read_loop(&self, stream: UnixStream, peer_pid: u32, activity: Arc<Activity>, transport: &Weak<dyn Transport>) {
        // Wake up now and then to notice a stop and the deadlines.
        let _ = stream.set_read_timeout(Some(SCAN_PERIOD));
        let Ok(back) = stream.try_clone() else { return };
        // A sender that does not read what we say back (acknowledgements, releases) is not
        // waited for: the write fails, and the connection ends.
        let _ = back.set_write_timeout(Some(SCAN_PERIOD));
        let back = Arc::new(BackChannel(std::sync::Mutex::new(back)));
        if let Err(Ended::Refused(reason)) = self.read_frames(&stream, peer_pid, &back, activity, transport) {
            self.reject(peer_pid, &reason);
        }
        if let Some(transport) = transport.upgrade() {
            transport.peer_gone(peer_pid);
        }
    }

    /// Reads and hands on frames until the connection ends: `Ok` when the peer closed it
    /// between frames, or nobody needs it any more.
    fn read_frames(
        &self,
        stream: &UnixStream,
        peer_pid: u32,
        back: &Arc<BackChannel>,
        activity: Arc<Activity>,
        transport: &Weak<dyn Transport>,
    ) -> Result<(), Ended> {
        // Frames read and not acknowledged yet.
        let mut unacked = 0;
        let mut clock = Clock::first_frame(activity);
        while let Some((prefix, header, payload, fds)) = self.next_frame(stream, &mut clock)? {
            if header.publisher_pid != peer_pid {
                let claim = format!("the frame claims pid {}, the socket says {peer_pid}", header.publisher_pid);
                return Err(Ended::Refused(claim));
            }
            let Some(transport) = transport.upgrade() else { return Ok(()) };
            let (kind, publisher) = (prefix.kind, header.publisher_id);
            let incoming = Incoming { from_pid: peer_pid, kind, publisher, payload, fds, back: back.clone() };
            match transport.receive(incoming) {
                Ok(arrived) => self.pass_to_local_subscriptions(peer_pid, &header, &sample(peer_pid, &header, arrived)),
                // A peer that sends what no transport can take is broken or hostile: the
                // connection ends here, so a flood of them costs one event.
                Err(reason) => return Err(Ended::Refused(reason)),
            }
            if !acknowledge(stream, back, &mut unacked) {
                return Ok(());
            }
            clock.between_frames();
        }
        Ok(())
    }

    /// The next whole frame: its prefix, header, payload and descriptors; `None` when the
    /// peer closed between frames or we stop.
    fn next_frame(&self, stream: &UnixStream, clock: &mut Clock) -> Result<Option<NextFrame>, Ended> {
        let mut prefix = [0u8; PREFIX_LEN];
        let Some(fds) = self.read_prefix(stream, &mut prefix, clock)? else { return Ok(None) };
        let prefix = Prefix::decode(&prefix, MAX_PAYLOAD).map_err(|e| Ended::Refused(e.to_string()))?;
        // At most MAX_HEADER bytes, checked by the prefix.
        let mut header = vec![0u8; prefix.header_len];
        self.read_exact_until(stream, &mut header, clock)?;
        let header = FrameHeader::decode(&header).map_err(|e| Ended::Refused(e.to_string()))?;
        let payload = self.read_payload(stream, prefix.payload_len, clock)?;
        Ok(Some((prefix, header, payload, fds)))
    }

    /// Reads a payload of `len` bytes (the length its prefix declared, within
    /// [`MAX_PAYLOAD`]) a piece at a time, each piece taken from the process's budget for
    /// frames being read (`budget.rs`) before it is read, and given back once the payload is
    /// whole. The buffer is one allocation of `len` bytes, so the bytes are never moved once
    /// read (no copy the trace would not show); it is not filled first, and the kernel gives
    /// a page of it memory only when the first byte read lands there: what the peer sends
    /// costs memory, not what it declares.
    fn read_payload(&self, stream: &UnixStream, len: usize, clock: &mut Clock) -> Result<Vec<u8>, Ended> {
        let mut payload = Vec::new();
        if payload.try_reserve_exact(len).is_err() {
            return Err(Ended::Refused(format!("no room for a payload of {len} bytes")));
        }
        let mut share = Share::new(&budget::PARTIAL_FRAMES);
        while payload.len() < len {
            if share.held() == payload.len() {
                let piece = (len - payload.len()).min(budget::READ_PIECE);
                // Waiting for room counts in the frame's time: payloads that wait hold what
                // they have, and the oldest is cut off first, so they never wait for each
                // other for ever.
                let until = clock.until.unwrap_or_else(|| Instant::now() + FRAME_TIMEOUT);
                if !share.grow(piece, until, &|| self.stopping()) {
                    return Err(self.quietly_or(format!(
                        "frames being read held the memory budget ({} MiB) for longer than the frame may take ({} s)",
                        budget::PARTIAL_FRAMES_BUDGET >> 20,
                        FRAME_TIMEOUT.as_secs()
                    )));
                }
            }
            clock.check(self.stopping())?;
            match read_into_spare(stream, &mut payload, share.held()) {
                Ok(0) => return Err(self.quietly_or(TRUNCATED.into())),
                Ok(_) => clock.heard(),
                Err(e) if again(&e) => {}
                Err(_) => return Err(Ended::Quietly),
            }
        }
        Ok(payload)
    }

    /// `Quietly` once we stop (nothing is wrong with the peer), else refused for `reason`.
    fn quietly_or(&self, reason: String) -> Ended {
        if self.stopping() {
            Ended::Quietly
        } else {
            Ended::Refused(reason)
        }
    }

    /// Reports how the bytes got here (read out of the socket: a copy; mapped: none) and
    /// hands them to the local subscriptions of the topic.
    fn pass_to_local_subscriptions(&self, peer_pid: u32, header: &FrameHeader, sample: &WireSample) {
        // Said before the subscriptions have the sample: their executors may take it at once,
        // and what they report must come after how it got here.
        let arrived = |type_name| {
            self.tracer.emit(&Arc::from(""), || {
                let bytes = sample.bytes.as_slice();
                let topic = Arc::from(header.topic.as_str());
                let msg = MessageRef::of_cdr(bytes, topic, type_name, sample.publication);
                let (bytes, from_pid) = (bytes.len(), peer_pid);
                match sample.arrival.as_ref().and_then(|a| a.segment) {
                    Some(segment) => EventKind::Mapped { msg, bytes, from_pid, segment },
                    None => EventKind::Read { msg, bytes, from_pid },
                }
            })
        };
        match (self.to_local)(&header.topic, &header.type_name, sample, &arrived) {
            Handed::ToSubscriptions | Handed::DomainGone => {}
            Handed::NoSubscription => self.reject(peer_pid, &format!("nobody here subscribes to '{}'", header.topic)),
            Handed::OtherType { local } => {
                let reason = format!("topic '{}' carries {local} here, not {}", header.topic, header.type_name);
                self.reject(peer_pid, &reason)
            }
        }
    }

    /// Reads what a peer we send to says back on our connection (acknowledgements and
    /// releases) until it closes: then it is gone, and what it held is reclaimed at once.
    pub(super) fn back_channel_loop(&self, mut stream: UnixStream, pid: u32, outbox: &Arc<Outbox>) {
        let _ = stream.set_read_timeout(Some(SCAN_PERIOD));
        let Some(transport) = self.transport.get().cloned() else { return };
        while let Some(back) = self.read_back(&mut stream, pid) {
            let release = match back {
                Back::Ack(ack) => {
                    outbox.acknowledged(ack.frames);
                    continue;
                }
                Back::Release(release) => release,
            };
            let Some(transport) = transport.upgrade() else { return };
            if let Err(reason) = transport.release(pid, release) {
                self.reject(pid, &reason);
                break;
            }
        }
        // Closing our side makes the peer's reader end too, and our writer thread.
        let _ = stream.shutdown(std::net::Shutdown::Both);
        self.forget(pid, outbox);
        if let Some(transport) = transport.upgrade().filter(|_| !self.stopping()) {
            transport.peer_gone(pid);
        }
    }

    /// The next acknowledgement or release from `pid`; `None` when the connection ends, or on
    /// anything else (refused).
    fn read_back(&self, stream: &mut UnixStream, pid: u32) -> Option<Back> {
        let mut frame = [0u8; PREFIX_LEN + RELEASE_LEN];
        let mut clock = Clock::never();
        self.read_exact_until(stream, &mut frame[..PREFIX_LEN], &mut clock).ok()?;
        let prefix = Prefix::decode(frame[..PREFIX_LEN].try_into().ok()?, 0);
        let len = match prefix {
            Ok(p) if p.kind == KIND_RELEASE && p.header_len == 0 && p.payload_len == RELEASE_LEN => RELEASE_LEN,
            Ok(p) if p.kind == KIND_ACK && p.header_len == 0 && p.payload_len == ACK_LEN => ACK_LEN,
            Ok(p) => {
                self.reject(
                    pid,
                    &format!("frame of kind {} where only releases and acknowledgements come back", p.kind),
                );
                return None;
            }
            Err(e) => {
                self.reject(pid, &e.to_string());
                return None;
            }
        };
        let payload = &mut frame[PREFIX_LEN..PREFIX_LEN + len];
        self.read_exact_until(stream, payload, &mut clock).ok()?;
        match len {
            ACK_LEN => AckFrame::decode(payload).map(Back::Ack),
            _ => ReleaseFrame::decode(payload).map(Back::Release),
        }
    }

    /// Fills the prefix, keeping the descriptors that come with it (a shared-memory frame
    /// sends its segment with its first byte). `None` on a clean end of stream or a stop.
    /// The frame's clock starts with its first byte.
    fn read_prefix(
        &self,
        stream: &UnixStream,
        buf: &mut [u8; PREFIX_LEN],
        clock: &mut Clock,
    ) -> Result<Option<Vec<OwnedFd>>, Ended> {
        let mut filled = 0;
        let mut fds = Vec::new();
        while filled < buf.len() {
            if self.stopping() {
                return Ok(None);
            }
            clock.check(false)?;
            match socket::recv_with_fds(stream, &mut buf[filled..]) {
                Ok((0, _)) if filled == 0 => return Ok(None),
                Ok((0, _)) => return Err(Ended::Refused(TRUNCATED.into())),
                Ok((n, received)) => {
                    if filled == 0 {
                        clock.begin_frame();
                    }
                    clock.heard();
                    filled += n;
                    fds.extend(received);
                    // Closed on the way out (they are owned): a peer cannot fill our table.
                    if fds.len() > MAX_FDS_PER_FRAME {
                        let why = format!("{} descriptors with one frame, at most {MAX_FDS_PER_FRAME}", fds.len());
                        return Err(Ended::Refused(why));
                    }
                }
                Err(e) if again(&e) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(Ended::Refused(e.to_string())),
                Err(_) => return Ok(None),
            }
        }
        Ok(Some(fds))
    }

    /// Fills `buf`, within the clock's deadline.
    fn read_exact_until(&self, mut stream: &UnixStream, buf: &mut [u8], clock: &mut Clock) -> Result<(), Ended> {
        let mut filled = 0;
        while filled < buf.len() {
            clock.check(self.stopping())?;
            match stream.read(&mut buf[filled..]) {
                Ok(0) => return Err(self.quietly_or(TRUNCATED.into())),
                Ok(n) => {
                    filled += n;
                    clock.heard();
                }
                Err(e) if again(&e) => {}
                Err(_) => return Err(Ended::Quietly),
            }
        }
        Ok(())
    }
}

const TRUNCATED: &str = "truncated frame: the connection closed in the middle of it";

/// Why reading a connection ended early.
enum Ended {
    /// We stop, or the connection failed: nothing to say.
    Quietly,
    /// The peer is refused for this reason (a `rejected` event).
    Refused(String),
}

/// A whole frame as read: prefix, header, payload, descriptors.
type NextFrame = (Prefix, FrameHeader, Vec<u8>, Vec<OwnedFd>);

/// By when a connection must have sent what it owes, and what the accept loop is told of it.
struct Clock {
    until: Option<Instant>,
    /// What the peer owes: its first byte, or the rest of a frame.
    frame_begun: bool,
    activity: Arc<Activity>,
}

impl Clock {
    /// A new connection: its first byte within [`SILENT_TIMEOUT`].
    fn first_frame(activity: Arc<Activity>) -> Clock {
        Clock { until: Some(Instant::now() + SILENT_TIMEOUT), frame_begun: false, activity }
    }

    /// A connection nobody else watches, given all the time it takes (the way back from a
    /// process we chose to send to).
    fn never() -> Clock {
        Clock { until: None, frame_begun: false, activity: Arc::new(Activity::new()) }
    }

    /// Between frames: a publisher is quiet for as long as it publishes nothing.
    fn between_frames(&mut self) {
        (self.until, self.frame_begun) = (None, false);
    }

    /// A frame has begun: the rest within [`FRAME_TIMEOUT`].
    fn begin_frame(&mut self) {
        (self.until, self.frame_begun) = (Some(Instant::now() + FRAME_TIMEOUT), true);
    }

    /// Bytes came.
    fn heard(&self) {
        self.activity.heard();
    }

    /// `Quietly` when we stop; refused once the deadline passed, or to make room.
    fn check(&self, stopping: bool) -> Result<(), Ended> {
        if stopping {
            return Err(Ended::Quietly);
        }
        if self.activity.evicted() {
            let why = format!("closed to make room: the quietest of {MAX_CONNECTIONS} connections");
            return Err(Ended::Refused(why));
        }
        match self.until {
            Some(until) if Instant::now() >= until => Err(Ended::Refused(match self.frame_begun {
                true => format!("stalled in the middle of a frame: not whole within {} s", FRAME_TIMEOUT.as_secs()),
                false => format!("sent nothing within {} s of connecting", SILENT_TIMEOUT.as_secs()),
            })),
            _ => Ok(()),
        }
    }
}

/// A read timeout (`EAGAIN`: look at the clock and read again) or an interrupted call.
fn again(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

/// Reads what the socket has into `buf`'s spare capacity, without filling it first, up to
/// `limit` bytes in all (the payload's share of the budget).
fn read_into_spare(stream: &UnixStream, buf: &mut Vec<u8>, limit: usize) -> io::Result<usize> {
    let room = limit.saturating_sub(buf.len()).min(buf.capacity() - buf.len());
    let spare = &mut buf.spare_capacity_mut()[..room];
    // SAFETY: read(2) writes at most `room` bytes into `spare`, memory this Vec owns and
    // has not initialized; it returns how many it wrote, or -1 with nothing written.
    let n = unsafe { nix::libc::read(stream.as_raw_fd(), spare.as_mut_ptr().cast(), room) };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    // SAFETY: the first `n` bytes after the length were just written by the kernel, and
    // `n <= room` keeps the length within the capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Acknowledge this many frames at once at most; fewer when the socket is empty (the
/// sender waits for them).
const ACK_EVERY: u32 = 4;

/// Counts one more frame read from `stream` and acknowledges what was read once the socket
/// holds nothing more (one acknowledgement for a burst), or every [`ACK_EVERY`] frames.
/// `false` if the sender does not take it.
fn acknowledge(stream: &UnixStream, back: &BackChannel, unacked: &mut u32) -> bool {
    *unacked += 1;
    let mut probe = [0u8; 1];
    let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT;
    let more = nix::sys::socket::recv(stream.as_raw_fd(), &mut probe, flags).is_ok_and(|n| n > 0);
    if more && *unacked < ACK_EVERY {
        return true;
    }
    let ack = AckFrame { frames: std::mem::take(unacked) };
    let mut back = back.0.lock().unwrap_or_else(|e| e.into_inner());
    back.write_all(&ack.encode()).is_ok()
}

/// What comes back on a connection we send frames on.
enum Back {
    /// The peer read this many more frames.
    Ack(AckFrame),
    /// The peer is done with a shared-memory slot.
    Release(ReleaseFrame),
}

/// What a transport made of a frame, as the subscriptions of this process get it.
fn sample(peer_pid: u32, header: &FrameHeader, arrived: Arrived) -> WireSample {
    WireSample {
        bytes: arrived.bytes,
        publication: Publication { pid: peer_pid, publisher: header.publisher_id, seq: header.seq },
        // Another process's IPM served only its own subscriptions.
        intra_process_context: None,
        arrival: Some(Arrival {
            origin: Origin {
                pid: peer_pid,
                node: Arc::from(header.node.as_str()),
                addr: header.message_addr as usize,
                copied_bytes: header.copied_bytes as usize,
                serialized_bytes: header.serialized_bytes as usize,
                written_bytes: header.written_bytes as usize,
            },
            segment: arrived.segment,
        }),
    }
}
