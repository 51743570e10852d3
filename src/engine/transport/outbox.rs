//! Sending to other processes without ever blocking the publisher: one connection per
//! subscribing process, a bounded keep-last queue in front of it, and a writer thread that
//! drains the queue into the connection.
//!
//! The publishing thread only puts a frame in the queue of each subscribing process and
//! goes on to its own subscriptions. A process that reads slowly, or not at all (stopped
//! with SIGSTOP), fills only its own queue: the oldest frame of the same publisher is then
//! dropped (the `overwritten_for_peer` event), as a keep-last history drops its oldest
//! sample, and nobody else waits.
//!
//! The kernel's socket buffer would hold thousands of small frames for a stopped reader,
//! all delivered in a burst when it resumes. So the receiver acknowledges the frames it has
//! read ([`AckFrame`](super::frame::AckFrame)), and the writer keeps at most half of a
//! publisher's depth of its frames unacknowledged in the socket (the window): a process that
//! resumes gets at most the depth waiting and half of it in the socket.
//!
//! Keep-last is about what has not been sent: a frame waiting is dropped only when the
//! depth of newer frames of its publisher wait behind it. The frames in the socket do not
//! count, because a reader that keeps up may already have read them and its acknowledgement
//! be on its way: a publisher that sends its depth of messages at once right after another
//! one must not lose the oldest of them for a late acknowledgement (`ipc-lab bench` did, one
//! run in a few, when its burst of 64 followed a hop whose acknowledgement had not come
//! back yet).
//!
//! A frame that finds the queue empty and room in the window is written by the publishing
//! thread itself, if the socket takes it at once (a non-blocking write of a small frame: a
//! shared-memory frame, whose bytes are in the slot already); otherwise it waits for the
//! writer thread like any other. Handing it to the writer cost a thread's wake-up, about
//! as long again as the write itself, on every hop (`ipc-lab bench`'s `shm-loan`).
//!
//! Why one thread per peer rather than one writer over nonblocking sockets: a demo has one
//! or two peers; a blocking write of a 6 MB image to one of them then never delays another,
//! and each thread reads top to bottom (connect, take a frame, write it). A process with
//! hundreds of peers would want one `poll` loop instead.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::link::{Link, Peer};
use super::{discovery, socket, SCAN_PERIOD};
use crate::engine::trace::{EventKind, MessageRef};
use socket::WHOLE_OR_NOTHING;

/// A process that does not accept our connection within this is treated as lost (its
/// listening backlog is full, or it hangs). Once connected, a write waits as long as the
/// process does not read: only its writer thread waits, and its queue keeps the newest.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A queue for a keep-all publisher (which has no depth) holds this many of its frames.
pub(crate) const KEEP_ALL_QUEUE: usize = 128;

/// How many of a publisher's frames wait (not yet written) for one process: its keep-last
/// depth.
fn queue_depth(publisher_depth: usize) -> usize {
    publisher_depth.clamp(1, KEEP_ALL_QUEUE)
}

/// How many of a publisher's frames may be written and not yet acknowledged: half its
/// depth, so that a reader that keeps up gets the next frames while it acknowledges the
/// first ones, and a stopped one holds few in its socket.
fn window(publisher_depth: usize) -> usize {
    (queue_depth(publisher_depth) / 2).max(1)
}

/// How many of a publisher's frames one process can hold up at most, waiting and in the
/// socket: what a slow process costs (a shared-memory pool keeps that many slots for it).
pub(crate) fn held_at_most(publisher_depth: usize) -> usize {
    queue_depth(publisher_depth) + window(publisher_depth)
}

