//! The shared-memory transport: the CDR bytes go into an anonymous memfd segment whose
//! descriptor travels over the Unix socket (SCM_RIGHTS); the receiver maps it and reads the
//! bytes where they are. Nothing is ever named in /dev/shm, so nothing can leak: the kernel frees
//! the segment when the last process holding it closes or unmaps it, crash or not.
//!
//! The publisher seals the segment (no shrinking, growing or writing) before sending it,
//! and the receiver refuses an unsealed one: a mapping whose file could shrink under it
//! would crash the reader with SIGBUS, and one that could change would hand the decoder
//! bytes that move while it reads them.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use memmap2::{Mmap, MmapMut};
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use super::frame::{self, Frame, Payload, MAX_PAYLOAD};
use super::link::Handle;
use super::{socket, Arrived, Incoming, Outgoing, Transport};
use crate::engine::trace::{EventKind, MessageRef};
use crate::engine::wire::WireBytes;

/// Bytes in shared memory, a descriptor through the socket.
#[derive(Debug)]
pub(crate) struct ShmTransport {
    link: Handle,
}

impl ShmTransport {
    pub(crate) fn new(link: Handle) -> Self {
        Self { link }
    }
}

impl Transport for ShmTransport {
    fn announce(&self, entry: super::LocalEntry) {
        self.link.announce(entry);
    }

    fn remote_subscriber_count(&self, topic: &str) -> usize {
        self.link.subscribers_of(topic).len()
    }

    fn send(&self, out: &Outgoing<'_>) {
        let peers = self.link.subscribers_of(&out.header.topic);
        if peers.is_empty() {
            return;
        }
        let segment = match Segment::create_with(out.bytes) {
            Ok(segment) => segment,
            // No memory for a segment: nobody can be reached this time.
            Err(e) => {
                for peer in peers {
                    self.link.sent(peer.pid, &out.header.topic, out.node, Err(e.kind().into()));
                }
                return;
            }
        };
        let bytes = out.bytes.len();
        self.link.tracer.emit(out.node, || {
            let msg = MessageRef { addr: segment.addr(), payload_addr: None, ..(out.msg)() };
            EventKind::SharedMemoryWritten { msg, bytes }
        });
        let frame = Frame { header: out.header.clone(), payload: Payload::SharedMemory { len: bytes as u64 } };
        let head = frame.encode_head();
        for peer in peers {
            // Only the descriptor crosses: no payload byte goes through the socket.
            let result = self.link.write_to(&peer, |stream| socket::send_with_fd(stream, &head, segment.fd()));
            self.link.sent(peer.pid, &out.header.topic, out.node, result);
        }
        // Our mapping and descriptor go now; the segment lives on in the receivers and
        // disappears with the last of them, even if one crashes.
    }

    fn receive(&self, mut frame: Incoming) -> Result<Arrived, String> {
        if frame.kind != frame::KIND_SHM {
            return Err(format!("payload kind {} on a shared-memory transport", frame.kind));
        }
        let len = u64::from_le_bytes(frame.payload.try_into().unwrap_or([0; 8]));
        let Some(len) = usize::try_from(len).ok().filter(|&l| l <= MAX_PAYLOAD) else {
            return Err(format!("shared-memory segment of {len} bytes is over the limit"));
        };
        // Any other descriptor that came along is closed when `frame.fds` goes.
        let Some(fd) = (!frame.fds.is_empty()).then(|| frame.fds.remove(0)) else {
            return Err("shared-memory frame without a descriptor".into());
        };
        let map = map(fd, len).map_err(|e| format!("cannot map the shared-memory segment: {e}"))?;
        Ok(Arrived { bytes: WireBytes::Mapped(Arc::new(map)), mapped: true })
    }
}

/// The seals a segment must carry before anyone maps it.
fn required_seals() -> SealFlag {
    SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE | SealFlag::F_SEAL_SEAL
}

/// A sealed segment holding a copy of a message's bytes.
pub(crate) struct Segment {
    fd: OwnedFd,
    /// Where it was mapped while the bytes were copied in (unmapped since: a sealed
    /// segment cannot keep a writable mapping).
    addr: usize,
}

impl Segment {
    /// A new segment holding a copy of `bytes`, sealed.
    pub(crate) fn create_with(bytes: &[u8]) -> io::Result<Segment> {
        let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
        let fd = memfd_create(c"ipc-lab", flags).map_err(io::Error::from)?;
        let file = std::fs::File::from(fd);
        file.set_len(bytes.len().max(1) as u64)?;
        // SAFETY: the memfd was just created by us and nobody else has it yet, so nothing
        // can truncate or change it behind the mapping.
        let mut map = unsafe { MmapMut::map_mut(&file)? };
        map[..bytes.len()].copy_from_slice(bytes);
        let addr = map.as_ptr() as usize;
        drop(map);
        fcntl(&file, FcntlArg::F_ADD_SEALS(required_seals())).map_err(io::Error::from)?;
        Ok(Segment { fd: OwnedFd::from(file), addr })
    }

    /// Where the bytes were written in this process.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    pub(crate) fn fd(&self) -> &OwnedFd {
        &self.fd
    }
}

/// Maps a received segment read-only, after checking its seals and size.
pub(crate) fn map(fd: OwnedFd, len: usize) -> io::Result<Mmap> {
    let seals = fcntl(&fd, FcntlArg::F_GET_SEALS).map_err(io::Error::from)?;
    if !SealFlag::from_bits_truncate(seals).contains(required_seals()) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the segment is not sealed"));
    }
    let file = std::fs::File::from(fd);
    let size = file.metadata()?.len();
    if (size as usize) < len {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("segment of {size} bytes, frame says {len}")));
    }
    // SAFETY: the segment is sealed against shrinking, growing and writing (checked
    // above), so the mapped bytes can neither vanish nor change while we read them.
    let map = unsafe { memmap2::MmapOptions::new().len(len.max(1)).map(&file)? };
    Ok(map)
}
