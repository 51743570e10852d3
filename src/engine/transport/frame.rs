//! The frame that carries one message between processes over a Unix socket.
//!
//! ```
//! use ipc_lab::engine::transport::frame::{Frame, FrameHeader, Payload, MAX_PAYLOAD};
//!
//! let frame = Frame {
//!     header: FrameHeader {
//!         topic: "number".into(),
//!         type_name: "std_msgs/msg/Int32".into(),
//!         publisher_pid: 42,
//!         publisher_id: 1,
//!         seq: 7,
//!         node: "producer".into(),
//!         message_addr: 0x5561_0000_1000,
//!         copied_bytes: 0,
//!         serialized_bytes: 8,
//!         written_bytes: 8,
//!     },
//!     payload: Payload::Bytes(vec![0, 1, 0, 0, 42, 0, 0, 0]),
//! };
//! let bytes = frame.encode();
//! let (decoded, used) = Frame::decode(&bytes, MAX_PAYLOAD).unwrap().unwrap();
//! assert_eq!((decoded, used), (frame, bytes.len()));
//! ```
//!
//! Layout, little-endian: magic `IPCL`, version u16, kind u16 (bytes, a shared-memory slot
//! reference, or going back a release or an acknowledgement), header length u32, payload length u32, then the
//! header fields (strings as u16 length + UTF-8) and the payload. Both lengths are checked against limits before
//! anything is allocated. A peer cannot make a reader reserve memory by declaring a length: the receiver
//! (`receiver.rs`) reads a payload a piece at a time into a buffer it does not fill first (the kernel gives a page
//! memory only when bytes land in it), each piece taken before it is read from a budget that all the frames being
//! read in the process share ([`super::budget::PARTIAL_FRAMES_BUDGET`]); a frame not whole within
//! [`super::FRAME_TIMEOUT`] is cut off and gives its share back.

use std::fmt;

/// `IPCL`.
pub const MAGIC: [u8; 4] = *b"IPCL";
/// 3: the receiver acknowledges the frames it has read ([`AckFrame`]).
pub const VERSION: u16 = 3;
/// The fixed prefix: magic, version, kind, header length, payload length.
pub const PREFIX_LEN: usize = 4 + 2 + 2 + 4 + 4;
/// No header field list is longer than this.
pub const MAX_HEADER: usize = 4096;
/// The largest payload accepted: a 4K RGBA frame fits, anything larger is refused.
pub const MAX_PAYLOAD: usize = 64 * 1024 * 1024;
/// Descriptors that may come with one frame: a shared-memory frame sends its segment's, no
/// other frame sends any. More are closed at once and the connection refused.
pub const MAX_FDS_PER_FRAME: usize = 1;

/// Who sent what, as the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    pub topic: String,
    /// The ROS type name; a subscriber of another type rejects the frame.
    pub type_name: String,
    pub publisher_pid: u32,
    /// The publisher's id in its process's context.
    pub publisher_id: u64,
    /// The publish call's sequence number.
    pub seq: u64,
    /// The publishing node, so the receiving side can show where a message came from.
    pub node: String,
    /// The published message's address in the publisher's process (for the trace only:
    /// an address means nothing in another process).
    pub message_addr: u64,
    /// What the publishing process copied for this frame, so that the receiving process
    /// can tell the whole cost of a message whose sender it cannot see: a shared copy made
    /// for the subscribers outside its intra-process manager (0: none)...
    pub copied_bytes: u64,
    /// ...the CDR encoding's length...
    pub serialized_bytes: u64,
    /// ...and the bytes it copied again to send them: into the socket, or into a slot
    /// (0 when it serialized straight into the slot).
    pub written_bytes: u64,
}

/// What follows the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The CDR bytes themselves.
    Bytes(Vec<u8>),
    /// Only where the CDR bytes are: in a slot of the publisher's shared-memory pool. The
    /// slot's descriptor travels beside the first frame that uses it (SCM_RIGHTS).
    SharedMemory(SlotRef),
}

