//! Publishers: hand a message to the intra-process manager, to the middleware, or both.
//!
//! ```
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::{Context, Node, NodeOptions};
//!
//! let ctx = Context::init();
//! let node = Node::new(&ctx, "talker", NodeOptions::default()).unwrap();
//! let publisher = node.create_publisher::<Int32>("number", 10).unwrap();
//! publisher.publish(Box::new(Int32 { data: 7 })); // ownership moves in
//! publisher.publish_ref(&Int32 { data: 8 });      // borrowed: the engine copies it once
//! ```

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::context::ContextInner;
use super::intra_process::{IntraProcessManager, PublishInfo, Route};
use super::loan::{ImageLayout, LoanedMessage, SharedImage, INT32_CDR_LEN, INT32_VALUE_OFFSET};
use super::message::{Message, UniquePtr};
use super::middleware::Sender;
use super::msg::sensor_msgs::Image;
use super::msg::std_msgs::Int32;
use super::qos::{Distro, QoS};
use super::text::ShortText;
use super::trace::{CopyReason, EventKind, MessageRef, Publication};
use super::transport::frame::FrameHeader;
use super::transport::{Loan, OutPayload, Outgoing};
use super::wire::{WireBytes, WireSample};

/// A publisher handle; clones publish as the same publisher.
pub struct Publisher<M: Message> {
    inner: Arc<PublisherInner>,
    /// With IPC on, this publisher's intra-process subscriptions, kept up to date by the IPM
    /// (rclcpp's `pub_to_subs_` entry): a publish reads them, it never looks them up.
    route: Option<Arc<Route<M>>>,
    _message: PhantomData<fn(M)>,
}

impl<M: Message> Clone for Publisher<M> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), route: self.route.clone(), _message: PhantomData }
    }
}

pub(crate) struct PublisherInner {
    /// Unique in its context: with `seq` it names each publish call in the trace.
    pub(crate) id: u64,
    pub(crate) node: Arc<str>,
    pub(crate) topic: Arc<str>,
    /// Whether this publisher hands messages to the IPM.
    pub(crate) intra: bool,
    /// Its keep-last depth: how many of its messages a shared-memory pool must be able to
    /// hold at once.
    depth: usize,
    /// Its QoS, which the middleware matches against each subscription's.
    qos: QoS,
    seq: AtomicU64,
    /// The domain's generation when no subscription of this process needed the middleware
    /// (see `Domain::has_other_subscribers`): 0 until known.
    none_local_at: AtomicU64,
    pub(crate) ctx: Arc<ContextInner>,
}

impl PublisherInner {
    pub(crate) fn new(
        node: Arc<str>,
        topic: Arc<str>,
        intra: bool,
        qos: QoS,
        depth: usize,
        ctx: Arc<ContextInner>,
    ) -> Self {
        // Numbered per context, so a run's trace does not depend on what other threads do.
        let id = ctx.next_publisher_id.fetch_add(1, Ordering::Relaxed);
        let (seq, none_local_at) = (AtomicU64::new(0), AtomicU64::new(0));
        Self { id, node, topic, intra, depth, qos, seq, none_local_at, ctx }
    }

    /// This publisher as the middleware matches it.
    fn sender(&self, intra: bool) -> Sender {
        Sender { context_id: self.ctx.id, intra, qos: self.qos }
    }
}

impl<M: Message> Publisher<M> {
    pub(crate) fn new(inner: Arc<PublisherInner>, route: Option<Arc<Route<M>>>) -> Self {
        Self { inner, route, _message: PhantomData }
    }

    pub fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// Whether this publisher uses intra-process communication.
    pub fn uses_intra_process(&self) -> bool {
        self.inner.intra
    }

    /// Publishes a message it now owns: the zero-copy path when IPC is on.
    pub fn publish(&self, msg: UniquePtr<M>) {
        let info = self.begin(&msg);
        self.publish_unique(&info, msg);
    }