/// One frame on its way to one process.
pub(crate) struct Queued {
    /// The publisher it is from, in this process's numbering.
    pub(crate) publisher: u64,
    /// That publisher's keep-last depth.
    pub(crate) depth: usize,
    /// The prefix and header (and a slot reference, for shared memory).
    pub(crate) head: Vec<u8>,
    /// The CDR bytes after the head, shared with the subscriptions of this process (none
    /// for shared memory). Crossing the socket, they are a copy: the `written` event.
    pub(crate) payload: Arc<Vec<u8>>,
    /// A descriptor that goes with the frame (a shared-memory slot's, the first time).
    pub(crate) fd: Option<Arc<OwnedFd>>,
    /// The publishing node and topic, for the trace.
    pub(crate) node: Arc<str>,
    pub(crate) topic: Arc<str>,
    /// The message as the trace names it (`None` when nobody listens).
    pub(crate) msg: Option<MessageRef>,
    /// Gives back what the frame holds (a shared-memory slot) if it is never written:
    /// dropped from a full queue, or its process gone. Taken once it is written.
    pub(crate) unsent: Option<Box<dyn FnOnce() + Send>>,
}

impl Queued {
    /// The frame went out: what it holds is now the receiver's to give back.
    pub(crate) fn written(mut self) {
        self.unsent = None;
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if let Some(unsent) = self.unsent.take() {
            unsent();
        }
    }
}

/// What became of a frame put in a queue.
pub(crate) enum Pushed {
    /// It waits; nothing was dropped.
    Queued,
    /// It waits, and this older frame of the same publisher, which was waiting too, was
    /// dropped to make room.
    Overwrote(Box<Queued>),
    /// The connection is gone: the frame is not sent (and gives back what it held).
    Closed,
}

/// The frames waiting for one process, and those written that it has not acknowledged.
pub(crate) struct Outbox {
    state: Mutex<State>,
    /// Told when a frame comes, an acknowledgement comes, or the outbox closes.
    changed: Condvar,
}

struct State {
    waiting: VecDeque<Queued>,
    /// The publishers of the frames written and not acknowledged yet, oldest first.
    unacked: VecDeque<u64>,
    closed: bool,
    /// The writer thread has taken a frame and is writing it.
    writing: bool,
    /// The connection, once the writer thread has made it: for writing a frame at once.
    connection: Option<UnixStream>,
}

impl State {
    fn in_flight(&self, publisher: u64) -> usize {
        self.unacked.iter().filter(|&&p| p == publisher).count()
    }
}

