//! Loaned messages: the publisher borrows the memory a message will be read from, the
//! producer writes it there, and publishing only says where it is. Between processes with
//! `--transport shm` that memory is a slot of the publisher's shared-memory pool: the
//! receiving process reads the very bytes the producer wrote, with no copy on the way.
//!
//! ```
//! use ipc_lab::engine::loan::ImageLayout;
//! use ipc_lab::engine::msg::sensor_msgs::Image;
//! use ipc_lab::engine::{Context, Node, NodeOptions};
//!
//! let ctx = Context::init();
//! let node = Node::new(&ctx, "camera", NodeOptions::default()).unwrap();
//! let publisher = node.create_publisher::<Image>("image", 5).unwrap();
//! let layout = ImageLayout { width: 4, height: 2, step: 12, encoding: "bgr8".into(), frame_id: "camera_frame".into() };
//! let mut loaned = publisher.borrow_loaned_message(layout);
//! loaned.data_mut().fill(0x7f); // the pixels, written where they will be read
//! assert!(!loaned.is_in_shared_memory()); // nobody in another process listens: the heap
//! publisher.publish_loaned(loaned);
//! ```
//!
//! Why an `Image` can be loaned here although rclcpp's middlewares refuse (they loan only
//! fixed-size types, `borrow_loaned_message` falls back to the heap otherwise): CDR puts
//! `data` last, so once `frame_id`, `encoding`, `height` and `step` are known the offset of
//! the pixels in the encoding is fixed. The producer writes the pixels at that offset, and
//! "serializing" the message is writing the ~50 header bytes in front of them.
//!
//! On the receiving side a callback that takes [`Loaned<Image>`] reads the message where it
//! is (in the slot, or in the socket's buffer the transport read it into): no copy. A
//! `UniquePtr` or `ConstSharedPtr` callback gets one copy out of it, the deserialization.

use std::sync::Arc;

use super::cdr::{CdrError, CdrReader};
use super::msg::builtin_interfaces::Time;
use super::msg::sensor_msgs::Image;
use super::msg::std_msgs::{Header, Int32};
use super::text::ShortText;
use super::trace::{MessageRef, Publication};
use super::transport::Loan;
use super::wire::WireBytes;
use super::{ConstSharedPtr, Message};

/// What fixes where an image's pixels sit in its encoding, and how many there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLayout {
    pub width: u32,
    pub height: u32,
    /// Bytes per row.
    pub step: u32,
    pub encoding: String,
    pub frame_id: String,
}

impl ImageLayout {
    /// The pixel bytes: `step` × `height`.
    pub fn data_len(&self) -> usize {
        self.step as usize * self.height as usize
    }

    /// The image with these fields and no pixels: its encoding is the part in front of
    /// the pixels, ending with their count.
    fn header_only(&self, stamp: Time) -> Image {
        Image {
            header: Header { stamp, frame_id: self.frame_id.clone() },
            height: self.height,
            width: self.width,
            encoding: self.encoding.clone(),
            is_bigendian: 0,
            step: self.step,
            data: Vec::new(),
        }
    }

    /// Where the pixels start in the encoding.
    pub fn data_offset(&self) -> usize {
        self.header_only(Time::default()).cdr_len()
    }
}

/// rclcpp's `LoanedMessage` (loaned_message.hpp): a message in memory borrowed from the
/// publisher, to be filled and published once. `Image` and `Int32` are loaned here.
pub struct LoanedMessage<M> {
    inner: Inner<M>,
}

enum Inner<M> {
    /// The middleware could not loan (nobody in another process listens, or the transport
    /// has no shared memory): an ordinary message on the heap, as rclcpp falls back to its
    /// allocator (loaned_message.hpp:78 rolling).
    Heap(Box<M>),
    /// A slot of the publisher's shared-memory pool.
    Shared(Box<SharedImage>),
    /// A slot holding a fixed-size message's encoding: the 4-byte CDR header, then the
    /// value where the readers read it.
    Plain(Box<Loan>),
}

