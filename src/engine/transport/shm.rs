//! The shared-memory transport: each publisher has a pool of slots, each slot an anonymous
//! memfd mapped once and reused. A message is serialized straight into a free slot (the
//! one copy), and only a small frame crosses the socket: slot, offset, length. A slot's
//! descriptor crosses once per receiving process (SCM_RIGHTS), with the first frame that
//! uses it; the receiver maps it once too, and reads every later message where it is.
//!
//! When the last reference to a message drops in the receiving process, it sends a
//! release back on the same connection and the slot is free again. A receiver that dies
//! closes that connection: its slots are reclaimed at once. A publisher whose slots are
//! all held reports `pool_exhausted` and drops the newest message for the other processes;
//! it never waits for them, and never writes into memory someone still reads.
//!
//! Nothing is ever named in /dev/shm or on disk, so nothing can leak: the kernel frees a
//! slot when the last process holding it closes or unmaps it, crash or not.
//!
//! Seals: the publisher seals each slot against shrinking and growing (a mapping whose file
//! shrinks under it would crash the reader with SIGBUS) and against new writable mappings
//! (`F_SEAL_FUTURE_WRITE`: only the publisher's own mapping, made before, can write). The
//! receiver refuses a descriptor without these seals, one that is not a memfd, and any
//! reference past the end of its slot.
//!
//! A simplification: a publisher that keeps writing into a slot it sent is not stopped (only
//! a seal against all writes would, and then the slot could not be reused); the receiver's
//! decoder checks every length it reads, so such bytes are refused, never trusted.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};

use memmap2::{Mmap, MmapMut};
use nix::fcntl::{fcntl, FcntlArg, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use super::frame::{self, Frame, FrameHeader, Payload, ReleaseFrame, SlotRef, MAX_PAYLOAD};
use super::link::{Handle, Peer};
use super::outbox::{self, Queued};
use super::{Arrived, BackChannel, Incoming, OutPayload, Outgoing, Transport};
use crate::engine::trace::{EventKind, MessageRef, SegmentId};
use crate::engine::wire::WireBytes;

/// Slots per publisher beyond what one process can hold up (its depth waiting and half of
/// it in the socket, `outbox::held_at_most`): messages read and not yet taken by the
/// receiver's subscriptions hold a slot too.
const IN_FLIGHT: usize = 8;
/// Slots per publisher at least: a subscription may keep more than the publisher's depth.
const MIN_SLOTS: usize = 16;
/// How long a publisher whose slots are all held waits for one to come back before the
/// message is dropped for the other processes: long enough for a receiver that is reading
/// (a burst as deep as its queue), short enough that a stuck one cannot stall the publisher.
const WAIT_FOR_SLOT: std::time::Duration = std::time::Duration::from_millis(200);
/// The smallest slot: one page.
const MIN_SLOT: usize = 4096;

/// The seals the publisher puts on a slot once its own writable mapping exists.
fn publisher_seals() -> SealFlag {
    SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_FUTURE_WRITE | SealFlag::F_SEAL_SEAL
}

/// The seals a receiver insists on before it maps a slot.
fn required_seals() -> SealFlag {
    SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_FUTURE_WRITE
}

/// One slot of a publisher's pool.
struct Slot {
    fd: Arc<OwnedFd>,
    /// The memfd's inode: names the slot the same way in every process.
    inode: u64,
    size: usize,
    /// Our writable mapping, made once. Locked by the one publish writing into it; taken out
    /// while the slot is lent to a publisher for a loaned message.
    memory: Arc<Mutex<Option<MmapMut>>>,
    /// One entry per receiving process that has the message in it and has not released it.
    held_by: Vec<u32>,
    /// The processes that have the slot's descriptor already.
    sent_to: HashSet<u32>,
}

impl Slot {
    /// A new sealed slot of `size` bytes, mapped here.
    fn create(size: usize) -> io::Result<Slot> {
        let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
        let fd = memfd_create(c"ipc-lab-pool", flags).map_err(io::Error::from)?;
        let file = std::fs::File::from(fd);
        file.set_len(size as u64)?;
        // SAFETY: the memfd was just created by us and nobody else has it yet; once sealed
        // below it can no longer shrink under this mapping.
        let memory = unsafe { MmapMut::map_mut(&file)? };
        fcntl(&file, FcntlArg::F_ADD_SEALS(publisher_seals())).map_err(io::Error::from)?;
        let inode = file.metadata()?.ino();
        let (fd, memory) = (Arc::new(OwnedFd::from(file)), Arc::new(Mutex::new(Some(memory))));
        Ok(Slot { fd, inode, size, memory, held_by: Vec::new(), sent_to: HashSet::new() })
    }
}

/// A slot taken for one publish: written without the pool's lock.
struct Lease {
    slot: u32,
    fd: Arc<OwnedFd>,
    inode: u64,
    memory: Arc<Mutex<Option<MmapMut>>>,
    /// The receivers it is for, holding it from now on.
    peers: Vec<Peer>,
    /// The receivers that get the descriptor with this frame (the first time for them).
    first_for: HashSet<u32>,
}

/// What the sending process copied to put a message in a slot, for the frame.
#[derive(Clone, Copy)]
struct Copied {
    /// Bytes encoded (into the slot or into a buffer first); 0 for a loaned message.
    serialized: usize,
    /// Bytes copied into the slot after they were encoded elsewhere.
    written: usize,
}

/// Who a slot is taken for.
struct Taker<'a> {
    publisher: u64,
    topic: &'a str,
    node: &'a Arc<str>,
    depth: usize,
}