impl Outbox {
    pub(crate) fn new() -> Self {
        let state = State {
            waiting: VecDeque::new(),
            unacked: VecDeque::new(),
            closed: false,
            writing: false,
            connection: None,
        };
        Self { state: Mutex::new(state), changed: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts `frame` in the queue, dropping the oldest waiting frame of its publisher if that
    /// publisher already has its depth of frames waiting. Never waits for the process.
    pub(crate) fn push(&self, frame: Queued) -> Pushed {
        let mut state = self.lock();
        if state.closed {
            // Given back outside the lock.
            drop(state);
            drop(frame);
            return Pushed::Closed;
        }
        let publisher = frame.publisher;
        let of_publisher = |q: &Queued| q.publisher == publisher;
        // Frames in the socket are not counted: they may be read already (see the module).
        let dropped = if state.waiting.iter().filter(|q| of_publisher(q)).count() >= queue_depth(frame.depth) {
            state.waiting.iter().position(of_publisher).and_then(|oldest| state.waiting.remove(oldest))
        } else {
            None
        };
        state.waiting.push_back(frame);
        self.changed.notify_all();
        dropped.map_or(Pushed::Queued, |old| Pushed::Overwrote(Box::new(old)))
    }

    /// The next frame to write, once its publisher has room in the window; `None` when the
    /// outbox closes or `stop` says so (looked at every [`SCAN_PERIOD`]).
    pub(crate) fn next(&self, stop: impl Fn() -> bool) -> Option<Queued> {
        let mut state = self.lock();
        loop {
            if state.closed || stop() {
                return None;
            }
            let ready = state.waiting.iter().position(|q| state.in_flight(q.publisher) < window(q.depth));
            if let Some(frame) = ready.and_then(|i| state.waiting.remove(i)) {
                state.unacked.push_back(frame.publisher);
                state.writing = true;
                return Some(frame);
            }
            state = self.changed.wait_timeout(state, SCAN_PERIOD).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The writer thread is done with the frame [`Outbox::next`] gave it.
    fn wrote(&self) {
        self.lock().writing = false;
    }

    /// The writer thread is connected: frames may be written at once on `connection` too.
    fn connected(&self, connection: UnixStream) {
        let mut state = self.lock();
        if !state.closed {
            state.connection = Some(connection);
        }
    }

    /// Writes `frame` on this thread, now, if it can go at once without overtaking any frame
    /// or breaking the window: nothing waits, the writer thread is not writing, its
    /// publisher has room in the window, it carries no bytes of the message (those would be
    /// a copy the `written` event reports before the write, and the write could still fail)
    /// and is short enough to be written whole or not at all; and the socket takes it
    /// (`write` writes it without waiting). Gives it back otherwise, to be queued.
    pub(crate) fn write_now(
        &self,
        frame: Queued,
        write: impl FnOnce(&UnixStream, &Queued) -> io::Result<usize>,
    ) -> Option<Queued> {
        let mut state = self.lock();
        let free = !state.closed
            && !state.writing
            && state.waiting.is_empty()
            && state.in_flight(frame.publisher) < window(frame.depth)
            && frame.payload.is_empty()
            && frame.head.len() <= WHOLE_OR_NOTHING;
        let Some(connection) = state.connection.as_ref().filter(|_| free) else { return Some(frame) };
        // Written under the lock: the writer thread cannot take a frame meanwhile, and an
        // acknowledgement of it cannot come before it is counted.
        match write(connection, &frame) {
            Ok(n) if n == frame.head.len() => {}
            // Cannot happen for a frame this short (see WHOLE_OR_NOTHING); the rest would be
            // lost, so the connection ends, and the peer with it, as for a failed write.
            Ok(_) => {
                let _ = connection.shutdown(std::net::Shutdown::Both);
            }
            // No room (a process that does not read), or a failure the writer thread meets
            // and reports at its next write.
            Err(_) => return Some(frame),
        }
        state.unacked.push_back(frame.publisher);
        drop(state);
        frame.written();
        None
    }

    /// The process has read `frames` more frames.
    pub(crate) fn acknowledged(&self, frames: u32) {
        let mut state = self.lock();
        let n = (frames as usize).min(state.unacked.len());
        state.unacked.drain(..n);
        self.changed.notify_all();
    }

    /// The connection is gone: no frame is written any more, and the waiting ones give back
    /// what they hold.
    pub(crate) fn close(&self) {
        let waiting = {
            let mut state = self.lock();
            state.closed = true;
            state.connection = None;
            self.changed.notify_all();
            std::mem::take(&mut state.waiting)
        };
        drop(waiting);
    }
}

impl Link {
    /// Writes `frame` to `peer` now if the socket takes it at once ([`Outbox::write_now`]),
    /// else puts it in the queue for `peer`, starting its writer thread (which connects) if
    /// there is none. Never waits for the peer.
    pub(crate) fn enqueue(&self, peer: &Peer, frame: Queued) {
        let outbox = {
            let mut outboxes = self.outboxes.lock().unwrap_or_else(|e| e.into_inner());
            let outbox = outboxes.entry(peer.pid).or_insert_with(|| {
                let outbox = Arc::new(Outbox::new());
                if let Some(link) = self.me.upgrade() {
                    let (pid, socket, outbox) = (peer.pid, peer.socket.clone(), outbox.clone());
                    std::thread::spawn(move || link.write_loop(pid, &socket, &outbox));
                }
                outbox
            });
            outbox.clone()
        };
        let write =
            |connection: &UnixStream, frame: &Queued| socket::send_now(connection, &frame.head, frame.fd.as_deref());
        let unwritten = if self.stopping() { Some(frame) } else { outbox.write_now(frame, write) };
        let Some(frame) = unwritten else { return };
        match outbox.push(frame) {
            Pushed::Queued | Pushed::Closed => {}
            Pushed::Overwrote(old) => {
                if let Some(msg) = &old.msg {
                    self.tracer
                        .emit(&old.node, || EventKind::OverwrittenForPeer { msg: msg.clone(), to_pid: peer.pid });
                }
            }
        }
    }

    /// The writer thread of one peer: connects at the first frame, then writes frames as
    /// the window allows, until the connection fails or we stop.
    fn write_loop(&self, pid: u32, socket: &Path, outbox: &Arc<Outbox>) {
        let mut stream = None;
        while let Some(frame) = outbox.next(|| self.stopping()) {
            let result = self.connected(&mut stream, pid, socket, outbox).and_then(|s| {
                // The kernel copies the bytes into the socket's buffer. Said before the write:
                // the peer may read them and report it at once, and what it reports must come
                // after how they got there (a bench's count stops at its report).
                if let (Some(msg), false) = (&frame.msg, frame.payload.is_empty()) {
                    let bytes = frame.payload.len();
                    self.tracer.emit(&frame.node, || EventKind::Written { msg: msg.clone(), bytes, to_pid: pid });
                }
                self.write_queued(s, &frame)
            });
            outbox.wrote();
            if self.stopping() || !self.sent(pid, &frame.topic, &frame.node, result) {
                break;
            }
            frame.written();
        }
        if let Some(stream) = stream {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        self.forget(pid, outbox);
    }

    /// The connection to `pid`, made now if there is none. Its other direction brings back
    /// acknowledgements and releases, and its end closing is how we learn at once that the
    /// peer died.
    fn connected<'a>(
        &self,
        stream: &'a mut Option<UnixStream>,
        pid: u32,
        socket: &Path,
        outbox: &Arc<Outbox>,
    ) -> io::Result<&'a mut UnixStream> {
        if stream.is_none() {
            let connection = socket::connect(socket, CONNECT_TIMEOUT)?;
            // The listener must be the process that announced it.
            discovery::check_listener(&connection, pid)?;
            // Short, so that a write to a process that does not read still notices a stop.
            connection.set_write_timeout(Some(SCAN_PERIOD))?;
            let back = connection.try_clone()?;
            outbox.connected(connection.try_clone()?);
            if let Some(link) = self.me.upgrade() {
                let outbox = outbox.clone();
                std::thread::spawn(move || link.back_channel_loop(back, pid, &outbox));
            }
            *stream = Some(connection);
        }
        stream.as_mut().ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    /// Writes one frame, its descriptor with its first byte; waits for a process that does
    /// not read as long as we do not stop.
    fn write_queued(&self, stream: &mut UnixStream, frame: &Queued) -> io::Result<()> {
        let give_up = || self.stopping();
        match &frame.fd {
            Some(fd) => socket::send_with_fd(stream, &frame.head, fd, &give_up),
            None => socket::write_frame_until(stream, &frame.head, &frame.payload, &give_up),
        }
    }

    /// The connection to `pid` is over: its waiting frames give back what they hold, and the
    /// next frame for it starts a new connection.
    pub(super) fn forget(&self, pid: u32, outbox: &Arc<Outbox>) {
        outbox.close();
        let mut outboxes = self.outboxes.lock().unwrap_or_else(|e| e.into_inner());
        if outboxes.get(&pid).is_some_and(|o| Arc::ptr_eq(o, outbox)) {
            outboxes.remove(&pid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn frame(publisher: u64, depth: usize, released: &Arc<AtomicUsize>) -> Queued {
        let released = released.clone();
        Queued {
            publisher,
            depth,
            head: Vec::new(),
            payload: Arc::default(),
            fd: None,
            node: Arc::from("n"),
            topic: Arc::from("t"),
            msg: None,
            unsent: Some(Box::new(move || {
                released.fetch_add(1, Ordering::SeqCst);
            })),
        }
    }

    /// Whether the writer may take a frame now (its publisher has room in the window).
    fn ready(outbox: &Outbox) -> bool {
        let state = outbox.lock();
        state.waiting.iter().any(|q| state.in_flight(q.publisher) < window(q.depth))
    }

    /// The writer thread's work, done here: takes and writes every frame the window allows.
    fn write_what_the_window_allows(outbox: &Outbox) -> usize {
        let mut written = 0;
        while ready(outbox) {
            outbox.next(|| false).unwrap().written();
            written += 1;
        }
        written
    }

    /// A process that reads nothing: of 100 frames of a depth-4 publisher, 2 are written
    /// (its window) and 4 wait, the newest; the 94 others are dropped and each gives back
    /// what it held. Another publisher's frames are not pushed out by it.
    #[test]
    fn a_stopped_reader_holds_at_most_the_depth_and_the_window() {
        let released = Arc::new(AtomicUsize::new(0));
        let outbox = Outbox::new();
        let other = frame(2, 4, &released);
        assert!(matches!(outbox.push(other), Pushed::Queued));
        let mut overwritten = 0;
        for _ in 0..100 {
            if let Pushed::Overwrote(old) = outbox.push(frame(1, 4, &released)) {
                drop(old);
                overwritten += 1;
            }
            // The reader acknowledges nothing.
            write_what_the_window_allows(&outbox);
        }
        let state = outbox.lock();
        assert_eq!(state.in_flight(1), window(4));
        assert_eq!(state.waiting.iter().filter(|q| q.publisher == 1).count(), 4);
        assert_eq!(state.in_flight(1) + 4, held_at_most(4));
        assert_eq!(state.in_flight(2), 1);
        drop(state);
        assert_eq!((overwritten, released.load(Ordering::SeqCst)), (94, 94));
        outbox.close();
        assert_eq!(released.load(Ordering::SeqCst), 98, "the four waiting frames give back their slots");
    }

    /// What the publishing thread's write does (`Link::enqueue`).
    fn send_now(connection: &UnixStream, frame: &Queued) -> io::Result<usize> {
        socket::send_now(connection, &frame.head, frame.fd.as_deref())
    }

    fn small_frame(publisher: u64, depth: usize, released: &Arc<AtomicUsize>) -> Queued {
        let mut frame = frame(publisher, depth, released);
        frame.head = vec![7; 100];
        frame
    }

    /// A frame that finds nothing waiting, the writer idle and room in the window is written
    /// by the publishing thread, and counts in the window as the writer's do; once the window
    /// is full, or while the writer thread writes, or while a frame waits, frames wait.
    #[test]
    fn a_frame_is_written_at_once_only_when_it_overtakes_nothing_and_the_window_has_room() {
        let released = Arc::new(AtomicUsize::new(0));
        let outbox = Outbox::new();
        let (ours, theirs) = UnixStream::pair().unwrap();
        assert!(outbox.write_now(small_frame(1, 4, &released), send_now).is_some(), "not connected yet");
        outbox.connected(ours);
        // Depth 4: a window of 2.
        assert!(outbox.write_now(small_frame(1, 4, &released), send_now).is_none());
        assert!(outbox.write_now(small_frame(1, 4, &released), send_now).is_none());
        assert_eq!(outbox.lock().in_flight(1), 2);
        let third = outbox.write_now(small_frame(1, 4, &released), send_now).expect("the window is full");
        assert!(matches!(outbox.push(third), Pushed::Queued));
        outbox.acknowledged(2);
        let fourth = outbox.write_now(small_frame(1, 4, &released), send_now).expect("a frame waits before it");
        assert!(matches!(outbox.push(fourth), Pushed::Queued));
        // The writer thread takes the third; while it writes, nothing overtakes it.
        let taken = outbox.next(|| false).unwrap();
        assert!(outbox.write_now(small_frame(2, 4, &released), send_now).is_some(), "the writer is writing");
        taken.written();
        outbox.wrote();
        // What reached the socket: the two frames of 100 bytes written at once; given back,
        // only the two frames this test dropped (before the connection, while the writer wrote).
        let mut read = vec![0u8; 1000];
        theirs.set_nonblocking(true).unwrap();
        assert_eq!((&theirs).read(&mut read).unwrap(), 200);
        assert_eq!(released.load(Ordering::SeqCst), 2);
    }

    /// A process that does not read: once its socket is full, the publishing thread's write
    /// does not wait; the frame is given back to be queued, and is not counted as written.
    #[test]
    fn a_full_socket_gives_the_frame_back_without_waiting() {
        let released = Arc::new(AtomicUsize::new(0));
        let outbox = Outbox::new();
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let filler = ours.try_clone().unwrap();
        filler.set_nonblocking(true).unwrap();
        while (&filler).write(&[0u8; 4096]).is_ok() {}
        // Blocking again, as the writer thread's connection is: the write must not wait.
        filler.set_nonblocking(false).unwrap();
        outbox.connected(ours);
        let back = outbox.write_now(small_frame(1, 4, &released), send_now).expect("the socket is full");
        assert_eq!(outbox.lock().in_flight(1), 0);
        drop(back);
        assert_eq!(released.load(Ordering::SeqCst), 1, "given back, it still holds what it held");
    }

    /// A depth of 1: one frame in the socket and one waiting, the newest.
    #[test]
    fn depth_one_keeps_one_frame_waiting() {
        let released = Arc::new(AtomicUsize::new(0));
        let outbox = Outbox::new();
        assert!(matches!(outbox.push(frame(1, 1, &released)), Pushed::Queued));
        outbox.next(|| false).unwrap().written();
        assert!(matches!(outbox.push(frame(1, 1, &released)), Pushed::Queued));
        assert!(matches!(outbox.push(frame(1, 1, &released)), Pushed::Overwrote(_)));
        assert_eq!(write_what_the_window_allows(&outbox), 0, "the window is full");
        outbox.acknowledged(1);
        assert_eq!(write_what_the_window_allows(&outbox), 1);
        assert!(matches!(outbox.push(frame(1, 1, &released)), Pushed::Queued));
        assert_eq!(released.load(Ordering::SeqCst), 1, "the dropped frame gave back what it held");
    }

    /// A reader that keeps up but whose acknowledgement is still on its way (the bench: a
    /// hop, its receipt seen, then a burst as deep as the queue at once). No frame of the
    /// burst is dropped: the one in the socket is not counted against the depth. Without
    /// it, the oldest frame of the burst was dropped and never arrived.
    #[test]
    fn a_late_acknowledgement_drops_nothing_of_a_burst_as_deep_as_the_queue() {
        const DEPTH: usize = 64;
        let released = Arc::new(AtomicUsize::new(0));
        let outbox = Outbox::new();
        assert!(matches!(outbox.push(frame(1, DEPTH, &released)), Pushed::Queued));
        assert_eq!(write_what_the_window_allows(&outbox), 1, "the hop is written; its ack is late");
        let burst: Vec<Pushed> = (0..DEPTH).map(|_| outbox.push(frame(1, DEPTH, &released))).collect();
        assert!(burst.iter().all(|p| matches!(p, Pushed::Queued)), "a frame of the burst was dropped");
        // The reader reads all and acknowledges as it goes: every frame of the burst goes out.
        let mut written = 0;
        loop {
            outbox.acknowledged(1);
            let now = write_what_the_window_allows(&outbox);
            if now == 0 {
                break;
            }
            written += now;
        }
        assert_eq!(written, DEPTH);
        assert_eq!(released.load(Ordering::SeqCst), 0, "nothing given back: nothing dropped");
    }
}