/// Where an `Int32`'s value sits in its encoding: after the 4-byte CDR header.
pub(crate) const INT32_VALUE_OFFSET: usize = 4;
/// An `Int32`'s whole encoding: the header and the value.
pub(crate) const INT32_CDR_LEN: usize = 8;

/// The CDR header of a little-endian encoding (CDR_LE).
const CDR_LE: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

/// An image being written into a shared-memory slot.
pub(crate) struct SharedImage {
    pub(crate) loan: Loan,
    pub(crate) layout: ImageLayout,
    pub(crate) stamp: Time,
    /// Where the pixels start in the slot.
    pub(crate) offset: usize,
    /// The message the pixels were copied from ([`LoanedMessage::copy_data_from`]), to
    /// report that copy when the loan is published.
    pub(crate) copied_from: Option<usize>,
}

impl SharedImage {
    /// Writes the ~50 bytes in front of the pixels; returns the encoding's whole length.
    pub(crate) fn write_header(&mut self) -> usize {
        let header = self.layout.header_only(self.stamp);
        let data_len = self.layout.data_len();
        let bytes = self.loan.bytes_mut();
        // Encoded with no pixels, the last 4 bytes are their count: patched to the real one.
        let _ = header.to_cdr_in(&mut bytes[..self.offset]);
        bytes[self.offset - 4..self.offset].copy_from_slice(&(data_len as u32).to_le_bytes());
        self.offset + data_len
    }
}

impl LoanedMessage<Image> {
    pub(crate) fn heap(layout: &ImageLayout) -> Self {
        let mut image = layout.header_only(Time::default());
        image.data = vec![0; layout.data_len()];
        Self { inner: Inner::Heap(Box::new(image)) }
    }

    pub(crate) fn shared(image: SharedImage) -> Self {
        Self { inner: Inner::Shared(Box::new(image)) }
    }

    pub(crate) fn into_inner(self) -> Result<Box<Image>, Box<SharedImage>> {
        match self.inner {
            Inner::Heap(image) => Ok(image),
            Inner::Shared(image) => Err(image),
            // Never made for an image.
            Inner::Plain(_) => Ok(Box::default()),
        }
    }

    /// The pixels, where the receivers will read them.
    pub fn data_mut(&mut self) -> &mut [u8] {
        match &mut self.inner {
            Inner::Heap(image) => &mut image.data,
            Inner::Shared(image) => {
                let range = image.offset..image.offset + image.layout.data_len();
                &mut image.loan.bytes_mut()[range]
            }
            Inner::Plain(_) => &mut [],
        }
    }

    pub fn set_stamp(&mut self, stamp: Time) {
        match &mut self.inner {
            Inner::Heap(image) => image.header.stamp = stamp,
            Inner::Shared(image) => image.stamp = stamp,
            Inner::Plain(_) => {}
        }
    }

    /// Where the message is in this process: the slot's start, or the heap message.
    pub fn address(&self) -> usize {
        match &self.inner {
            Inner::Heap(image) => super::message::address_of(&**image),
            Inner::Shared(image) => image.loan.addr(),
            Inner::Plain(loan) => loan.addr(),
        }
    }

    /// Where its pixels are in this process.
    pub fn data_address(&self) -> usize {
        match &self.inner {
            Inner::Heap(image) => image.data.as_ptr() as usize,
            Inner::Shared(image) => image.loan.addr() + image.offset,
            Inner::Plain(loan) => loan.addr(),
        }
    }

    /// Fills a loan in shared memory with the pixels of a message on the heap: one copy,
    /// reported as such when the loan is published (a node that received its pixels rather
    /// than producing them). `false`, and nothing copied, for a heap fallback or pixels of
    /// another size.
    pub fn copy_data_from(&mut self, msg: &Image) -> bool {
        let Inner::Shared(image) = &mut self.inner else { return false };
        let range = image.offset..image.offset + image.layout.data_len();
        if range.len() != msg.data.len() {
            return false;
        }
        image.loan.bytes_mut()[range].copy_from_slice(&msg.data);
        image.copied_from = Some(super::message::address_of(msg));
        true
    }

