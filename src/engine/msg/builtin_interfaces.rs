//! `builtin_interfaces`: time stamps.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::cdr::{CdrError, CdrReader, CdrWriter};

/// `builtin_interfaces/msg/Time`: seconds and nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Time {
    pub sec: i32,
    pub nanosec: u32,
}

impl Time {
    /// The wall clock now, as a ROS stamp.
    pub fn now() -> Self {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            // ROS 2 stamps are 32-bit seconds; they wrap in 2038 upstream too.
            sec: since.as_secs() as i32,
            nanosec: since.subsec_nanos(),
        }
    }

    pub(crate) fn serialize(&self, w: &mut CdrWriter) {
        w.write_i32(self.sec);
        w.write_u32(self.nanosec);
    }

    pub(crate) fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        Ok(Self { sec: r.read_i32()?, nanosec: r.read_u32()? })
    }
}
