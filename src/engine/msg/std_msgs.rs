//! `std_msgs`: the demos' integers and strings, and the header images carry.

use crate::engine::cdr::{CdrError, CdrReader, CdrWriter};

use crate::engine::message::Message;
use crate::engine::text::{printable, ShortText};

use super::builtin_interfaces::Time;

/// `std_msgs/msg/Int32`: the number that two-node and cyclic pass around.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Int32 {
    pub data: i32,
}

impl Message for Int32 {
    const TYPE_NAME: &'static str = "std_msgs/msg/Int32";

    fn serialize(&self, w: &mut CdrWriter) {
        w.write_i32(self.data);
    }

    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        Ok(Self { data: r.read_i32()? })
    }

    fn deep_size(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    fn summary(&self) -> ShortText {
        ShortText::format(format_args!("{}", self.data))
    }

    fn to_yaml(&self) -> std::string::String {
        format!("data: {}\n", self.data)
    }
}

/// `std_msgs/msg/String`: the chapter's "Hello World" messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct String {
    pub data: std::string::String,
}

impl Message for String {
    const TYPE_NAME: &'static str = "std_msgs/msg/String";

    fn serialize(&self, w: &mut CdrWriter) {
        w.write_string(&self.data);
    }

    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        Ok(Self { data: r.read_string()? })
    }

    fn deep_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.data.len()
    }

    fn payload_address(&self) -> Option<usize> {
        (!self.data.is_empty()).then_some(self.data.as_ptr() as usize)
    }

    fn summary(&self) -> ShortText {
        ShortText::format(format_args!("{:?}", self.data))
    }

    fn to_yaml(&self) -> std::string::String {
        format!("data: '{}'\n", printable(&self.data).replace('\'', "''"))
    }
}

/// `std_msgs/msg/Header`: when and in which frame a measurement was taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub stamp: Time,
    pub frame_id: std::string::String,
}

impl Header {
    pub(crate) fn serialize(&self, w: &mut CdrWriter) {
        self.stamp.serialize(w);
        w.write_string(&self.frame_id);
    }

    pub(crate) fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        Ok(Self { stamp: Time::deserialize(r)?, frame_id: r.read_string()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact bytes ROS 2 sends for `std_msgs/Int32 { data: 42 }`.
    #[test]
    fn int32_matches_the_wire() {
        assert_eq!(Int32 { data: 42 }.to_cdr(), [0x00, 0x01, 0x00, 0x00, 0x2a, 0, 0, 0]);
    }

    #[test]
    fn string_round_trips() {
        let msg = String { data: "Hello World: 3".into() };
        assert_eq!(*String::from_cdr(&msg.to_cdr()).unwrap(), msg);
    }
}
