//! Serialized bytes on their way to a subscription: what the middleware hands from a
//! publisher (or from the transport, for another process's publisher) to each subscription,
//! still CDR, decoded only when the callback is about to run.

use std::sync::Arc;

use super::trace::{Origin, Publication, SegmentId};

/// Where serialized bytes are.
#[derive(Clone)]
pub(crate) enum WireBytes {
    /// On this process's heap. Shared between the subscriptions of one process: handing
    /// bytes over is not a copy; decoding them is.
    Heap(Arc<Vec<u8>>),
    /// In shared memory mapped into this process (a slot of another process's pool): the
    /// memory goes back to its publisher when the last clone is dropped.
    Mapped(Arc<dyn AsRef<[u8]> + Send + Sync>),
}

impl WireBytes {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            WireBytes::Heap(bytes) => bytes,
            WireBytes::Mapped(map) => (**map).as_ref(),
        }
    }
}

/// How bytes from another process got here, for the trace.
#[derive(Clone)]
pub(crate) struct Arrival {
    /// Who published it, as the frame says.
    pub(crate) origin: Origin,
    /// Where the bytes are read in shared memory (mapped: no copy); unset when they were
    /// read out of a socket (a copy).
    pub(crate) segment: Option<SegmentId>,
}

/// Serialized bytes on their way to one subscription.
#[derive(Clone)]
pub(crate) struct WireSample {
    /// The CDR encoding.
    pub(crate) bytes: WireBytes,
    /// The publish call the bytes come from.
    pub(crate) publication: Publication,
    /// Set when the bytes came from another process.
    pub(crate) arrival: Option<Arrival>,
    /// The id of the publishing context when the publisher has IPC on: that context's IPM
    /// already served its intra-process subscriptions, which then discard this copy
    /// (rclcpp's `matches_any_intra_process_publishers`).
    pub(crate) intra_process_context: Option<u64>,
}
