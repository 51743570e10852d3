//! The trace tells the truth about copies: checked against the heap itself.
//!
//! This test binary installs a global allocator that counts, per thread, every allocation
//! the code under test makes. A deep copy of a 1 MiB image has to allocate a new 1 MiB
//! pixel buffer somewhere, and so do serialization and deserialization; a move allocates
//! none. So counting the large allocations made while a message is published and
//! delivered tells how many times the pixels were really copied, without looking at the
//! trace; each test then checks that the trace's `Copied`, `Serialized` and
//! `Deserialized` events report the same copies, in the same order, of the same size.
//!
//! Everything (publishing, the executor, the callbacks) runs on the test's own thread, so
//! the per-thread counters see all of it and nothing of the tests running in parallel.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use ipc_lab::engine::msg::sensor_msgs::Image;
use ipc_lab::engine::trace::{CopyReason, EventKind, Recorder, TraceEvent};
use ipc_lab::engine::{
    ConstSharedPtr, Context, InitOptions, IntraProcessBufferType, IntraProcessSetting, Node, NodeOptions, SharedPtr,
    SingleThreadedExecutor, Subscription, SubscriptionOptions, UniquePtr,
};

// ---------------------------------------------------------------------------------------
// The counting allocator.
// ---------------------------------------------------------------------------------------

/// An allocation at least this large is "big": only a message's pixel buffer (1 MiB), or
/// a buffer holding a copy of it, gets there. Everything else the engine allocates (trace
/// events, queues, `Arc`s, strings) is a few hundred bytes at most.
const BIG: usize = 512 * 1024;

/// How many big allocations per measurement keep their size on record.
const LOGGED: usize = 8;

thread_local! {
    // `const` initialised and without `Drop`: using them never allocates and never
    // registers a destructor, so the allocator can touch them without recursing.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
    static BIG_ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BIG_BYTES: Cell<usize> = const { Cell::new(0) };
    static BIG_REALLOCS: Cell<usize> = const { Cell::new(0) };
    // The sizes of the big allocations since the last `measure` began, and how many.
    static BIG_SIZES: Cell<[usize; LOGGED]> = const { Cell::new([0; LOGGED]) };
    static BIG_LOGGED: Cell<usize> = const { Cell::new(0) };
}

/// Adds to a thread-local counter; silently does nothing while the thread is being torn
/// down (its locals may be gone then, and nothing is measured at that point anyway).
fn bump(counter: &'static std::thread::LocalKey<Cell<usize>>, by: usize) {
    let _ = counter.try_with(|c| c.set(c.get() + by));
}

/// A fresh block of `size` bytes.
fn count_alloc(size: usize) {
    bump(&ALLOCS, 1);
    bump(&BYTES, size);
    if size >= BIG {
        bump(&BIG_ALLOCS, 1);
        bump(&BIG_BYTES, size);
        let _ = BIG_LOGGED.try_with(|n| {
            let i = n.get();
            if i < LOGGED {
                let _ = BIG_SIZES.try_with(|log| {
                    let mut sizes = log.get();
                    sizes[i] = size;
                    log.set(sizes);
                });
                n.set(i + 1);
            }
        });
    }
}

/// A block resized from `old` to `new` bytes: counts as an allocation of the growth. A big
/// buffer that grows (a `Vec` outgrowing its reservation) may be moved and copied by
/// `realloc`, which the trace would not report: counted on its own so tests can insist on
/// none.
fn count_realloc(old: usize, new: usize) {
    bump(&ALLOCS, 1);
    bump(&BYTES, new.saturating_sub(old));
    if new >= BIG && new > old {
        bump(&BIG_REALLOCS, 1);
    }
}

struct Counting;

// SAFETY: every method forwards to `System` unchanged; the counting only touches
// allocation-free thread locals.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_realloc(layout.size(), new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What the current thread allocated during one [`measure`]d call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Allocs {
    /// Allocations of any size (reallocations included).
    count: usize,
    /// Bytes allocated (for a reallocation, the growth).
    bytes: usize,
    /// Fresh allocations of at least [`BIG`] bytes.
    big: usize,
    /// Their bytes.
    big_bytes: usize,
    /// Reallocations growing a block to at least [`BIG`] bytes.
    big_reallocs: usize,
    /// The sizes of the first [`LOGGED`] big allocations, in the order they were made.
    big_sizes: [usize; LOGGED],
}