    /// Publishes a borrowed message, like rclcpp's `publish(const M &)`. Without IPC it is
    /// serialized where it is; with IPC the engine needs a message it owns to move, so it
    /// makes one copy first and publishes that.
    pub fn publish_ref(&self, msg: &M) {
        let info = self.begin(msg);
        if !self.inner.intra {
            let sender = self.inner.sender(false);
            if self.inner.ctx.domain.has_other_subscribers(&self.inner.topic, &sender, &self.inner.none_local_at) {
                self.do_inter_process_publish(&info, &sender, msg);
            }
            return;
        }
        // `duplicate_ros_message_as_unique_ptr(msg)` (publisher.hpp:290 rolling, :302
        // jazzy, :305 humble).
        let copy: UniquePtr<M> = Box::new(msg.clone());
        info.report_copy(msg, &*copy, CopyReason::PublishByReference);
        self.publish_unique(&info, copy);
    }

    /// Numbers the publish call and reports it.
    fn begin(&self, msg: &M) -> PublishInfo<'_> {
        let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let publication = Publication { pid: self.inner.ctx.tracer.pid, publisher: self.inner.id, seq };
        let info = PublishInfo {
            tracer: &self.inner.ctx.tracer,
            node: &self.inner.node,
            topic: &self.inner.topic,
            publication,
            copied_for_middleware: Default::default(),
        };
        info.tracer.emit(info.node, || EventKind::Published { msg: MessageRef::of(msg, info.topic, publication) });
        info
    }

    /// The body of rclcpp's `publish(std::unique_ptr<MessageT>)` (publisher.hpp:226 rolling,
    /// :242 jazzy, :254 humble), once the call is numbered: IPC off, the middleware only;
    /// IPC on, the IPM first, then the middleware gets the shared message if anyone needs it.
    /// A transient-local publisher keeps the shared message too, and from rolling on always
    /// hands it to the middleware (publisher.hpp:239-243 rolling; :254 jazzy does not).
    fn publish_unique(&self, info: &PublishInfo<'_>, msg: UniquePtr<M>) {
        let ctx = &self.inner.ctx;
        let sender = self.inner.sender(self.inner.intra);
        let needs_middleware = ctx.domain.has_other_subscribers(&self.inner.topic, &sender, &self.inner.none_local_at);
        let Some(route) = &self.route else {
            if needs_middleware {
                self.do_inter_process_publish(info, &sender, &msg);
            }
            return;
        };
        let keeps = route.keeps_messages();
        let to_middleware = needs_middleware || (keeps && ctx.distro >= Distro::Rolling);
        let reason = match (to_middleware, keeps) {
            (_, true) => Some(CopyReason::SharedForTransientLocal),
            (true, false) => Some(CopyReason::SharedForInterProcess),
            (false, false) => None,
        };
        let Some((shared, via)) = IntraProcessManager::do_intra_process_publish(route, info, msg, reason) else {
            return;
        };
        route.keep(&shared, info, via);
        if to_middleware {
            self.do_inter_process_publish(info, &sender, &shared);
        }
    }

    /// rclcpp's `get_subscription_count`: subscriptions in this process plus subscribing
    /// processes (each counted once).
    pub fn get_subscription_count(&self) -> usize {
        let domain = &self.inner.ctx.domain;
        let remote = domain.transport.get().map_or(0, |t| t.remote_subscriber_count(&self.inner.topic));
        domain.local_subscription_count(&self.inner.topic) + remote
    }

    /// rclcpp's `do_inter_process_publish` (publisher.hpp:434 rolling, :450 jazzy, :453
    /// humble), where `rcl_publish` hands the message to the middleware: here one
    /// serialization, whose bytes every subscription of this process shares; other processes
    /// get them through the transport. With no subscription here, the transport serializes
    /// the message itself, where its bytes must end up (a shared-memory slot: then that is
    /// the only copy).
    fn do_inter_process_publish(&self, info: &PublishInfo<'_>, sender: &Sender, msg: &M) {
        let msg_ref = || MessageRef::of(msg, info.topic, info.publication);
        let domain = &self.inner.ctx.domain;
        let transport = domain.transport.get();
        let header = || FrameHeader {
            topic: self.inner.topic.to_string(),
            type_name: M::TYPE_NAME.to_string(),
            publisher_pid: info.publication.pid,
            publisher_id: info.publication.publisher,
            seq: info.publication.seq,
            node: self.inner.node.to_string(),
            message_addr: super::message::address_of(msg) as u64,
            copied_bytes: info.copied_for_middleware.get(),
            // The transport says what it serialized (or found serialized) and wrote.
            serialized_bytes: 0,
            written_bytes: 0,
        };
        // With nobody in this process to read the bytes, the transport serializes the
        // message where they must go. With no transport either (a transient-local publisher
        // from rolling on, alone), the middleware still serializes what it is given.
        if !domain.has_local_readers(&self.inner.topic, sender) && transport.is_some() {
            if let Some(transport) = transport {
                let payload = OutPayload::Message(msg);
                transport.send(&Outgoing {
                    header: header(),
                    payload,
                    depth: self.inner.depth,
                    node: info.node,
                    msg: &msg_ref,
                });
            }
            return;
        }
        let bytes = Arc::new(msg.to_cdr());
        info.tracer.emit(info.node, || EventKind::Serialized { msg: msg_ref(), bytes: bytes.len() });
        let sample = WireSample {
            bytes: WireBytes::Heap(bytes.clone()),
            publication: info.publication,
            arrival: None,
            intra_process_context: sender.intra.then_some(sender.context_id),
        };
        domain.distribute(&self.inner.topic, sender, &sample);
        // The transport reports what it wrote or copied.
        if let Some(transport) = transport {
            let payload = OutPayload::Encoded(&bytes);
            transport.send(&Outgoing {
                header: header(),
                payload,
                depth: self.inner.depth,
                node: info.node,
                msg: &msg_ref,
            });
        }
    }
}