    /// Whether the middleware lent shared memory (rather than the heap fallback).
    pub fn is_in_shared_memory(&self) -> bool {
        matches!(self.inner, Inner::Shared(_))
    }
}

impl LoanedMessage<Int32> {
    pub(crate) fn heap() -> Self {
        Self { inner: Inner::Heap(Box::default()) }
    }

    /// A slot for an `Int32`: its CDR header written once, the value 0 until set.
    pub(crate) fn plain(mut loan: Loan) -> Self {
        let bytes = &mut loan.bytes_mut()[..INT32_CDR_LEN];
        bytes[..INT32_VALUE_OFFSET].copy_from_slice(&CDR_LE);
        bytes[INT32_VALUE_OFFSET..].fill(0);
        Self { inner: Inner::Plain(Box::new(loan)) }
    }

    pub(crate) fn into_inner(self) -> Result<Box<Int32>, Box<Loan>> {
        match self.inner {
            Inner::Heap(msg) => Ok(msg),
            Inner::Plain(loan) => Err(loan),
            // Never made for an `Int32`.
            Inner::Shared(_) => Ok(Box::default()),
        }
    }

    /// Writes the value where the readers will read it.
    pub fn set_data(&mut self, data: i32) {
        match &mut self.inner {
            Inner::Heap(msg) => msg.data = data,
            Inner::Plain(loan) => {
                loan.bytes_mut()[INT32_VALUE_OFFSET..INT32_CDR_LEN].copy_from_slice(&data.to_le_bytes());
            }
            Inner::Shared(_) => {}
        }
    }

    /// The value, where it is.
    pub fn data(&self) -> i32 {
        match &self.inner {
            Inner::Heap(msg) => msg.data,
            Inner::Plain(loan) => read_i32_at(loan.bytes(), INT32_VALUE_OFFSET),
            Inner::Shared(_) => 0,
        }
    }

    /// Where the message is in this process: the slot's start, or the heap message.
    pub fn address(&self) -> usize {
        match &self.inner {
            Inner::Heap(msg) => super::message::address_of(&**msg),
            Inner::Plain(loan) => loan.addr(),
            Inner::Shared(_) => 0,
        }
    }

    /// Whether the middleware lent shared memory (rather than the heap fallback).
    pub fn is_in_shared_memory(&self) -> bool {
        matches!(self.inner, Inner::Plain(_))
    }
}

impl LoanedMessage<Int32> {
    /// The value written in a loan.
    pub(crate) fn value_in(loan: &Loan) -> i32 {
        read_i32_at(loan.bytes(), INT32_VALUE_OFFSET)
    }
}

/// The little-endian `i32` at `at`; 0 past the end (never for a checked encoding).
fn read_i32_at(bytes: &[u8], at: usize) -> i32 {
    bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, i32::from_le_bytes)
}

/// A read-only message that stays where the middleware put it: in a shared-memory slot of
/// the publishing process, in the transport's buffer, or (from the intra-process manager)
/// the published message itself. Shared like a `ConstSharedPtr`; nothing is copied to
/// hand it to a callback.
pub struct Loaned<M> {
    inner: View<M>,
}

enum View<M> {
    Message(ConstSharedPtr<M>),
    /// The CDR encoding; its pixels are read in place.
    Wire {
        bytes: WireBytes,
        image: ImageFields,
    },
    /// The CDR encoding of a fixed-size message (an `Int32`); its value is read in place.
    Plain {
        bytes: WireBytes,
        value: ShortText,
    },
}

/// What an image viewed as something else (never made) says its header is.
static NO_HEADER: Header = Header { stamp: Time { sec: 0, nanosec: 0 }, frame_id: String::new() };

/// An image's fields but its pixels, decoded from the ~50 bytes in front of them.
struct ImageFields {
    header: Header,
    height: u32,
    width: u32,
    encoding: String,
    step: u32,
    /// Where the pixels are in the encoding.
    data: std::ops::Range<usize>,
}

