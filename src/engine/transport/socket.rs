//! The socket transport: a message's CDR bytes travel through the Unix socket itself. The
//! kernel copies them in on `write` and out on `read`: two copies per receiving process,
//! whatever the size. Also the socket helpers every transport uses (connecting with a
//! timeout, writing a frame in one call, passing descriptors).

use std::io::{self, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use super::frame::{self, Frame, FrameHeader};
use super::link::Handle;
use super::outbox::Queued;
use super::{Arrived, Incoming, OutPayload, Outgoing, Transport};
use crate::engine::trace::EventKind;
use crate::engine::wire::WireBytes;

/// Bytes through the socket.
#[derive(Debug)]
pub(crate) struct SocketTransport {
    link: Handle,
}

impl SocketTransport {
    pub(crate) fn new(link: Handle) -> Self {
        Self { link }
    }
}

impl Transport for SocketTransport {
    fn announce(&self, entry: super::LocalEntry) {
        self.link.announce(entry);
    }

    fn remote_subscriber_count(&self, topic: &str) -> usize {
        self.link.subscribers_of(topic).len()
    }

    /// Puts the frame in the queue of every subscribing process: their writer threads copy
    /// it into the sockets (`outbox.rs`); this thread goes on at once.
    fn send(&self, out: &Outgoing<'_>) {
        let peers = self.link.subscribers_of(&out.header.topic);
        let len = match out.payload {
            OutPayload::Encoded(bytes) => bytes.len(),
            OutPayload::Message(msg) => msg.cdr_len(),
        };
        if peers.is_empty() || !self.link.fits_in_a_frame(out, len) {
            return;
        }
        let bytes = match out.payload {
            OutPayload::Encoded(bytes) => bytes.clone(),
            OutPayload::Message(msg) => {
                let encoded = Arc::new(msg.to_cdr());
                let bytes = encoded.len();
                self.link.tracer.emit(out.node, || EventKind::Serialized { msg: (out.msg)(), bytes });
                encoded
            }
        };
        // The frame says what this process copied: the encoding, and the write into the socket.
        let len = bytes.len() as u64;
        let header = FrameHeader { serialized_bytes: len, written_bytes: len, ..out.header.clone() };
        let head = Frame::encode_head_for(&header, bytes.len());
        let msg = self.link.tracer.listening().then(|| (out.msg)());
        let topic: Arc<str> = Arc::from(out.header.topic.as_str());
        for peer in peers {
            let frame = Queued {
                publisher: out.header.publisher_id,
                depth: out.depth,
                head: head.clone(),
                payload: bytes.clone(),
                fd: None,
                node: out.node.clone(),
                topic: topic.clone(),
                msg: msg.clone(),
                unsent: None,
            };
            self.link.enqueue(&peer, frame);
        }
    }

    fn receive(&self, frame: Incoming) -> Result<Arrived, String> {
        if frame.kind != frame::KIND_BYTES {
            return Err(format!("payload kind {} on a socket transport", frame.kind));
        }
        // The read out of the socket already copied the bytes into this buffer of ours.
        Ok(Arrived { bytes: WireBytes::Heap(Arc::new(frame.payload)), segment: None })
    }

    fn close(&self) {
        self.link.close();
    }
}

/// Writes a frame's head and payload with as few system calls as the socket allows: one
/// for a frame that fits. Two separate writes would let the reader wake for the head, find
/// no payload yet and sleep again: two wake-ups per message where one does.
pub(crate) fn write_frame(stream: &mut impl Write, head: &[u8], payload: &[u8]) -> io::Result<()> {
    write_frame_until(stream, head, payload, &|| true)
}

/// [`write_frame`] on a socket with a write timeout: a write that times out is tried again
/// (where it stopped) until `give_up` says so.
pub(crate) fn write_frame_until(
    stream: &mut impl Write,
    head: &[u8],
    payload: &[u8],
    give_up: &dyn Fn() -> bool,
) -> io::Result<()> {
    let mut written = 0;
    while written < head.len() + payload.len() {
        let result = match head.get(written..) {
            Some(rest) if !rest.is_empty() => {
                stream.write_vectored(&[io::IoSlice::new(rest), io::IoSlice::new(payload)])
            }
            _ => stream.write(&payload[written - head.len()..]),
        };
        match result {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if timed_out(&e) && !give_up() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A socket timeout, as the kernel reports it (`EAGAIN`).
fn timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// Writes `head` with `fd` attached, then whatever of `head` the first call did not take;
/// a write that times out is tried again until `give_up` says so.
pub(crate) fn send_with_fd(
    stream: &mut UnixStream,
    head: &[u8],
    fd: &OwnedFd,
    give_up: &dyn Fn() -> bool,
) -> io::Result<()> {
    let fds = [fd.as_fd().as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(head)];
    let sent = loop {
        match sendmsg::<()>(stream.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None).map_err(io::Error::from) {
            Ok(sent) => break sent,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if timed_out(&e) && !give_up() => {}
            Err(e) => return Err(e),
        }
    };
    write_frame_until(stream, &head[sent..], &[], give_up)
}

/// Writes `head`, with `fd` attached if there is one, only if the socket takes all of it now
/// (`MSG_DONTWAIT`): `Ok(n)` with how much it took, which for a `head` shorter than
/// [`WHOLE_OR_NOTHING`] is all of it, or `WouldBlock` when the socket has no room.
pub(crate) fn send_now(stream: &UnixStream, head: &[u8], fd: Option<&OwnedFd>) -> io::Result<usize> {
    let fds = fd.map(|fd| [fd.as_fd().as_raw_fd()]);
    let cmsg: Vec<ControlMessage<'_>> = fds.iter().map(|fds| ControlMessage::ScmRights(fds)).collect();
    let iov = [IoSlice::new(head)];
    let flags = MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT;
    loop {
        match sendmsg::<()>(stream.as_raw_fd(), &iov, &cmsg, flags, None).map_err(io::Error::from) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// A write to a Unix stream socket this short is one buffer in the kernel, taken whole or
/// not at all: `unix_stream_sendmsg` (net/unix/af_unix.c) cuts a write into buffers of at
/// most half the send buffer less 64 bytes, and the send buffer is at least 4,608 bytes
/// (`SOCK_MIN_SNDBUF`), so a write under 2,240 bytes is one buffer.
pub(crate) const WHOLE_OR_NOTHING: usize = 2048;

/// The most descriptors Linux passes in one message (`SCM_MAX_FD`, include/net/scm.h).
const SCM_MAX_FD: usize = 253;

/// Reads into `buf`; returns the bytes read and the descriptors that came with them, every
/// one of them owned (and so closed when dropped). The control buffer has room for as many
/// descriptors as the kernel passes at once: with less, the kernel installs what fits in our
/// table and flags the rest truncated, and nix then refuses to list the ones it installed,
/// which would leak them.
pub(crate) fn recv_with_fds(stream: &UnixStream, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; SCM_MAX_FD]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(io::Error::from)?;
    let mut fds = Vec::new();
    // Truncated control data (another kind of control message than descriptors) cannot be
    // listed; the connection is refused.
    for cmsg in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(received) = cmsg {
            for raw in received {
                // SAFETY: the kernel just installed this descriptor in our table for us;
                // nothing else owns it.
                fds.push(unsafe { OwnedFd::from_raw_fd(raw) });
            }
        }
    }
    Ok((msg.bytes, fds))
}

/// A Unix stream connected to `path` that gives up after `timeout` instead of waiting for
/// a peer that never accepts.
pub(crate) fn connect(path: &std::path::Path, timeout: std::time::Duration) -> io::Result<UnixStream> {
    use nix::sys::socket::{connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, UnixAddr};
    let fd = socket(AddressFamily::Unix, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).map_err(io::Error::from)?;
    // For Unix sockets the send timeout also bounds a blocking connect.
    let tv = nix::sys::time::TimeVal::new(timeout.as_secs() as i64, timeout.subsec_micros() as i64);
    setsockopt(&fd, sockopt::SendTimeout, &tv).map_err(io::Error::from)?;
    let addr = UnixAddr::new(path).map_err(io::Error::from)?;
    connect(fd.as_raw_fd(), &addr).map_err(io::Error::from)?;
    Ok(UnixStream::from(fd))
}
