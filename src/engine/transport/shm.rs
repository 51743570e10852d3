//! Shared memory: an anonymous memfd segment whose descriptor travels over the Unix socket
//! (SCM_RIGHTS). Nothing is ever named in /dev/shm, so nothing can leak: the kernel frees
//! the segment when the last process holding it closes or unmaps it, crash or not.
//!
//! The publisher seals the segment (no shrinking, growing or writing) before sending it,
//! and the receiver refuses an unsealed one: a mapping whose file could shrink under it
//! would crash the reader with SIGBUS, and one that could change would hand the decoder
//! bytes that move while it reads them.

use std::io::{self, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use memmap2::{Mmap, MmapMut};
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

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

/// Writes `head` with `fd` attached, then whatever of `head` the first call did not take.
pub(crate) fn send_with_fd(stream: &mut UnixStream, head: &[u8], fd: &OwnedFd) -> io::Result<()> {
    let fds = [fd.as_fd().as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(head)];
    let sent = sendmsg::<()>(stream.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None).map_err(io::Error::from)?;
    stream.write_all(&head[sent..])
}

/// Reads into `buf`; returns the bytes read and the descriptors that came with them.
pub(crate) fn recv_with_fds(stream: &UnixStream, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 4]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(io::Error::from)?;
    let mut fds = Vec::new();
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
