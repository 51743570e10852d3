//! What the engine needs from a message type: a ROS type name, a deep copy, CDR, and a way
//! to point at it.
//!
//! ```
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::{Message, MessageAddress};
//!
//! let msg = Box::new(Int32 { data: 42 });
//! assert_eq!(Int32::TYPE_NAME, "std_msgs/msg/Int32");
//! assert_eq!(msg.address(), &*msg as *const Int32 as usize);
//! assert_eq!(msg.to_cdr(), [0x00, 0x01, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00]);
//! ```

use std::sync::Arc;

use super::cdr::{CdrError, CdrReader, CdrWriter};
use super::text::ShortText;

/// A ROS message type.
///
/// `Clone` is the deep copy that rclcpp makes with `std::make_unique<M>(*msg)`: every
/// `clone` the engine performs is reported as a `copied` trace event.
pub trait Message: Clone + Send + Sync + 'static {
    /// The ROS type name, as `ros2 topic info` prints it (`std_msgs/msg/Int32`).
    const TYPE_NAME: &'static str;

    /// Appends the fields in CDR order.
    fn serialize(&self, w: &mut CdrWriter);

    /// Builds a new message from CDR fields.
    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError>;

    /// Whether the decoded fields make sense together (an image's size against its
    /// bytes). Checked after every decode, so that no code downstream of a subscription
    /// meets a message it would trip over: bytes from another process may come from anyone.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// How many bytes a deep copy moves: the struct itself plus the heap buffers it owns.
    fn deep_size(&self) -> usize;

    /// The heap buffer holding the bulk of the message (an image's pixels), if it has one:
    /// a copy of the message means a new buffer too, and a move keeps this one.
    fn payload_address(&self) -> Option<usize> {
        None
    }

    /// A short text for the trace: the value of an `Int32`, the size of an `Image`.
    fn summary(&self) -> ShortText;

    /// The message as `ros2 topic echo` prints it (YAML, long arrays cut).
    fn to_yaml(&self) -> String;

    /// The complete CDR encoding, header included.
    fn to_cdr(&self) -> Vec<u8> {
        let mut w = CdrWriter::with_capacity(self.deep_size());
        self.serialize(&mut w);
        w.into_bytes()
    }

    /// The length of the complete CDR encoding, counted without writing it.
    fn cdr_len(&self) -> usize {
        let mut w = CdrWriter::counting();
        self.serialize(&mut w);
        w.len()
    }

    /// Writes the complete CDR encoding into `out` (a shared-memory slot: the bytes are
    /// serialized where the reader will find them). The length used, or `None` if it does
    /// not fit.
    fn to_cdr_in(&self, out: &mut [u8]) -> Option<usize> {
        let mut w = CdrWriter::into_slice(out);
        self.serialize(&mut w);
        w.finish()
    }

    /// Decodes a complete CDR encoding into a newly allocated message, and checks it.
    fn from_cdr(bytes: &[u8]) -> Result<Box<Self>, CdrError> {
        let mut r = CdrReader::new(bytes)?;
        let msg = Self::deserialize(&mut r)?;
        msg.validate().map_err(CdrError::Invalid)?;
        Ok(Box::new(msg))
    }
}

/// A message kept as the CDR bytes it arrived as, like rclcpp's `SerializedMessage`: for
/// tools that show the bytes themselves (`ipc-lab echo --raw`). Its type name is `M`'s,
/// so it matches `M`'s publishers.
pub struct Serialized<M> {
    /// The complete CDR encoding, header included.
    pub cdr: Vec<u8>,
    _message: std::marker::PhantomData<fn() -> M>,
}

impl<M> Clone for Serialized<M> {
    fn clone(&self) -> Self {
        Self { cdr: self.cdr.clone(), _message: std::marker::PhantomData }
    }
}

impl<M: Message> Message for Serialized<M> {
    const TYPE_NAME: &'static str = M::TYPE_NAME;