/// Shared memory lent to a publisher for one message ([`Transport::lend`]): the producer
/// writes the message in place, then [`Loan::send`] tells the receivers where it is.
/// Dropped unsent, the slot is free again.
pub(crate) struct Loan {
    core: Arc<Core>,
    publisher: u64,
    lease: Lease,
    /// Taken out of the slot while lent: nobody else can write it meanwhile.
    memory: Option<MmapMut>,
    sent: bool,
}

impl Loan {
    /// The slot's memory, from its start.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.memory.as_deref_mut().unwrap_or_default()
    }

    /// The slot's memory, from its start, to read.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.memory.as_deref().unwrap_or_default()
    }

    /// Where the slot is mapped in this process.
    pub(crate) fn addr(&self) -> usize {
        self.memory.as_ref().map_or(0, |m| m.as_ptr() as usize)
    }

    /// The slot, named as every process names it.
    pub(crate) fn segment(&self) -> SegmentId {
        SegmentId { inode: self.lease.inode, offset: 0 }
    }

    /// Sends the message, `len` bytes at the slot's start, to the receivers it was lent for.
    pub(crate) fn send(mut self, out: &Outgoing<'_>, len: usize) {
        self.sent = true;
        self.give_back_memory();
        // Written in place by the producer; the ~50 bytes in front are not a copy of it.
        self.core.send_frames(out, &self.lease, len, Copied { serialized: 0, written: 0 });
    }

    /// The message's first `len` bytes as this process's own subscriptions read them: the
    /// slot mapped again, read-only, and held by this process until the last of them drops
    /// it (so the slot is not written again while they read). No byte is copied.
    pub(crate) fn local_bytes(&self, len: usize) -> io::Result<WireBytes> {
        // SAFETY: the memfd is sealed against shrinking (`Slot::create`), so every page of
        // this mapping stays backed.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&*self.lease.fd)? };
        let pid = std::process::id();
        self.core.hold(self.publisher, self.lease.slot, pid);
        let held = LocalHold { core: self.core.clone(), publisher: self.publisher, slot: self.lease.slot, pid };
        Ok(WireBytes::Mapped(Arc::new(LocalSlotBytes { map, _held: held })))
    }

    fn give_back_memory(&mut self) {
        if let Some(memory) = self.memory.take() {
            *self.lease.memory.lock().unwrap_or_else(|e| e.into_inner()) = Some(memory);
        }
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        self.give_back_memory();
        if !self.sent {
            for peer in &self.lease.peers {
                self.core.unhold(self.publisher, self.lease.slot, peer.pid, self.lease.first_for.contains(&peer.pid));
            }
        }
    }
}

/// A loaned message read by subscriptions of the publishing process itself.
struct LocalSlotBytes {
    map: Mmap,
    /// Keeps the slot from being lent again while they read; dropped after `map`.
    _held: LocalHold,
}