impl Allocs {
    fn big_sizes(&self) -> &[usize] {
        &self.big_sizes[..self.big.min(LOGGED)]
    }
}

fn snapshot() -> Allocs {
    Allocs {
        count: ALLOCS.with(Cell::get),
        bytes: BYTES.with(Cell::get),
        big: BIG_ALLOCS.with(Cell::get),
        big_bytes: BIG_BYTES.with(Cell::get),
        big_reallocs: BIG_REALLOCS.with(Cell::get),
        big_sizes: [0; LOGGED],
    }
}

/// Runs `f` and returns what it allocated on this thread. Not reentrant.
fn measure<R>(f: impl FnOnce() -> R) -> (R, Allocs) {
    BIG_SIZES.with(|log| log.set([0; LOGGED]));
    BIG_LOGGED.with(|n| n.set(0));
    let before = snapshot();
    let result = f();
    let after = snapshot();
    let allocs = Allocs {
        count: after.count - before.count,
        bytes: after.bytes - before.bytes,
        big: after.big - before.big,
        big_bytes: after.big_bytes - before.big_bytes,
        big_reallocs: after.big_reallocs - before.big_reallocs,
        big_sizes: BIG_SIZES.with(Cell::get),
    };
    (result, allocs)
}

// ---------------------------------------------------------------------------------------
// The experiment.
// ---------------------------------------------------------------------------------------

/// The pixel buffer: 1 MiB, so it dwarfs everything else a publish allocates.
const PIXELS: usize = 1 << 20;

/// How far a size the trace reports may be from the allocation it stands for. The trace
/// counts a little more than the pixels (`deep_size` adds the struct and its strings; a
/// CDR length adds the header, the other fields and padding) and an allocation can be a
/// little more too (the CDR buffer is reserved as `4 + deep_size`): about a hundred bytes
/// either way, never anywhere near another copy of the pixels.
const SLACK: usize = 256;

/// A 1 MiB `bgr8` image: 256 rows of 1365 pixels, each row padded to a 4096-byte step.
fn big_image() -> Box<Image> {
    Box::new(Image {
        height: 256,
        width: 1365,
        encoding: "bgr8".into(),
        step: 4096,
        data: vec![0u8; PIXELS],
        ..Image::default()
    })
}

/// A fresh domain per test: one domain's endpoints in one process all hear each other.
fn next_domain() -> u32 {
    static DOMAIN: AtomicU32 = AtomicU32::new(500);
    DOMAIN.fetch_add(1, Ordering::Relaxed)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `UniquePtr<Image>`: takes ownership.
    Owner,
    /// `ConstSharedPtr<Image>`: shares.
    Shared,
    /// `&Image` (rclcpp's `const T &`): an owner for the IPM.
    Ref,
    /// `SharedPtr<Image>` (mutable): an owner for the IPM.
    SharedPtr,
    /// `UniquePtr<Image>` behind a `SharedPtr` intra-process buffer.
    OwnerOfSharedBuffer,
    /// `ConstSharedPtr<Image>` with IPC disabled on the subscription: outside the IPM, like
    /// a subscriber in another process.
    Outside,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// `publish(Box<Image>)`: ownership moves in.
    Move,
    /// `publish_ref(&Image)`: borrowed.
    ByRef,
}

/// What one publication cost and where the pixels ended up.
struct Outcome {
    /// The payload pointer of the published message.
    published: usize,
    /// Per subscription, in the order created: the payload pointer its callback got.
    received: Vec<usize>,
    /// What publishing and delivering allocated.
    allocs: Allocs,
    events: Vec<TraceEvent>,
}