    fn serialize(&self, w: &mut CdrWriter) {
        w.write_raw(self.cdr.get(4..).unwrap_or_default());
    }

    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        let mut cdr = super::cdr::CDR_LE_HEADER.to_vec();
        cdr.extend_from_slice(r.read_rest());
        Ok(Self { cdr, _message: std::marker::PhantomData })
    }

    fn deep_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.cdr.len()
    }

    fn payload_address(&self) -> Option<usize> {
        Some(self.cdr.as_ptr() as usize)
    }

    fn summary(&self) -> ShortText {
        ShortText::cdr_summary(&self.cdr)
    }

    fn to_yaml(&self) -> String {
        M::from_cdr(&self.cdr).map_or_else(|e| format!("# undecodable: {e}\n"), |m| m.to_yaml())
    }

    /// Keeps the bytes exactly as they came: the header too.
    fn from_cdr(bytes: &[u8]) -> Result<Box<Self>, CdrError> {
        CdrReader::new(bytes)?;
        Ok(Box::new(Self { cdr: bytes.to_vec(), _message: std::marker::PhantomData }))
    }
}

/// rclcpp's `MessageT::UniquePtr`: a callback taking this takes ownership.
pub type UniquePtr<M> = Box<M>;

/// rclcpp's `MessageT::ConstSharedPtr`: a callback taking this shares one message with
/// the other shared subscriptions.
///
/// Why `Arc<Box<M>>` and not `Arc<M>`: `Arc<M>` stores the message inside the reference
/// counted block, so turning an owned `Box<M>` into it moves the message to a new address
/// (a copy the C++ original never makes). Keeping the box inside keeps the address, exactly
/// like `std::shared_ptr` adopting a `unique_ptr`'s object.
pub type ConstSharedPtr<M> = Arc<Box<M>>;

/// rclcpp's `MessageT::SharedPtr`: a shared pointer to a message the callback may change.
/// rclcpp counts a callback taking it as an owner (any_subscription_callback.hpp:912-918
/// rolling): it gets a message of its own, so changing it disturbs nobody.
///
/// A type of its own, not `Arc<Box<M>>`, so a callback's parameter type tells it from
/// [`ConstSharedPtr`]. Changing the message goes through [`SharedPtr::get_mut`], which
/// works while this is the only pointer to it, as it is when the callback gets it.
#[allow(clippy::redundant_allocation)] // the box keeps the address; see `ConstSharedPtr`
pub struct SharedPtr<M>(Arc<Box<M>>);

impl<M> SharedPtr<M> {
    /// The message, writable, unless another pointer to it exists.
    pub fn get_mut(&mut self) -> Option<&mut M> {
        Arc::get_mut(&mut self.0).map(|b| &mut **b)
    }
}

impl<M> From<UniquePtr<M>> for SharedPtr<M> {
    /// Adopts the message where it is, as `std::shared_ptr` adopts a `unique_ptr`'s object.
    fn from(msg: UniquePtr<M>) -> Self {
        Self(Arc::new(msg))
    }
}

impl<M> Clone for SharedPtr<M> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<M> std::ops::Deref for SharedPtr<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.0
    }
}

impl<M: Message> MessageAddress for SharedPtr<M> {
    fn address(&self) -> usize {
        address_of::<M>(self)
    }
}

/// The address of the message behind a pointer, as the demos print it.
pub trait MessageAddress {
    /// The message's address in this process.
    fn address(&self) -> usize;
}

impl<M: Message> MessageAddress for Box<M> {
    fn address(&self) -> usize {
        address_of::<M>(self)
    }
}

impl<M: Message> MessageAddress for Arc<Box<M>> {
    fn address(&self) -> usize {
        address_of::<M>(self)
    }
}

/// The address of a message: what C++ prints with `reinterpret_cast<uintptr_t>(msg.get())`.
pub fn address_of<M>(msg: &M) -> usize {
    std::ptr::from_ref(msg) as usize
}