/// Where a message sits in a publisher's pool: slot, offset in it, length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRef {
    /// The slot's number in its publisher's pool.
    pub slot: u32,
    pub offset: u64,
    pub len: u64,
}

/// A [`SlotRef`] on the wire: slot u32, 4 reserved zero bytes, offset u64, length u64.
pub const SLOT_REF_LEN: usize = 24;

impl SlotRef {
    pub fn encode(&self) -> [u8; SLOT_REF_LEN] {
        let mut out = [0u8; SLOT_REF_LEN];
        out[..4].copy_from_slice(&self.slot.to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..].copy_from_slice(&self.len.to_le_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<SlotRef> {
        let bytes: &[u8; SLOT_REF_LEN] = bytes.try_into().ok()?;
        Some(SlotRef {
            slot: u32::from_le_bytes(bytes[..4].try_into().ok()?),
            offset: u64::from_le_bytes(bytes[8..16].try_into().ok()?),
            len: u64::from_le_bytes(bytes[16..].try_into().ok()?),
        })
    }
}

/// A receiver gives a slot back to the publisher it came from, on the same connection in
/// the other direction: the prefix (kind [`KIND_RELEASE`], no header), then the publisher's
/// id u64, the slot u32 and 4 reserved zero bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseFrame {
    /// The publisher, in the sending process's numbering.
    pub publisher: u64,
    pub slot: u32,
}

/// The payload of a release frame.
pub const RELEASE_LEN: usize = 16;

impl ReleaseFrame {
    pub fn encode(&self) -> [u8; PREFIX_LEN + RELEASE_LEN] {
        let mut out = [0u8; PREFIX_LEN + RELEASE_LEN];
        out[..PREFIX_LEN]
            .copy_from_slice(&Prefix { kind: KIND_RELEASE, header_len: 0, payload_len: RELEASE_LEN }.encode());
        out[PREFIX_LEN..PREFIX_LEN + 8].copy_from_slice(&self.publisher.to_le_bytes());
        out[PREFIX_LEN + 8..PREFIX_LEN + 12].copy_from_slice(&self.slot.to_le_bytes());
        out
    }

    /// The payload after a prefix of kind [`KIND_RELEASE`].
    pub fn decode(payload: &[u8]) -> Option<ReleaseFrame> {
        let payload: &[u8; RELEASE_LEN] = payload.try_into().ok()?;
        Some(ReleaseFrame {
            publisher: u64::from_le_bytes(payload[..8].try_into().ok()?),
            slot: u32::from_le_bytes(payload[8..12].try_into().ok()?),
        })
    }
}

/// A receiver tells the sender how many more frames it has read off the connection, on the
/// same connection in the other direction: the prefix (kind [`KIND_ACK`], no header), then
/// the count u32 and 4 reserved zero bytes. The sender keeps only a few frames unacknowledged
/// in the socket, so that a receiver that stops reading (SIGSTOP) does not find the kernel's
/// whole buffer of old messages when it resumes (`outbox.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckFrame {
    /// Frames read since the last acknowledgement.
    pub frames: u32,
}

/// The payload of an acknowledgement.
pub const ACK_LEN: usize = 8;

impl AckFrame {
    pub fn encode(&self) -> [u8; PREFIX_LEN + ACK_LEN] {
        let mut out = [0u8; PREFIX_LEN + ACK_LEN];
        out[..PREFIX_LEN].copy_from_slice(&Prefix { kind: KIND_ACK, header_len: 0, payload_len: ACK_LEN }.encode());
        out[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&self.frames.to_le_bytes());
        out
    }