impl Publisher<Image> {
    /// rclcpp's `borrow_loaned_message` (publisher.hpp:203 rolling): memory for one message,
    /// lent by the middleware if it can, else on the heap (loaned_message.hpp:78). Unlike
    /// rclcpp's middlewares this one can loan an `Image`: `layout` fixes where its pixels go
    /// (see [`super::loan`]). Shared memory is lent when a reader is in another process; the
    /// readers of this process then read the same slot (rclcpp never lends to a publisher
    /// with IPC on, publisher_base.cpp:322 rolling: its IPM needs a message on the heap).
    pub fn borrow_loaned_message(&self, layout: ImageLayout) -> LoanedMessage<Image> {
        let inner = &self.inner;
        let lend = || {
            let transport = inner.ctx.domain.transport.get()?;
            let offset = layout.data_offset();
            let len = offset + layout.data_len();
            let loan = transport.lend(inner.id, &inner.topic, &inner.node, inner.depth, len)?;
            Some(SharedImage { loan, layout: layout.clone(), stamp: Default::default(), offset, copied_from: None })
        };
        match lend() {
            Some(image) => LoanedMessage::shared(image),
            None => LoanedMessage::<Image>::heap(&layout),
        }
    }

    /// rclcpp's `publish(LoanedMessage &&)` (publisher.hpp:398 rolling): a message in shared
    /// memory gets the ~50 bytes in front of its pixels written, and only where it is goes to
    /// the receivers; nothing is copied. A heap fallback is published by reference, as rclcpp
    /// does when the middleware did not lend (`this->publish(loaned_msg.get())`,
    /// publisher.hpp:425 jazzy): with IPC on that is one copy
    /// (`duplicate_ros_message_as_unique_ptr`), without it the message is serialized where it is.
    pub fn publish_loaned(&self, msg: LoanedMessage<Image>) {
        let mut image = match msg.into_inner() {
            Ok(heap) => return self.publish_ref(&heap),
            Err(shared) => shared,
        };
        let len = image.write_header();
        let layout = &image.layout;
        let value = ShortText::format(format_args!("{}x{} {}", layout.width, layout.height, layout.encoding));
        let copied = image.copied_from.map(|from| (from, layout.data_len()));
        let lent = Lent { len, offset: image.offset, value, copied };
        self.publish_lent(image.loan, lent);
    }
}

