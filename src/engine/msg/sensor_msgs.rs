//! `sensor_msgs`: the image that the image pipeline moves from node to node.

use crate::engine::cdr::{CdrError, CdrReader, CdrWriter};

use crate::engine::message::Message;
use crate::engine::text::{printable, ShortText};

use super::std_msgs::Header;

/// `sensor_msgs/msg/Image`: an uncompressed image. `data` is the pixel buffer that IPC
/// moves without copying and that IPC off copies at every hop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    pub header: Header,
    pub height: u32,
    pub width: u32,
    /// Pixel encoding: `bgr8`, `rgba8`, `mono8`, `mono16`.
    pub encoding: String,
    pub is_bigendian: u8,
    /// Bytes per row.
    pub step: u32,
    pub data: Vec<u8>,
}

/// Bytes per pixel of the encodings ipc-lab draws and shows, after
/// sensor_msgs/include/sensor_msgs/image_encodings.hpp (common_interfaces, rolling):
/// `None` for any other.
pub fn bytes_per_pixel(encoding: &str) -> Option<usize> {
    match encoding {
        "mono8" => Some(1),
        "mono16" => Some(2),
        "bgr8" => Some(3),
        "rgba8" => Some(4),
        _ => None,
    }
}

impl Image {
    /// The checks every received image passes before any view or watermark sees it: a
    /// known encoding, at least one pixel, `step` at least a row's bytes, and exactly
    /// `step * height` bytes, all in checked arithmetic (a hostile 2^31 x 2^31 must not
    /// wrap around to a small number).
    pub fn check(&self) -> Result<(), String> {
        let bpp = bytes_per_pixel(&self.encoding)
            .ok_or_else(|| format!("unsupported encoding '{}'", self.encoding.escape_debug()))?;
        if self.width == 0 || self.height == 0 {
            return Err(format!("an image of {}x{} pixels", self.width, self.height));
        }
        let row = (self.width as usize).checked_mul(bpp).ok_or("a row too long to count")?;
        if (self.step as usize) < row {
            return Err(format!("step {} is shorter than a row of {row} bytes", self.step));
        }
        let needed = (self.step as usize).checked_mul(self.height as usize).ok_or("an image too large to count")?;
        if self.data.len() != needed {
            return Err(format!("{} bytes of pixels where step x height is {needed}", self.data.len()));
        }
        Ok(())
    }
}

impl Message for Image {
    const TYPE_NAME: &'static str = "sensor_msgs/msg/Image";

    fn validate(&self) -> Result<(), String> {
        self.check()
    }

    fn serialize(&self, w: &mut CdrWriter) {
        self.header.serialize(w);
        w.write_u32(self.height);
        w.write_u32(self.width);
        w.write_string(&self.encoding);
        w.write_u8(self.is_bigendian);
        w.write_u32(self.step);
        w.write_byte_sequence(&self.data);
    }

    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        Ok(Self {
            header: Header::deserialize(r)?,
            height: r.read_u32()?,
            width: r.read_u32()?,
            encoding: r.read_string()?,
            is_bigendian: r.read_u8()?,
            step: r.read_u32()?,
            // The one copy of the pixels that deserializing makes.
            data: r.read_byte_sequence()?.to_vec(),
        })
    }

    fn deep_size(&self) -> usize {
        std::mem::size_of::<Self>() + self.header.frame_id.len() + self.encoding.len() + self.data.len()
    }

    fn payload_address(&self) -> Option<usize> {
        (!self.data.is_empty()).then_some(self.data.as_ptr() as usize)
    }

    fn to_yaml(&self) -> String {
        // Like `ros2 topic echo --no-arr`: the pixels would flood the terminal.
        format!(
            "header:\n  stamp:\n    sec: {}\n    nanosec: {}\n  frame_id: {}\nheight: {}\nwidth: {}\nencoding: {}\nis_bigendian: {}\nstep: {}\ndata: '<sequence type: uint8, length: {}>'\n",
            self.header.stamp.sec,
            self.header.stamp.nanosec,
            printable(&self.header.frame_id),
            self.height,
            self.width,
            printable(&self.encoding),
            self.is_bigendian,
            self.step,
            self.data.len()
        )
    }

    fn summary(&self) -> ShortText {
        ShortText::format(format_args!("{}x{} {}", self.width, self.height, printable(&self.encoding)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msg::builtin_interfaces::Time;
    use crate::engine::msg::std_msgs;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes: the decoders return an error or a message, never panic, and never
        /// allocate more than they were given (lengths are checked first).
        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(image) = Image::from_cdr(&bytes) {
                prop_assert!(image.data.len() <= bytes.len());
            }
            let _ = std_msgs::String::from_cdr(&bytes);
            let _ = std_msgs::Int32::from_cdr(&bytes);
        }

        /// A valid header and random fields after it.
        #[test]
        fn random_fields_never_panic(fields in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut bytes = vec![0, 1, 0, 0];
            bytes.extend_from_slice(&fields);
            let _ = Image::from_cdr(&bytes);
            let _ = std_msgs::String::from_cdr(&bytes);
        }
    }

    /// Field by field, with the alignment padding after `is_bigendian`.
    #[test]
    fn image_layout_matches_ros() {
        let img = Image {
            header: Header { stamp: Time { sec: 1, nanosec: 2 }, frame_id: "f".into() },
            height: 1,
            width: 2,
            encoding: "mono8".into(),
            is_bigendian: 0,
            step: 2,
            data: vec![9, 8],
        };
        let bytes = img.to_cdr();
        #[rustfmt::skip]
        let expected = [
            0, 1, 0, 0,
            1, 0, 0, 0,  2, 0, 0, 0,             // stamp
            2, 0, 0, 0,  b'f', 0, 0, 0,          // frame_id "f" + padding
            1, 0, 0, 0,  2, 0, 0, 0,             // height, width
            6, 0, 0, 0,  b'm', b'o', b'n', b'o', b'8', 0, // encoding
            0,                                   // is_bigendian
            0,                                   // padding to 4
            2, 0, 0, 0,                          // step
            2, 0, 0, 0,  9, 8,                   // data
        ];
        assert_eq!(bytes, expected);
        assert_eq!(*Image::from_cdr(&bytes).unwrap(), img);
    }
}