    /// The payload after a prefix of kind [`KIND_ACK`].
    pub fn decode(payload: &[u8]) -> Option<AckFrame> {
        let payload: &[u8; ACK_LEN] = payload.try_into().ok()?;
        Some(AckFrame { frames: u32::from_le_bytes(payload[..4].try_into().ok()?) })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub payload: Payload,
}

/// Why a frame was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The first four bytes are not `IPCL`.
    BadMagic,
    /// A version this build does not speak.
    UnsupportedVersion(u16),
    /// A payload kind other than the four this version knows (bytes, a shared-memory slot,
    /// a release, an acknowledgement).
    UnknownKind(u16),
    /// The header length is over [`MAX_HEADER`].
    HeaderTooLarge(usize),
    /// The payload length is over the reader's limit.
    PayloadTooLarge { len: usize, limit: usize },
    /// The header fields do not fit the header length, or a string is not UTF-8.
    MalformedHeader,
    /// A name (topic, type, node) holds a control character: it would reach a terminal.
    ControlCharacter,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadMagic => write!(f, "not an ipc-lab frame (bad magic)"),
            FrameError::UnsupportedVersion(v) => write!(f, "frame version {v} is not supported"),
            FrameError::UnknownKind(k) => write!(f, "unknown payload kind {k}"),
            FrameError::HeaderTooLarge(n) => write!(f, "frame header of {n} bytes is over the limit"),
            FrameError::PayloadTooLarge { len, limit } => {
                write!(f, "payload of {len} bytes is over the limit of {limit}")
            }
            FrameError::MalformedHeader => write!(f, "malformed frame header"),
            FrameError::ControlCharacter => write!(f, "a name in the frame header holds a control character"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The payload kinds of the prefix.
pub const KIND_BYTES: u16 = 0;
pub const KIND_SHM: u16 = 1;
pub const KIND_RELEASE: u16 = 2;
pub const KIND_ACK: u16 = 3;

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Topic, type and node names are short; longer ones are cut to fit the u16 length.
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Reads header fields in order, failing on the first that does not fit.
struct Fields<'a> {
    data: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        if n > self.data.len() {
            return Err(FrameError::MalformedHeader);
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, FrameError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    /// A name: UTF-8 without control characters (names are printed; an escape sequence in
    /// one would reach the learner's terminal).
    fn string(&mut self) -> Result<String, FrameError> {
        let len = self.u16()? as usize;
        let bytes = self.take(len)?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| FrameError::MalformedHeader)?;
        if text.chars().any(char::is_control) {
            return Err(FrameError::ControlCharacter);
        }
        Ok(text)
    }
}

/// The fixed prefix, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub kind: u16,
    pub header_len: usize,
    pub payload_len: usize,
}

impl Prefix {
    /// Magic, version, kind and the two lengths: what every frame starts with.
    pub fn encode(&self) -> [u8; PREFIX_LEN] {
        let mut out = [0u8; PREFIX_LEN];
        out[..4].copy_from_slice(&MAGIC);
        out[4..6].copy_from_slice(&VERSION.to_le_bytes());
        out[6..8].copy_from_slice(&self.kind.to_le_bytes());
        out[8..12].copy_from_slice(&(self.header_len as u32).to_le_bytes());
        out[12..16].copy_from_slice(&(self.payload_len as u32).to_le_bytes());
        out
    }