impl ImageFields {
    /// Decodes everything but the pixels, and checks that they are all there.
    fn decode(bytes: &[u8]) -> Result<ImageFields, CdrError> {
        let mut r = CdrReader::new(bytes)?;
        let header = Header::deserialize(&mut r)?;
        let (height, width, encoding) = (r.read_u32()?, r.read_u32()?, r.read_string()?);
        let _is_bigendian = r.read_u8()?;
        let step = r.read_u32()?;
        let pixels = r.read_byte_sequence()?;
        let start = pixels.as_ptr() as usize - bytes.as_ptr() as usize;
        Ok(ImageFields { header, height, width, encoding, step, data: start..start + pixels.len() })
    }
}

impl Loaned<Image> {
    /// Wraps middleware bytes, after checking that they hold a whole image.
    pub(crate) fn from_wire(bytes: WireBytes) -> Result<Self, CdrError> {
        let image = ImageFields::decode(bytes.as_slice())?;
        Ok(Self { inner: View::Wire { bytes, image } })
    }

    pub(crate) fn from_message(msg: ConstSharedPtr<Image>) -> Self {
        Self { inner: View::Message(msg) }
    }

    pub fn header(&self) -> &Header {
        match &self.inner {
            View::Message(m) => &m.header,
            View::Wire { image, .. } => &image.header,
            // Never made for an image.
            View::Plain { .. } => &NO_HEADER,
        }
    }

    pub fn width(&self) -> u32 {
        match &self.inner {
            View::Message(m) => m.width,
            View::Wire { image, .. } => image.width,
            View::Plain { .. } => 0,
        }
    }

    pub fn height(&self) -> u32 {
        match &self.inner {
            View::Message(m) => m.height,
            View::Wire { image, .. } => image.height,
            View::Plain { .. } => 0,
        }
    }

    pub fn encoding(&self) -> &str {
        match &self.inner {
            View::Message(m) => &m.encoding,
            View::Wire { image, .. } => &image.encoding,
            View::Plain { .. } => "",
        }
    }

    pub fn step(&self) -> u32 {
        match &self.inner {
            View::Message(m) => m.step,
            View::Wire { image, .. } => image.step,
            View::Plain { .. } => 0,
        }
    }

    /// Where the message starts in this process: the published message itself, or its
    /// encoding where the middleware put it (another process's slot, mapped here at an
    /// address of this process's own).
    pub fn address(&self) -> usize {
        match &self.inner {
            View::Message(m) => super::message::address_of(&***m),
            View::Wire { bytes, .. } | View::Plain { bytes, .. } => bytes.as_slice().as_ptr() as usize,
        }
    }

    /// The pixels, where they are.
    pub fn data(&self) -> &[u8] {
        match &self.inner {
            View::Message(m) => &m.data,
            View::Wire { bytes, image } => &bytes.as_slice()[image.data.clone()],
            View::Plain { .. } => &[],
        }
    }
}

impl<M: Message> Loaned<M> {
    /// The view as the trace names it: where it starts (the message, or its encoding), where
    /// its pixels are, and its value in short.
    pub(crate) fn trace_ref(&self, topic: &Arc<str>, publication: Publication) -> MessageRef {
        match &self.inner {
            View::Message(m) => MessageRef::of::<M>(m, topic, publication),
            View::Wire { bytes, image } => {
                let start = bytes.as_slice().as_ptr() as usize;
                MessageRef {
                    topic: topic.clone(),
                    type_name: M::TYPE_NAME,
                    publication,
                    addr: start,
                    payload_addr: Some(start + image.data.start),
                    value: ShortText::format(format_args!("{}x{} {}", image.width, image.height, image.encoding)),
                }
            }
            View::Plain { bytes, value } => {
                let start = bytes.as_slice().as_ptr() as usize;
                MessageRef {
                    topic: topic.clone(),
                    type_name: M::TYPE_NAME,
                    publication,
                    addr: start,
                    payload_addr: Some(start + INT32_VALUE_OFFSET),
                    value: *value,
                }
            }
        }
    }
}

