//! The keep-last queue every subscription owns.
//!
//! ```
//! use ipc_lab::engine::ring_buffer::RingBuffer;
//!
//! let mut buffer = RingBuffer::new(2);
//! assert_eq!(buffer.push(1), None);
//! assert_eq!(buffer.push(2), None);
//! assert_eq!(buffer.push(3), Some(1)); // full: the oldest is overwritten and handed back
//! assert_eq!(buffer.pop(), Some(2));
//! ```

use std::collections::VecDeque;

/// A bounded FIFO that drops its oldest element when full, like rclcpp's
/// `RingBufferImplementation`. Upstream drops silently; this one hands the dropped element
/// back so the engine can report it as an `overwritten` event.
#[derive(Debug)]
pub struct RingBuffer<T> {
    /// The queued elements, oldest first.
    items: VecDeque<T>,
    /// The QoS depth: never more than this many elements are held.
    capacity: usize,
}

impl<T> RingBuffer<T> {
    /// A buffer for `capacity` elements (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        // Keep-all uses `usize::MAX`: reserve little and let the queue grow.
        Self { items: VecDeque::with_capacity(capacity.min(16)), capacity }
    }

    /// Adds at the back; returns the element overwritten to make room, if any.
    pub fn push(&mut self, item: T) -> Option<T> {
        let overwritten = (self.items.len() == self.capacity).then(|| self.items.pop_front()).flatten();
        self.items.push_back(item);
        overwritten
    }

    /// Takes the oldest element.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// The held elements, oldest first, left in place.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}