    /// Checks the prefix and the limits; nothing is allocated yet.
    pub fn decode(bytes: &[u8; PREFIX_LEN], max_payload: usize) -> Result<Prefix, FrameError> {
        if bytes[..4] != MAGIC {
            return Err(FrameError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(FrameError::UnsupportedVersion(version));
        }
        let kind = u16::from_le_bytes([bytes[6], bytes[7]]);
        if ![KIND_BYTES, KIND_SHM, KIND_RELEASE, KIND_ACK].contains(&kind) {
            return Err(FrameError::UnknownKind(kind));
        }
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let payload_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
        if header_len > MAX_HEADER {
            return Err(FrameError::HeaderTooLarge(header_len));
        }
        // A shared-memory frame carries only where the bytes are, whatever their size.
        let limit = match kind {
            KIND_SHM => SLOT_REF_LEN,
            KIND_RELEASE => RELEASE_LEN,
            KIND_ACK => ACK_LEN,
            _ => max_payload,
        };
        if payload_len > limit {
            return Err(FrameError::PayloadTooLarge { len: payload_len, limit });
        }
        Ok(Prefix { kind, header_len, payload_len })
    }
}

impl FrameHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        put_str(out, &self.topic);
        put_str(out, &self.type_name);
        out.extend_from_slice(&self.publisher_pid.to_le_bytes());
        out.extend_from_slice(&self.publisher_id.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        put_str(out, &self.node);
        out.extend_from_slice(&self.message_addr.to_le_bytes());
        out.extend_from_slice(&self.copied_bytes.to_le_bytes());
        out.extend_from_slice(&self.serialized_bytes.to_le_bytes());
        out.extend_from_slice(&self.written_bytes.to_le_bytes());
    }

    /// Decodes exactly `bytes` (the header as its length says).
    pub fn decode(bytes: &[u8]) -> Result<FrameHeader, FrameError> {
        let mut f = Fields { data: bytes };
        let header = FrameHeader {
            topic: f.string()?,
            type_name: f.string()?,
            publisher_pid: f.u32()?,
            publisher_id: f.u64()?,
            seq: f.u64()?,
            node: f.string()?,
            message_addr: f.u64()?,
            copied_bytes: f.u64()?,
            serialized_bytes: f.u64()?,
            written_bytes: f.u64()?,
        };
        if !f.data.is_empty() {
            return Err(FrameError::MalformedHeader);
        }
        Ok(header)
    }
}

impl Frame {
    /// The prefix and header, without the payload bytes (which can then be written from
    /// where they are, without copying them into one buffer first).
    pub fn encode_head(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(128);
        self.header.encode(&mut header);
        let (kind, payload_len) = match &self.payload {
            Payload::Bytes(b) => (KIND_BYTES, b.len()),
            Payload::SharedMemory(_) => (KIND_SHM, SLOT_REF_LEN),
        };
        let mut out = Vec::with_capacity(PREFIX_LEN + header.len() + 8);
        out.extend_from_slice(&Prefix { kind, header_len: header.len(), payload_len }.encode());
        out.extend_from_slice(&header);
        if let Payload::SharedMemory(slot) = self.payload {
            out.extend_from_slice(&slot.encode());
        }
        out
    }

    /// The prefix and header of a bytes frame whose `payload_len` bytes of payload the
    /// caller writes itself, from wherever they are.
    pub fn encode_head_for(header: &FrameHeader, payload_len: usize) -> Vec<u8> {
        let mut head = Frame { header: header.clone(), payload: Payload::Bytes(Vec::new()) }.encode_head();
        head[12..16].copy_from_slice(&(payload_len as u32).to_le_bytes());
        head
    }