impl AsRef<[u8]> for LocalSlotBytes {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

/// This process's own hold on one of its slots, given up when dropped.
struct LocalHold {
    core: Arc<Core>,
    publisher: u64,
    slot: u32,
    pid: u32,
}

impl Drop for LocalHold {
    fn drop(&mut self) {
        self.core.unhold(self.publisher, self.slot, self.pid, false);
    }
}

/// A receiver's mapping of a publisher's slot.
struct Mapping {
    map: Mmap,
    inode: u64,
}

/// One message in a slot of another process, as this process reads it. Dropping the last
/// reference sends the release.
struct SlotBytes {
    mapping: Arc<Mapping>,
    /// Where the message is in the mapping.
    range: std::ops::Range<usize>,
    back: Arc<BackChannel>,
    release: ReleaseFrame,
}

impl AsRef<[u8]> for SlotBytes {
    fn as_ref(&self) -> &[u8] {
        &self.mapping.map[self.range.clone()]
    }
}

impl Drop for SlotBytes {
    fn drop(&mut self) {
        // A publisher that is gone cannot take it back: nothing to do then.
        let mut stream = self.back.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = stream.write_all(&self.release.encode());
    }
}

/// Identifies a received slot: the sending process, its publisher, the slot.
type SlotKey = (u32, u64, u32);

/// Bytes in shared memory, a slot reference through the socket.
#[derive(Debug)]
pub(crate) struct ShmTransport {
    core: Arc<Core>,
}

/// What the transport and its loans share.
#[derive(Debug)]
struct Core {
    link: Handle,
    /// Our publishers' pools, by publisher id.
    pools: Mutex<HashMap<u64, Vec<Slot>>>,
    /// Told whenever a slot may have come free (released, reclaimed, or never sent).
    freed: std::sync::Condvar,
    /// The slots other processes sent us, mapped once.
    mapped: Mutex<HashMap<SlotKey, Arc<Mapping>>>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot(inode {}, held by {:?})", self.inode, self.held_by)
    }
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mapping(inode {}, {} bytes)", self.inode, self.map.len())
    }
}

impl ShmTransport {
    pub(crate) fn new(link: Handle) -> Self {
        Self {
            core: Arc::new(Core { link, pools: Mutex::default(), freed: Default::default(), mapped: Mutex::default() }),
        }
    }
}

