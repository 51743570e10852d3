//! The receiving side: accept connections from publishers in other processes, read their
//! frames, refuse what is malformed, and hand the rest to the local subscriptions.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::frame::{FrameHeader, Prefix, MAX_FDS_PER_FRAME, MAX_PAYLOAD, PREFIX_LEN};
use nix::sys::socket::MsgFlags;

use super::frame::{AckFrame, ReleaseFrame, ACK_LEN, KIND_ACK, KIND_RELEASE, RELEASE_LEN};
use super::link::Link;
use super::outbox::Outbox;
use super::{socket, Arrived, BackChannel, Handed, Incoming, Transport, SCAN_PERIOD};
use crate::engine::text::LineText;
use crate::engine::trace::{EventKind, MessageRef, Origin, Publication};
use crate::engine::wire::{Arrival, WireSample};

/// More simultaneous publishers than any demo has: beyond this, connections are refused
/// so that a local peer cannot make us start threads without end.
const MAX_CONNECTIONS: usize = 64;

impl Link {
    pub(super) fn accept_loop(self: Arc<Self>, listener: UnixListener, transport: Weak<dyn Transport>) {
        let mut readers: Vec<JoinHandle<()>> = Vec::new();
        while !self.stopping() {
            readers.retain(|r| !r.is_finished());
            match listener.accept() {
                Ok((stream, _)) if readers.len() < MAX_CONNECTIONS => {
                    let (link, transport) = (self.clone(), transport.clone());
                    readers.push(std::thread::spawn(move || link.read_loop(stream, &transport)));
                }
                // Over the cap: the connection is closed by dropping it.
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub(super) fn reject(&self, from_pid: u32, reason: &str) {
        self.tracer.emit(&Arc::from(""), || EventKind::Rejected { from_pid, reason: LineText::cut(reason) });
    }

    /// Reads frames until the peer closes, a frame is malformed, or we stop; then forgets
    /// what the peer had sent.
    fn read_loop(&self, stream: UnixStream, transport: &Weak<dyn Transport>) {
        // Wake up now and then to notice a stop.
        let _ = stream.set_read_timeout(Some(SCAN_PERIOD));
        // Who is really on the other end, as the kernel says: a frame cannot claim
        // another pid.
        let peer_pid = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
            .map_or(0, |c| c.pid() as u32);
        let Ok(back) = stream.try_clone() else { return };
        // A sender that does not read what we say back (acknowledgements, releases) is not
        // waited for: the write fails, and the connection ends.
        let _ = back.set_write_timeout(Some(SCAN_PERIOD));
        let back = Arc::new(BackChannel(std::sync::Mutex::new(back)));
        self.read_frames(stream, peer_pid, &back, transport);
        if let Some(transport) = transport.upgrade() {
            transport.peer_gone(peer_pid);
        }
    }

    fn read_frames(
        &self,
        mut stream: UnixStream,
        peer_pid: u32,
        back: &Arc<BackChannel>,
        transport: &Weak<dyn Transport>,
    ) {
        // Frames read and not acknowledged yet.
        let mut unacked = 0;
        loop {
            let mut prefix = [0u8; PREFIX_LEN];
            let fds = match self.read_prefix(&stream, &mut prefix) {
                Ok(Some(fds)) => fds,
                Ok(None) => return,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return self.truncated(peer_pid),
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return self.reject(peer_pid, &e.to_string()),
                Err(_) => return,
            };
            let prefix = match Prefix::decode(&prefix, MAX_PAYLOAD) {
                Ok(p) => p,
                Err(e) => return self.reject(peer_pid, &e.to_string()),
            };
            // Allocated only now that the lengths are known to be within the limits.
            let mut header = vec![0u8; prefix.header_len];
            let mut payload = vec![0u8; prefix.payload_len];
            if !self.read_exact_or_stop(&mut stream, &mut header) || !self.read_exact_or_stop(&mut stream, &mut payload)
            {
                if !self.stopping() {
                    self.truncated(peer_pid);
                }
                return;
            }
            let header = match FrameHeader::decode(&header) {
                Ok(h) => h,
                Err(e) => return self.reject(peer_pid, &e.to_string()),
            };
            if header.publisher_pid != peer_pid {
                let claim = format!("the frame claims pid {}, the socket says {peer_pid}", header.publisher_pid);
                return self.reject(peer_pid, &claim);
            }
            let Some(transport) = transport.upgrade() else { return };
            let (kind, publisher) = (prefix.kind, header.publisher_id);
            let incoming = Incoming { from_pid: peer_pid, kind, publisher, payload, fds, back: back.clone() };
            match transport.receive(incoming) {
                Ok(arrived) => self.pass_to_local_subscriptions(peer_pid, &header, &sample(peer_pid, &header, arrived)),
                // A peer that sends what no transport can take is broken or hostile: the
                // connection ends here, so a flood of them costs one event.
                Err(reason) => return self.reject(peer_pid, &reason),
            }
            if !acknowledge(&stream, back, &mut unacked) {
                return;
            }
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
        if !self.read_exact_or_stop(stream, &mut frame[..PREFIX_LEN]) {
            return None;
        }
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
        if !self.read_exact_or_stop(stream, payload) {
            return None;
        }
        match len {
            ACK_LEN => AckFrame::decode(payload).map(Back::Ack),
            _ => ReleaseFrame::decode(payload).map(Back::Release),
        }
    }

    fn truncated(&self, from_pid: u32) {
        self.reject(from_pid, "truncated frame: the connection closed in the middle of it");
    }

    /// Fills the prefix, keeping the descriptors that come with it (a shared-memory frame
    /// sends its segment with its first byte). `None` on a clean end of stream or a stop.
    fn read_prefix(&self, stream: &UnixStream, buf: &mut [u8; PREFIX_LEN]) -> io::Result<Option<Vec<OwnedFd>>> {
        let mut filled = 0;
        let mut fds = Vec::new();
        while filled < buf.len() {
            if self.stopping() {
                return Ok(None);
            }
            match socket::recv_with_fds(stream, &mut buf[filled..]) {
                Ok((0, _)) if filled == 0 => return Ok(None),
                Ok((0, _)) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok((n, received)) => {
                    filled += n;
                    fds.extend(received);
                    // Closed on the way out (they are owned): a peer cannot fill our table.
                    if fds.len() > MAX_FDS_PER_FRAME {
                        let why = format!("{} descriptors with one frame, at most {MAX_FDS_PER_FRAME}", fds.len());
                        return Err(io::Error::new(io::ErrorKind::InvalidData, why));
                    }
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some(fds))
    }

    fn read_exact_or_stop(&self, stream: &mut UnixStream, buf: &mut [u8]) -> bool {
        let mut filled = 0;
        while filled < buf.len() {
            if self.stopping() {
                return false;
            }
            match stream.read(&mut buf[filled..]) {
                Ok(0) => return false,
                Ok(n) => filled += n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
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