impl Publisher<Int32> {
    /// rclcpp's `borrow_loaned_message` for a fixed-size message, which rclcpp's middlewares
    /// can loan (rmw_cyclonedds's `is_type_self_contained`, rmw_fastrtps's `is_plain`): the
    /// 8 bytes of its encoding in a slot of the shared-memory pool when a reader is in
    /// another process, else an `Int32` on the heap.
    pub fn borrow_loaned_message(&self) -> LoanedMessage<Int32> {
        let inner = &self.inner;
        let lend = || {
            let transport = inner.ctx.domain.transport.get()?;
            transport.lend(inner.id, &inner.topic, &inner.node, inner.depth, INT32_CDR_LEN)
        };
        match lend() {
            Some(loan) => LoanedMessage::plain(loan),
            None => LoanedMessage::<Int32>::heap(),
        }
    }

    /// `publish(LoanedMessage &&)` for an `Int32`: in shared memory, only where it is goes to
    /// the receivers (its header was written when it was lent, its value by the producer);
    /// a heap fallback is published by reference, as for an image.
    pub fn publish_loaned(&self, msg: LoanedMessage<Int32>) {
        let loan = match msg.into_inner() {
            Ok(heap) => return self.publish_ref(&heap),
            Err(loan) => loan,
        };
        let value = ShortText::format(format_args!("{}", LoanedMessage::<Int32>::value_in(&loan)));
        self.publish_lent(*loan, Lent { len: INT32_CDR_LEN, offset: INT32_VALUE_OFFSET, value, copied: None });
    }
}

/// A loaned message about to be published where it is.
struct Lent {
    /// Its encoding's length, from the slot's start.
    len: usize,
    /// Where its payload (the pixels, the value) starts: the bytes in front are its header.
    offset: usize,
    value: ShortText,
    /// A message whose payload was copied into the loan, and how many bytes.
    copied: Option<(usize, usize)>,
}

impl<M: Message> Publisher<M> {
    /// Publishes a message lent in shared memory: only where it is goes to the receivers,
    /// and this process's readers read the same slot.
    fn publish_lent(&self, loan: Loan, lent: Lent) {
        let seq = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let publication = Publication { pid: self.inner.ctx.tracer.pid, publisher: self.inner.id, seq };
        let (addr, segment, len) = (loan.addr(), loan.segment(), lent.len);
        let msg_ref = || MessageRef {
            topic: self.inner.topic.clone(),
            type_name: M::TYPE_NAME,
            publication,
            addr,
            payload_addr: Some(addr + lent.offset),
            value: lent.value,
        };
        let (tracer, node) = (&self.inner.ctx.tracer, &self.inner.node);
        tracer.emit(node, || EventKind::Published { msg: msg_ref() });
        if let Some((from, bytes)) = lent.copied {
            tracer.emit(node, || EventKind::Copied { msg: msg_ref(), from, reason: CopyReason::IntoLoan, bytes });
        }
        let header_bytes = lent.offset;
        tracer.emit(node, || EventKind::LoanPublished { msg: msg_ref(), header_bytes, bytes: len, segment });
        let header = FrameHeader {
            topic: self.inner.topic.to_string(),
            type_name: M::TYPE_NAME.to_string(),
            publisher_pid: publication.pid,
            publisher_id: publication.publisher,
            seq,
            node: node.to_string(),
            message_addr: addr as u64,
            // Only a payload copied into the loan from elsewhere; the producer's own filling
            // is not a copy on the way.
            copied_bytes: lent.copied.map_or(0, |(_, bytes)| bytes as u64),
            serialized_bytes: 0,
            written_bytes: 0,
        };
        // This process's readers read the slot where it is, as the other processes do.
        let sender = self.inner.sender(false);
        let domain = &self.inner.ctx.domain;
        let local = domain.has_local_readers(&self.inner.topic, &sender).then(|| loan.local_bytes(len));
        // Nothing encoded: the bytes are in the slot already.
        let none = Arc::default();
        let out =
            Outgoing { header, payload: OutPayload::Encoded(&none), depth: self.inner.depth, node, msg: &msg_ref };
        loan.send(&out, len);
        if let Some(Ok(bytes)) = local {
            // No intra-process manager served them: none of them discards it.
            let sample = WireSample { bytes, publication, arrival: None, intra_process_context: None };
            domain.distribute(&self.inner.topic, &sender, &sample);
        }
    }
}