impl Loaned<Int32> {
    /// Wraps middleware bytes, after checking that they hold a whole `Int32`.
    pub(crate) fn from_wire(bytes: WireBytes) -> Result<Self, CdrError> {
        let data = CdrReader::new(bytes.as_slice())?.read_i32()?;
        let value = ShortText::format(format_args!("{data}"));
        Ok(Self { inner: View::Plain { bytes, value } })
    }

    pub(crate) fn from_message(msg: ConstSharedPtr<Int32>) -> Self {
        Self { inner: View::Message(msg) }
    }

    /// The value, read where it is.
    pub fn data(&self) -> i32 {
        match &self.inner {
            View::Message(m) => m.data,
            View::Plain { bytes, .. } => read_i32_at(bytes.as_slice(), INT32_VALUE_OFFSET),
            // Never made for an `Int32`.
            View::Wire { .. } => 0,
        }
    }

    /// Where the message starts in this process: the published message itself, or its
    /// encoding where the middleware put it (another process's slot, mapped here).
    pub fn address(&self) -> usize {
        match &self.inner {
            View::Message(m) => super::message::address_of(&***m),
            View::Wire { bytes, .. } | View::Plain { bytes, .. } => bytes.as_slice().as_ptr() as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Image {
        Image {
            header: Header { stamp: Time { sec: 1, nanosec: 2 }, frame_id: "camera_frame".into() },
            height: 2,
            width: 3,
            encoding: "bgr8".into(),
            is_bigendian: 0,
            step: 9,
            data: (0..18).collect(),
        }
    }

    /// The layout's offset is where CDR puts the pixels, and a view reads them there: the
    /// same bytes, at an address inside the encoding.
    #[test]
    fn a_view_reads_the_pixels_where_the_encoding_has_them() {
        let msg = image();
        let layout =
            ImageLayout { width: 3, height: 2, step: 9, encoding: "bgr8".into(), frame_id: "camera_frame".into() };
        let cdr = Arc::new(msg.to_cdr());
        assert_eq!(cdr[layout.data_offset()..], msg.data[..]);
        let view = Loaned::<Image>::from_wire(WireBytes::Heap(cdr.clone())).unwrap();
        assert_eq!((view.width(), view.height(), view.step(), view.encoding()), (3, 2, 9, "bgr8"));
        assert_eq!(view.header(), &msg.header);
        assert_eq!(view.data(), &msg.data[..]);
        assert_eq!(view.data().as_ptr(), cdr[layout.data_offset()..].as_ptr());
    }

    /// Bytes that stop before the pixels they announce are refused, not read past.
    #[test]
    fn a_truncated_image_is_refused() {
        let mut cdr = image().to_cdr();
        cdr.truncate(cdr.len() - 1);
        assert!(Loaned::<Image>::from_wire(WireBytes::Heap(Arc::new(cdr))).is_err());
    }

    /// An `Int32` is read where its encoding is: the value 4 bytes after its start, the
    /// CDR header in front; a truncated one is refused.
    #[test]
    fn an_int32_view_reads_the_value_in_place() {
        let cdr = Arc::new(Int32 { data: -7 }.to_cdr());
        assert_eq!(cdr.len(), INT32_CDR_LEN);
        let view = Loaned::<Int32>::from_wire(WireBytes::Heap(cdr.clone())).unwrap();
        assert_eq!(view.data(), -7);
        assert_eq!(view.address(), cdr.as_ptr() as usize);
        let traced = view.trace_ref(&Arc::from("number"), Publication { pid: 1, publisher: 1, seq: 1 });
        assert_eq!(traced.payload_addr, Some(cdr.as_ptr() as usize + INT32_VALUE_OFFSET));
        let mut short = (*cdr).clone();
        short.truncate(INT32_CDR_LEN - 1);
        assert!(Loaned::<Int32>::from_wire(WireBytes::Heap(Arc::new(short))).is_err());
    }
}