/// Publishes one big image to subscriptions of the given kinds (each in its own node) and
/// spins until every callback has run; only the publish and the spinning are measured.
fn publish_once(ipc: bool, kinds: &[Kind], how: How) -> Outcome {
    let recorder = Arc::new(Recorder::default());
    let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).domain_id(next_domain()));
    let options = NodeOptions::default().use_intra_process_comms(ipc);
    let producer = Node::new(&ctx, "producer", options).unwrap();
    let publisher = producer.create_publisher::<Image>("image", 10).unwrap();

    let slots = Arc::new(Mutex::new(vec![None::<usize>; kinds.len()]));
    let mut consumers = Vec::new();
    let mut subscriptions: Vec<Subscription<Image>> = Vec::new();
    for (i, &kind) in kinds.iter().enumerate() {
        let node = Node::new(&ctx, &format!("consumer{}", i + 1), options).unwrap();
        let slots = slots.clone();
        let record = move |data: &[u8]| slots.lock().unwrap()[i] = Some(data.as_ptr() as usize);
        let shared_buffer =
            SubscriptionOptions { intra_process_buffer_type: IntraProcessBufferType::SharedPtr, ..Default::default() };
        let sub = match kind {
            Kind::Owner => node.create_subscription("image", 10, move |msg: UniquePtr<Image>| record(&msg.data)),
            Kind::Shared => node.create_subscription("image", 10, move |msg: ConstSharedPtr<Image>| record(&msg.data)),
            Kind::Ref => node.create_subscription("image", 10, move |msg: &Image| record(&msg.data)),
            Kind::SharedPtr => node.create_subscription("image", 10, move |msg: SharedPtr<Image>| record(&msg.data)),
            Kind::Outside => node.create_subscription_with_options(
                "image",
                10,
                move |msg: ConstSharedPtr<Image>| record(&msg.data),
                SubscriptionOptions { use_intra_process_comm: IntraProcessSetting::Disable, ..Default::default() },
            ),
            Kind::OwnerOfSharedBuffer => node.create_subscription_with_options(
                "image",
                10,
                move |msg: UniquePtr<Image>| record(&msg.data),
                shared_buffer,
            ),
        };
        subscriptions.push(sub.unwrap());
        consumers.push(node);
    }
    let mut executor = SingleThreadedExecutor::new();
    executor.add_node(&producer);
    for node in &consumers {
        executor.add_node(node);
    }

    let msg = big_image();
    let published = msg.data.as_ptr() as usize;
    let ((), allocs) = measure(|| {
        match how {
            How::Move => publisher.publish(msg),
            How::ByRef => publisher.publish_ref(&msg),
        }
        while executor.spin_some() {}
    });

    let received = slots.lock().unwrap().iter().map(|s| s.expect("every subscription got the image")).collect();
    drop(subscriptions);
    Outcome { published, received, allocs, events: recorder.events() }
}

/// The events that report a copy of the message, in order: (kind, bytes).
fn copy_events(events: &[TraceEvent]) -> Vec<(&'static str, usize)> {
    events
        .iter()
        .filter_map(|e| {
            let name = match e.kind {
                EventKind::Copied { .. } => "Copied",
                EventKind::Serialized { .. } => "Serialized",
                EventKind::Deserialized { .. } => "Deserialized",
                _ => return None,
            };
            Some((name, e.kind.bytes_copied().unwrap()))
        })
        .collect()
}

/// The heart of it: the copies the trace reports are exactly the big allocations the
/// allocator saw. As many, in the same order, each of about the same size, with the
/// same total; and no big buffer grew behind the trace's back.
fn assert_trace_matches_heap(outcome: &Outcome) {
    let reported = copy_events(&outcome.events);
    let a = &outcome.allocs;
    eprintln!(
        "  allocations: {} ({} B); big: {} ({} B) sizes {:?}; big reallocs: {}; trace: {:?}",
        a.count,
        a.bytes,
        a.big,
        a.big_bytes,
        a.big_sizes(),
        a.big_reallocs,
        reported
    );
    assert_eq!(a.big_reallocs, 0, "a big buffer was reallocated: a copy the trace cannot see");
    assert!(a.big <= LOGGED, "more big allocations than the log holds: {a:?}");
    assert_eq!(reported.len(), a.big, "trace copies {reported:?} vs big allocations {:?}", a.big_sizes());
    for (&(kind, bytes), &allocated) in reported.iter().zip(a.big_sizes()) {
        assert!(
            bytes.abs_diff(allocated) <= SLACK,
            "{kind} reports {bytes} B but the allocation it stands for was {allocated} B"
        );
    }
    let reported_total: usize = reported.iter().map(|&(_, b)| b).sum();
    assert!(
        reported_total.abs_diff(a.big_bytes) <= SLACK * reported.len().max(1),
        "trace total {reported_total} B vs big allocations {} B",
        a.big_bytes
    );
}