impl Core {
    /// Takes a free slot of at least `len` bytes for `peers`, growing the pool if needed.
    /// When every slot is held, says so (`pool_exhausted`) and waits up to [`WAIT_FOR_SLOT`]
    /// for one to come back; `None` if none does.
    fn lease(&self, taker: &Taker<'_>, len: usize, peers: Vec<Peer>) -> io::Result<Option<Lease>> {
        let deadline = std::time::Instant::now() + WAIT_FOR_SLOT;
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let pool = pools.entry(taker.publisher).or_default();
            if let Some(index) = Self::free_slot(pool, taker, len)? {
                return Ok(Some(Self::take(pool, index, peers)));
            }
            self.exhausted(taker, pool);
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            pools = self.freed.wait_timeout(pools, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The slot to use for `len` bytes, made or grown if need be; `None` if all are held.
    fn free_slot(pool: &mut Vec<Slot>, taker: &Taker<'_>, len: usize) -> io::Result<Option<usize>> {
        let free = |s: &Slot| s.held_by.is_empty();
        // The smallest free slot that fits, so large slots stay for large messages.
        let fitting = (0..pool.len()).filter(|&i| free(&pool[i]) && pool[i].size >= len).min_by_key(|&i| pool[i].size);
        let size = len.max(MIN_SLOT).next_power_of_two();
        let capacity = (outbox::held_at_most(taker.depth) + IN_FLIGHT).max(MIN_SLOTS);
        let index = match fitting {
            Some(i) => i,
            None if pool.len() < capacity => {
                pool.push(Slot::create(size)?);
                pool.len() - 1
            }
            None => match (0..pool.len()).find(|&i| free(&pool[i])) {
                // Every free slot is too small: the smallest grows to the next power of two
                // (a new memfd; receivers map it when its descriptor comes).
                Some(i) => {
                    pool[i] = Slot::create(size)?;
                    i
                }
                None => return Ok(None),
            },
        };
        Ok(Some(index))
    }

    /// Lends slot `index` to `peers`.
    fn take(pool: &mut [Slot], index: usize, peers: Vec<Peer>) -> Lease {
        let slot = &mut pool[index];
        slot.held_by = peers.iter().map(|p| p.pid).collect();
        let first_for = peers.iter().map(|p| p.pid).filter(|pid| slot.sent_to.insert(*pid)).collect();
        let (fd, inode, memory) = (slot.fd.clone(), slot.inode, slot.memory.clone());
        Lease { slot: index as u32, fd, inode, memory, peers, first_for }
    }

    fn exhausted(&self, taker: &Taker<'_>, pool: &[Slot]) {
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for pid in pool.iter().flat_map(|s| &s.held_by) {
            *counts.entry(*pid).or_default() += 1;
        }
        let held_by = counts.into_iter().max_by_key(|&(pid, n)| (n, pid)).map_or(0, |(pid, _)| pid);
        let topic = Arc::from(taker.topic);
        self.link.tracer.emit(taker.node, || EventKind::PoolExhausted { topic, slots: pool.len(), held_by });
    }

    /// Writes the message into the leased slot and reports that copy.
    fn fill(&self, out: &Outgoing<'_>, lease: &Lease, len: usize) -> Option<()> {
        let mut memory = lease.memory.lock().unwrap_or_else(|e| e.into_inner());
        let memory = memory.as_mut()?;
        let addr = memory.as_ptr() as usize;
        let segment = SegmentId { inode: lease.inode, offset: 0 };
        let here = || MessageRef { addr, payload_addr: None, ..(out.msg)() };
        match out.payload {
            OutPayload::Encoded(bytes) => {
                memory[..len].copy_from_slice(bytes.as_slice());
                self.link.tracer.emit(out.node, || EventKind::SharedMemoryWritten { msg: here(), bytes: len, segment });
            }
            OutPayload::Message(msg) => {
                msg.to_cdr_in(&mut memory[..])?;
                // Serializing is the copy; nothing more is copied for the other processes.
                self.link.tracer.emit(out.node, || EventKind::Serialized { msg: (out.msg)(), bytes: len });
                self.link.tracer.emit(out.node, || EventKind::SerializedInPlace { msg: here(), bytes: len, segment });
            }
        }
        Some(())
    }

    /// Tells each receiver where the message is; the descriptor goes along the first time.
    /// The frame says what this process copied to get it there (`copied`). The frames wait
    /// in each receiver's queue (`outbox.rs`); one that is dropped there, or never reaches
    /// its receiver, gives the slot back for that receiver.
    fn send_frames(self: &Arc<Self>, out: &Outgoing<'_>, lease: &Lease, len: usize, copied: Copied) {
        let slot = SlotRef { slot: lease.slot, offset: 0, len: len as u64 };
        let (serialized_bytes, written_bytes) = (copied.serialized as u64, copied.written as u64);
        let header = FrameHeader { serialized_bytes, written_bytes, ..out.header.clone() };
        let head = Frame { header, payload: Payload::SharedMemory(slot) }.encode_head();
        let msg = self.link.tracer.listening().then(|| (out.msg)());
        let (topic, publisher): (Arc<str>, u64) = (Arc::from(out.header.topic.as_str()), out.header.publisher_id);
        for peer in &lease.peers {
            // Only where the bytes are crosses, and the descriptor the first time.
            let first = lease.first_for.contains(&peer.pid);
            // Weak: a frame still waiting must not keep the transport (and its files) alive.
            let (core, pid, slot) = (Arc::downgrade(self), peer.pid, lease.slot);
            let frame = Queued {
                publisher,
                depth: out.depth,
                head: head.clone(),
                payload: Arc::default(),
                fd: first.then(|| lease.fd.clone()),
                node: out.node.clone(),
                topic: topic.clone(),
                msg: msg.clone(),
                unsent: Some(Box::new(move || {
                    if let Some(core) = core.upgrade() {
                        core.unhold(publisher, slot, pid, first);
                    }
                })),
            };
            self.link.enqueue(peer, frame);
        }
    }

    /// `pid` reads slot `slot` of `publisher` from now on.
    fn hold(&self, publisher: u64, slot: u32, pid: u32) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = pools.get_mut(&publisher).and_then(|p| p.get_mut(slot as usize)) {
            slot.held_by.push(pid);
        }
    }

    /// A receiver will never release what it was not sent; if the frame that was not sent
    /// carried the slot's descriptor (`first`), the next one for it carries it again.
    fn unhold(&self, publisher: u64, slot: u32, pid: u32, first: bool) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = pools.get_mut(&publisher).and_then(|p| p.get_mut(slot as usize)) {
            slot.held_by.retain(|&p| p != pid);
            if first {
                slot.sent_to.remove(&pid);
            }
        }
        self.freed.notify_all();
    }