    /// The whole frame in one buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_head();
        if let Payload::Bytes(b) = &self.payload {
            out.extend_from_slice(b);
        }
        out
    }

    /// Decodes one frame from the start of `bytes`: `Ok(None)` if more bytes are needed,
    /// else the frame and how many bytes it used.
    pub fn decode(bytes: &[u8], max_payload: usize) -> Result<Option<(Frame, usize)>, FrameError> {
        let Some(prefix) = bytes.first_chunk::<PREFIX_LEN>() else {
            return Ok(None);
        };
        let prefix = Prefix::decode(prefix, max_payload)?;
        let total = PREFIX_LEN + prefix.header_len + prefix.payload_len;
        if bytes.len() < total {
            return Ok(None);
        }
        let header = FrameHeader::decode(&bytes[PREFIX_LEN..PREFIX_LEN + prefix.header_len])?;
        let body = &bytes[PREFIX_LEN + prefix.header_len..total];
        let payload = if prefix.kind == KIND_SHM {
            Payload::SharedMemory(SlotRef::decode(body).ok_or(FrameError::MalformedHeader)?)
        } else {
            Payload::Bytes(body.to_vec())
        };
        Ok(Some((Frame { header, payload }, total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Frame {
        Frame {
            header: FrameHeader {
                topic: "t".into(),
                type_name: "std_msgs/msg/Int32".into(),
                publisher_pid: 1,
                publisher_id: 2,
                seq: 3,
                node: "n".into(),
                message_addr: 4,
                copied_bytes: 0,
                serialized_bytes: 8,
                written_bytes: 8,
            },
            payload: Payload::Bytes(vec![0, 1, 0, 0, 1, 0, 0, 0]),
        }
    }

    #[test]
    fn oversized_payload_is_refused_from_the_prefix_alone() {
        let mut bytes = sample().encode();
        bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = Frame::decode(&bytes, 1024).unwrap_err();
        assert_eq!(err, FrameError::PayloadTooLarge { len: u32::MAX as usize, limit: 1024 });
    }

    #[test]
    fn truncated_frames_ask_for_more() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert_eq!(Frame::decode(&bytes[..cut], MAX_PAYLOAD), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn shared_memory_descriptor_round_trips() {
        let slot = SlotRef { slot: 3, offset: 64, len: 6_220_800 };
        let frame = Frame { payload: Payload::SharedMemory(slot), ..sample() };
        let bytes = frame.encode();
        assert_eq!(Frame::decode(&bytes, 0).unwrap(), Some((frame, bytes.len())));
    }

    #[test]
    fn release_frames_round_trip() {
        let release = ReleaseFrame { publisher: 9, slot: 2 };
        let bytes = release.encode();
        let prefix = Prefix::decode(bytes[..PREFIX_LEN].try_into().unwrap(), 0).unwrap();
        assert_eq!((prefix.kind, prefix.header_len, prefix.payload_len), (KIND_RELEASE, 0, RELEASE_LEN));
        assert_eq!(ReleaseFrame::decode(&bytes[PREFIX_LEN..]), Some(release));
    }

    #[test]
    fn acknowledgements_round_trip() {
        let ack = AckFrame { frames: 3 };
        let bytes = ack.encode();
        let prefix = Prefix::decode(bytes[..PREFIX_LEN].try_into().unwrap(), 0).unwrap();
        assert_eq!((prefix.kind, prefix.header_len, prefix.payload_len), (KIND_ACK, 0, ACK_LEN));
        assert_eq!(AckFrame::decode(&bytes[PREFIX_LEN..]), Some(ack));
    }

    proptest! {
        /// Any bytes at all: an error, a request for more, or a frame; never a panic, and
        /// a frame never claims more bytes than it was given.
        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(Some((_, used))) = Frame::decode(&bytes, 4096) {
                prop_assert!(used <= bytes.len());
            }
        }

        /// Valid prefixes with random header bytes: still no panic.
        #[test]
        fn random_headers_never_panic(header in proptest::collection::vec(any::<u8>(), 0..256), payload in 0usize..64) {
            let mut bytes = Vec::new();
            bytes.extend_from_slice(&MAGIC);
            bytes.extend_from_slice(&VERSION.to_le_bytes());
            bytes.extend_from_slice(&0u16.to_le_bytes());
            bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&(payload as u32).to_le_bytes());
            bytes.extend_from_slice(&header);
            bytes.extend(std::iter::repeat_n(0u8, payload));
            let _ = Frame::decode(&bytes, 4096);
        }

        /// Every frame encodes and decodes to itself.
        #[test]
        fn frames_round_trip(topic in "[a-z/_]{1,20}", seq in any::<u64>(), payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let frame = Frame { header: FrameHeader { topic, seq, ..sample().header }, payload: Payload::Bytes(payload) };
            let bytes = frame.encode();
            prop_assert_eq!(Frame::decode(&bytes, MAX_PAYLOAD).unwrap(), Some((frame, bytes.len())));
        }
    }
}
