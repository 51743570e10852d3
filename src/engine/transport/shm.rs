//! Shared memory: an anonymous memfd segment whose descriptor travels over the Unix socket
//! (SCM_RIGHTS). Nothing is ever named in /dev/shm, so nothing can leak: the kernel frees
//! the segment when the last process holding it closes or unmaps it, crash or not.

use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use memmap2::{Mmap, MmapMut};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// A segment being filled by the publisher.
pub(crate) struct Segment {
    fd: OwnedFd,
    map: MmapMut,
}

impl Segment {
    /// A new segment holding a copy of `bytes`.
    pub(crate) fn create_with(bytes: &[u8]) -> io::Result<Segment> {
        let fd = memfd_create(c"ipc-lab", MFdFlags::MFD_CLOEXEC).map_err(io::Error::from)?;
        let file = std::fs::File::from(fd);
        file.set_len(bytes.len().max(1) as u64)?;
        // SAFETY: the memfd was just created by us and nobody else has it yet, so nothing
        // can truncate or change it behind the mapping.
        let mut map = unsafe { MmapMut::map_mut(&file)? };
        map[..bytes.len()].copy_from_slice(bytes);
        Ok(Segment { fd: OwnedFd::from(file), map })
    }

    /// Where the segment is mapped in this process.
    pub(crate) fn addr(&self) -> usize {
        self.map.as_ptr() as usize
    }

    pub(crate) fn fd(&self) -> &OwnedFd {
        &self.fd
    }
}

/// Maps a received segment read-only.
pub(crate) fn map(fd: OwnedFd, len: usize) -> io::Result<Mmap> {
    let file = std::fs::File::from(fd);
    let size = file.metadata()?.len();
    if (size as usize) < len {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("segment of {size} bytes, frame says {len}")));
    }
    // SAFETY: the segment is a memfd the publisher no longer writes to once it is sent; a
    // hostile peer could still change it under us, which can only give wrong bytes to the
    // CDR decoder, which checks everything it reads.
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

/// Reads into `buf`, keeping any descriptors that arrive with the bytes.
pub(crate) fn recv_with_fds(stream: &UnixStream, buf: &mut [u8], fds: &mut VecDeque<OwnedFd>) -> io::Result<usize> {
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 4]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(io::Error::from)?;
    for cmsg in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(received) = cmsg {
            for raw in received {
                // SAFETY: the kernel just installed this descriptor in our table for us;
                // nothing else owns it.
                fds.push_back(unsafe { OwnedFd::from_raw_fd(raw) });
            }
        }
    }
    Ok(msg.bytes)
}