    /// Maps a slot whose descriptor just came from `from_pid`, after checking it.
    fn map_slot(&self, frame: &mut Incoming, key: SlotKey) -> Result<Arc<Mapping>, String> {
        if frame.fds.len() > 1 {
            return Err(format!("{} descriptors with one slot", frame.fds.len()));
        }
        let Some(fd) = frame.fds.pop() else {
            let mapped = self.mapped.lock().unwrap_or_else(|e| e.into_inner());
            return mapped.get(&key).cloned().ok_or_else(|| format!("slot {} was never sent here", key.2));
        };
        let mapping = Arc::new(map(fd).map_err(|e| format!("cannot map the shared-memory slot: {e}"))?);
        self.mapped.lock().unwrap_or_else(|e| e.into_inner()).insert(key, mapping.clone());
        Ok(mapping)
    }
}

impl Transport for ShmTransport {
    fn announce(&self, entry: super::LocalEntry) {
        self.core.link.announce(entry);
    }

    fn remote_subscriber_count(&self, topic: &str) -> usize {
        self.core.link.subscribers_of(topic).len()
    }

    fn send(&self, out: &Outgoing<'_>) {
        let core = &self.core;
        let peers = core.link.subscribers_of(&out.header.topic);
        let len = match out.payload {
            OutPayload::Encoded(bytes) => bytes.len(),
            OutPayload::Message(msg) => msg.cdr_len(),
        };
        if peers.is_empty() || !core.link.fits_in_a_frame(out, len) {
            return;
        }
        let taker =
            Taker { publisher: out.header.publisher_id, topic: &out.header.topic, node: out.node, depth: out.depth };
        let Some(lease) = self.lease_or_report(&taker, len, peers) else { return };
        if core.fill(out, &lease, len).is_none() {
            let first = |pid| lease.first_for.contains(&pid);
            lease.peers.iter().for_each(|peer| core.unhold(taker.publisher, lease.slot, peer.pid, first(peer.pid)));
            return;
        }
        let written = if matches!(out.payload, OutPayload::Encoded(_)) { len } else { 0 };
        core.send_frames(out, &lease, len, Copied { serialized: len, written });
    }

    fn lend(&self, publisher: u64, topic: &str, node: &Arc<str>, depth: usize, len: usize) -> Option<Loan> {
        let peers = self.core.link.subscribers_of(topic);
        // Too large for a slot any receiver maps: the message goes on the heap, and its
        // publishing says why no other process gets it.
        if peers.is_empty() || len > MAX_PAYLOAD {
            return None;
        }
        let lease = self.lease_or_report(&Taker { publisher, topic, node, depth }, len, peers)?;
        let memory = lease.memory.lock().unwrap_or_else(|e| e.into_inner()).take();
        Some(Loan { core: self.core.clone(), publisher, lease, memory, sent: false })
    }

    fn receive(&self, mut frame: Incoming) -> Result<Arrived, String> {
        if frame.kind != frame::KIND_SHM {
            return Err(format!("payload kind {} on a shared-memory transport", frame.kind));
        }
        let slot = SlotRef::decode(&frame.payload).ok_or("malformed slot reference")?;
        let key = (frame.from_pid, frame.publisher, slot.slot);
        let mapping = self.core.map_slot(&mut frame, key)?;
        let range = usize::try_from(slot.offset)
            .ok()
            .zip(usize::try_from(slot.len).ok())
            .and_then(|(offset, len)| Some(offset..offset.checked_add(len)?))
            .filter(|r| r.end <= mapping.map.len() && r.len() <= MAX_PAYLOAD);
        let Some(range) = range else {
            let size = mapping.map.len();
            return Err(format!("{} bytes at offset {} are past the end of a {size}-byte slot", slot.len, slot.offset));
        };
        let segment = SegmentId { inode: mapping.inode, offset: slot.offset };
        let release = ReleaseFrame { publisher: frame.publisher, slot: slot.slot };
        let bytes = SlotBytes { mapping, range, back: frame.back, release };
        Ok(Arrived { bytes: WireBytes::Mapped(Arc::new(bytes)), segment: Some(segment) })
    }