/// The reasons of the `Copied` events, in the order they were reported.
fn copy_reasons(events: &[TraceEvent]) -> Vec<CopyReason> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Copied { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

/// The trace's payload address for each copy-reporting event, in order.
fn copy_payloads(events: &[TraceEvent]) -> Vec<Option<usize>> {
    events.iter().filter(|e| e.kind.bytes_copied().is_some()).map(|e| e.kind.message().unwrap().payload_addr).collect()
}

// ---------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------

/// The counter itself works: a deep copy of the image is seen as one big allocation of
/// exactly the pixels, and a big `Vec` outgrowing its capacity as a big reallocation. So
/// the "no big allocation" results below are not the counter being blind.
#[test]
fn the_counter_sees_copies_and_growth() {
    let image = big_image();
    let (copy, allocs) = measure(|| image.clone());
    assert_eq!(allocs.big, 1);
    assert_eq!(allocs.big_sizes(), [PIXELS]);
    assert_eq!(allocs.big_reallocs, 0);
    assert_ne!(copy.data.as_ptr(), image.data.as_ptr());

    let mut grown = copy.data.clone();
    let ((), allocs) = measure(|| grown.push(1));
    assert_eq!((allocs.big, allocs.big_reallocs), (0, 1));
}

/// IPC on, one subscription that takes ownership: the published box moves to the
/// callback. Nothing pixel-sized is allocated, the trace reports no copy, and the callback
/// holds the very pixel buffer that was published.
#[test]
fn ipc_single_owner_moves_the_pixels() {
    let outcome = publish_once(true, &[Kind::Owner], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 0);
    assert!(copy_events(&outcome.events).is_empty());
    assert_eq!(outcome.received, [outcome.published]);
}

/// IPC on, two owners: one of them needs its own message, so exactly one pixel buffer is
/// allocated, and the trace reports exactly that one `Copied` event, of that size. One
/// owner has the published pixels, the other the copy the trace names.
#[test]
fn ipc_two_owners_cost_exactly_one_copy() {
    let outcome = publish_once(true, &[Kind::Owner, Kind::Owner], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 1);
    let reported = copy_events(&outcome.events);
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0].0, "Copied");
    let originals = outcome.received.iter().filter(|&&p| p == outcome.published).count();
    assert_eq!(originals, 1, "exactly one owner gets the published pixels: {:?}", outcome.received);
    let copy = *outcome.received.iter().find(|&&p| p != outcome.published).unwrap();
    assert_eq!(copy_payloads(&outcome.events), [Some(copy)], "the trace names the buffer the copy landed in");
}

/// IPC off, one subscriber that reads shared: the message goes through the middleware.
/// Exactly two pixel-sized buffers are allocated: the CDR encoding and the decoded image's
/// pixels. The trace's `Serialized` and `Deserialized` events each report at least the
/// pixels and match those two allocations, and the callback gets the decoded pixels.
#[test]
fn ipc_off_costs_a_serialization_and_a_deserialization() {
    let outcome = publish_once(false, &[Kind::Shared], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 2);
    let reported = copy_events(&outcome.events);
    let kinds: Vec<_> = reported.iter().map(|&(k, _)| k).collect();
    assert_eq!(kinds, ["Serialized", "Deserialized"]);
    assert!(reported.iter().all(|&(_, bytes)| bytes >= PIXELS), "{reported:?}");
    // No address comparison with the published pixels: the publisher's message is freed
    // once serialized, and the allocator may hand its block to the decoded one. That the
    // pixels were copied is proven by the allocations counted above.
    // The decoded message's pixels are the ones the callback got.
    assert_eq!(copy_payloads(&outcome.events)[1], Some(outcome.received[0]));
}

/// IPC off, one subscriber that takes ownership: as in rclcpp, the message the middleware
/// decoded is copied once more into the `UniquePtr` the callback takes. Three pixel-sized
/// buffers, three events, and the callback holds the third.
#[test]
fn ipc_off_with_an_owner_pays_one_more_copy() {
    let outcome = publish_once(false, &[Kind::Owner], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 3);
    let kinds: Vec<_> = copy_events(&outcome.events).iter().map(|&(k, _)| k).collect();
    assert_eq!(kinds, ["Serialized", "Deserialized", "Copied"]);
    assert_eq!(copy_payloads(&outcome.events)[2], Some(outcome.received[0]));
}