    fn release(&self, from_pid: u32, release: ReleaseFrame) -> Result<(), String> {
        let mut pools = self.core.pools.lock().unwrap_or_else(|e| e.into_inner());
        let slot = pools.get_mut(&release.publisher).and_then(|p| p.get_mut(release.slot as usize));
        let Some(slot) = slot.filter(|s| s.held_by.contains(&from_pid)) else {
            return Err(format!(
                "release of slot {} of publisher {}, which it does not hold",
                release.slot, release.publisher
            ));
        };
        if let Some(i) = slot.held_by.iter().position(|&p| p == from_pid) {
            slot.held_by.swap_remove(i);
        }
        self.core.freed.notify_all();
        let segment = SegmentId { inode: slot.inode, offset: 0 };
        self.core.link.tracer.emit(&Arc::from(""), || EventKind::Released { by_pid: from_pid, segment });
        Ok(())
    }

    fn peer_gone(&self, pid: u32) {
        let mut reclaimed = 0;
        for slot in self.core.pools.lock().unwrap_or_else(|e| e.into_inner()).values_mut().flatten() {
            let held = slot.held_by.len();
            slot.held_by.retain(|&p| p != pid);
            reclaimed += usize::from(slot.held_by.len() < held);
            slot.sent_to.remove(&pid);
        }
        self.core.freed.notify_all();
        if reclaimed > 0 {
            self.core.link.tracer.emit(&Arc::from(""), || EventKind::Reclaimed { pid, slots: reclaimed });
        }
        // Messages still queued here keep their own mapping until they are dropped.
        self.core.mapped.lock().unwrap_or_else(|e| e.into_inner()).retain(|key, _| key.0 != pid);
    }

    fn close(&self) {
        self.core.link.close();
    }
}

impl ShmTransport {
    /// A lease, or `None` after reporting why not (a full pool, or no memory for a slot).
    fn lease_or_report(&self, taker: &Taker<'_>, len: usize, peers: Vec<Peer>) -> Option<Lease> {
        let pids: Vec<u32> = peers.iter().map(|p| p.pid).collect();
        match self.core.lease(taker, len, peers) {
            Ok(lease) => lease,
            // No memory for a slot: nobody can be reached this time.
            Err(e) => {
                for pid in pids {
                    self.core.link.sent(pid, taker.topic, taker.node, Err(e.kind().into()));
                }
                None
            }
        }
    }
}

/// Maps a received slot read-only, after checking that it is a memfd sealed so that it
/// cannot shrink under the mapping nor be mapped writable by anyone else.
fn map(fd: OwnedFd) -> io::Result<Mapping> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    // Only a memfd has seals: a pipe, a directory or an ordinary file fails here.
    let seals = fcntl(&fd, FcntlArg::F_GET_SEALS).map_err(|e| invalid(format!("not a memfd ({e})")))?;
    if !SealFlag::from_bits_truncate(seals).contains(required_seals()) {
        return Err(invalid("the slot is not sealed against shrinking, growing and writing".into()));
    }
    let file = std::fs::File::from(fd);
    let metadata = file.metadata()?;
    let size = metadata.len();
    if size == 0 || size > MAX_PAYLOAD as u64 {
        return Err(invalid(format!("a slot of {size} bytes")));
    }
    // SAFETY: the memfd is sealed against shrinking (checked above), so every page of the
    // mapping stays backed: no SIGBUS. Its bytes may be written by the publisher's own
    // mapping; the decoder checks every length it reads.
    let map = unsafe { memmap2::MmapOptions::new().len(size as usize).map(&file)? };
    Ok(Mapping { map, inode: metadata.ino() })
}