/// IPC on, three shared subscriptions and no owner: the message is promoted to shared as
/// it is. No pixel-sized allocation, no copy in the trace, one pixel buffer for all three.
#[test]
fn ipc_shared_subscriptions_share_the_original() {
    let outcome = publish_once(true, &[Kind::Shared, Kind::Shared, Kind::Shared], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 0);
    assert!(copy_events(&outcome.events).is_empty());
    assert_eq!(outcome.received, [outcome.published; 3]);
}

/// `publish_ref` with IPC on and one owner: the engine must own what it moves, so it copies
/// the borrowed message once. Exactly one pixel buffer allocated, reported as one `Copied`
/// event with reason `PublishByReference`; the owner gets that copy, not the caller's pixels.
#[test]
fn publish_by_reference_costs_exactly_one_copy() {
    let outcome = publish_once(true, &[Kind::Owner], How::ByRef);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 1);
    let reasons = copy_reasons(&outcome.events);
    assert_eq!(reasons, [CopyReason::PublishByReference]);
    assert_eq!(copy_events(&outcome.events).len(), 1);
    assert_ne!(outcome.received, [outcome.published]);
    assert_eq!(copy_payloads(&outcome.events), [Some(outcome.received[0])]);
}

/// IPC off, a `const T &` and a `SharedPtr` callback: the middleware's decoded message is
/// handed over as it is, unlike a `UniquePtr` callback's. Two pixel buffers each (the CDR
/// encoding and the decoded image), two events, and the callback sees the decoded pixels.
#[test]
fn ipc_off_ref_and_shared_ptr_callbacks_pay_no_third_copy() {
    for kind in [Kind::Ref, Kind::SharedPtr] {
        let outcome = publish_once(false, &[kind], How::Move);
        assert_trace_matches_heap(&outcome);
        assert_eq!(outcome.allocs.big, 2);
        let kinds: Vec<_> = copy_events(&outcome.events).iter().map(|&(k, _)| k).collect();
        assert_eq!(kinds, ["Serialized", "Deserialized"]);
        assert_eq!(copy_payloads(&outcome.events)[1], Some(outcome.received[0]));
    }
}

/// IPC on, a `const T &` and a `SharedPtr` callback: both owners, so the first in the list
/// gets a copy, made by the IPM and reported, and the last one the published pixels.
#[test]
fn ipc_ref_and_shared_ptr_callbacks_are_owners() {
    let outcome = publish_once(true, &[Kind::Ref, Kind::SharedPtr], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 1);
    assert_eq!(outcome.received[1], outcome.published);
    assert_eq!(copy_payloads(&outcome.events), [Some(outcome.received[0])]);
}

/// IPC on, a `UniquePtr` callback behind a `SharedPtr` buffer, alone: the IPM sees a
/// sharer and copies nothing, but taking ownership out of a shared buffer always copies
/// (`consume_unique`). One pixel buffer, reported by the subscription, held by the callback.
#[test]
fn a_shared_buffer_under_an_owner_copies_at_take_time() {
    let outcome = publish_once(true, &[Kind::OwnerOfSharedBuffer], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 1);
    let reasons = copy_reasons(&outcome.events);
    assert_eq!(reasons, [CopyReason::UniqueFromSharedBuffer]);
    assert_eq!(copy_payloads(&outcome.events), [Some(outcome.received[0])]);
}

/// IPC on, one owner and one subscriber outside the IPM (rclcpp #1722): the shared copy
/// for the middleware, its serialization, the outsider's deserialization, and the
/// duplicate the owner's subscription deserializes only to discard. Four pixel buffers,
/// four events: the duplicate is a real cost, and the trace reports it.
#[test]
fn the_discarded_duplicate_is_a_real_deserialization() {
    let outcome = publish_once(true, &[Kind::Owner, Kind::Outside], How::Move);
    assert_trace_matches_heap(&outcome);
    assert_eq!(outcome.allocs.big, 4);
    let kinds: Vec<_> = copy_events(&outcome.events).iter().map(|&(k, _)| k).collect();
    assert_eq!(kinds, ["Copied", "Serialized", "Deserialized", "Deserialized"]);
    assert!(outcome.events.iter().any(|e| matches!(e.kind, EventKind::Discarded { .. }) && &*e.node == "consumer1"));
    assert_eq!(outcome.received[0], outcome.published);
}
