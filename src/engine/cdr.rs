//! ROS 2's CDR encoding: the bytes a DDS middleware puts on the wire.
//!
//! ```
//! use ipc_lab::engine::cdr::{CdrReader, CdrWriter};
//!
//! let mut w = CdrWriter::new();
//! w.write_i32(42);
//! let bytes = w.into_bytes();
//! assert_eq!(bytes, [0x00, 0x01, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00]);
//! assert_eq!(CdrReader::new(&bytes).unwrap().read_i32().unwrap(), 42);
//! ```
//!
//! Written by hand because it IS part of the lesson: this is the copy that IPC off pays.
//! Only little-endian plain CDR (encapsulation `00 01`) is produced and accepted, which is
//! what every tier-1 ROS 2 middleware sends on the machines learners use.
//!
//! Every value is aligned to its own size, counted from after the header, 64-bit values to
//! 8 as plain CDR (XCDR1) does (rmw_cyclonedds's `CDR_Legacy` with `max_align{8}`,
//! Serialization.cpp:156 jazzy; XCDR2 would align them to 4). The messages here have no
//! 64-bit field, but [`CdrWriter::write_u64`] shows the rule.

use std::fmt;

/// The 4-byte encapsulation header: CDR, little-endian, no options.
pub const CDR_LE_HEADER: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

/// Appends values in CDR order and alignment: to a buffer of its own, into memory given
/// to it (a shared-memory slot: serialized where it will be read), or nowhere, only
/// counting (to know how much room the encoding needs before writing it).
#[derive(Debug)]
pub struct CdrWriter<'a> {
    out: Out<'a>,
    /// Bytes written so far, header included.
    len: usize,
}

/// Where a [`CdrWriter`] puts its bytes.
#[derive(Debug)]
enum Out<'a> {
    Vec(Vec<u8>),
    /// `full` is set if the encoding did not fit: the bytes written are then incomplete.
    Slice {
        buf: &'a mut [u8],
        full: bool,
    },
    Count,
}

impl Default for CdrWriter<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> CdrWriter<'a> {
    /// Starts a buffer with the encapsulation header.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// Like [`CdrWriter::new`], reserving room for `capacity` bytes of fields, so a large
    /// image is written into one allocation instead of a growing one.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut w = Self { out: Out::Vec(Vec::with_capacity(CDR_LE_HEADER.len() + capacity)), len: 0 };
        w.put(&CDR_LE_HEADER);
        w
    }

    /// Writes into `buf`, from its start; [`CdrWriter::finish`] says how much was used.
    pub fn into_slice(buf: &'a mut [u8]) -> Self {
        let mut w = Self { out: Out::Slice { buf, full: false }, len: 0 };
        w.put(&CDR_LE_HEADER);
        w
    }

    /// Writes nothing and counts: [`CdrWriter::len`] is then the encoding's length.
    pub fn counting() -> Self {
        let mut w = Self { out: Out::Count, len: 0 };
        w.put(&CDR_LE_HEADER);
        w
    }

    /// Bytes written (or counted) so far, header included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: the header is always there.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length used in the slice given to [`CdrWriter::into_slice`], or `None` if the
    /// encoding did not fit in it.
    pub fn finish(self) -> Option<usize> {
        match self.out {
            Out::Slice { full: true, .. } => None,
            _ => Some(self.len),
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        match &mut self.out {
            Out::Vec(buf) => buf.extend_from_slice(bytes),
            Out::Slice { buf, full } => match buf.get_mut(self.len..self.len + bytes.len()) {
                Some(dst) => dst.copy_from_slice(bytes),
                None => *full = true,
            },
            Out::Count => {}
        }
        self.len += bytes.len();
    }

    /// Pads with zeros so the next value starts at a multiple of `n`, counted from the end
    /// of the header (CDR aligns relative to the start of the serialized data).
    fn align(&mut self, n: usize) {
        let offset = self.len - CDR_LE_HEADER.len();
        let padding = (n - offset % n) % n;
        self.put(&[0u8; 8][..padding]);
    }

    pub fn write_u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    pub fn write_u32(&mut self, v: u32) {
        self.align(4);
        self.put(&v.to_le_bytes());
    }

    pub fn write_i32(&mut self, v: i32) {
        self.align(4);
        self.put(&v.to_le_bytes());
    }

    /// An 8-byte value, aligned to 8.
    pub fn write_u64(&mut self, v: u64) {
        self.align(8);
        self.put(&v.to_le_bytes());
    }

    /// A string: u32 length counting the terminating NUL, the bytes, then the NUL. The
    /// empty string is `1` and a NUL.
    pub fn write_string(&mut self, s: &str) {
        self.write_len(s.len() + 1);
        self.put(s.as_bytes());
        self.put(&[0]);
    }

    /// A `sequence<uint8>`: u32 element count, then the bytes.
    pub fn write_byte_sequence(&mut self, bytes: &[u8]) {
        self.write_len(bytes.len());
        self.put(bytes);
    }

    fn write_len(&mut self, len: usize) {
        // Messages over 4 GiB cannot be expressed in CDR; our messages never come close.
        self.write_u32(u32::try_from(len).expect("CDR lengths are 32-bit"));
    }

    /// Appends bytes that are already CDR-encoded fields.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.put(bytes);
    }

    /// The finished bytes, header included (empty for a writer that did not own them).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.out {
            Out::Vec(buf) => buf,
            _ => Vec::new(),
        }
    }
}

/// What can be wrong with bytes handed to [`CdrReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdrError {
    /// Fewer than 4 bytes, or a header other than CDR little-endian.
    BadHeader,
    /// The data ends before a value that should be there.
    Truncated {
        /// Byte offset (after the header) where the value should start.
        at: usize,
        /// How many bytes the value needs.
        needed: usize,
    },
    /// A string without its terminating NUL, or not UTF-8.
    BadString {
        /// Byte offset (after the header) of the string's length field.
        at: usize,
    },
    /// Every field decoded, but together they do not make a valid message
    /// ([`crate::engine::Message::validate`] says why).
    Invalid(String),
}

impl fmt::Display for CdrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CdrError::BadHeader => write!(f, "not a little-endian CDR encapsulation"),
            CdrError::Truncated { at, needed } => {
                write!(f, "truncated CDR data: {needed} bytes needed at offset {at}")
            }
            CdrError::BadString { at } => write!(f, "malformed CDR string at offset {at}"),
            CdrError::Invalid(why) => write!(f, "invalid message: {why}"),
        }
    }
}

impl std::error::Error for CdrError {}

/// Reads values back in the order they were written. Every length is checked against the
/// bytes actually present before anything is allocated, so hostile input cannot make it
/// reserve more memory than it was given.
#[derive(Debug)]
pub struct CdrReader<'a> {
    /// The fields, without the header.
    data: &'a [u8],
    /// Read position in `data`.
    pos: usize,
}

impl<'a> CdrReader<'a> {
    /// Checks the encapsulation header.
    pub fn new(bytes: &'a [u8]) -> Result<Self, CdrError> {
        match bytes.split_at_checked(CDR_LE_HEADER.len()) {
            Some((header, data)) if header[..2] == CDR_LE_HEADER[..2] => Ok(Self { data, pos: 0 }),
            _ => Err(CdrError::BadHeader),
        }
    }

    fn align(&mut self, n: usize) {
        self.pos += (n - self.pos % n) % n;
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CdrError> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.data.len());
        let end = end.ok_or(CdrError::Truncated { at: self.pos, needed: n })?;
        let slice = &self.data[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], CdrError> {
        self.align(N);
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }

    pub fn read_u8(&mut self) -> Result<u8, CdrError> {
        Ok(self.take(1)?[0])
    }

    pub fn read_u32(&mut self) -> Result<u32, CdrError> {
        self.take_array().map(u32::from_le_bytes)
    }

    pub fn read_i32(&mut self) -> Result<i32, CdrError> {
        self.take_array().map(i32::from_le_bytes)
    }

    pub fn read_u64(&mut self) -> Result<u64, CdrError> {
        self.take_array().map(u64::from_le_bytes)
    }

    /// A string. A length of 0 (no NUL at all) is also the empty string, as rmw_cyclonedds
    /// reads it (serdes.hpp:161-165 jazzy); every writer here sends `1` and a NUL.
    pub fn read_string(&mut self) -> Result<String, CdrError> {
        let len = self.read_u32()? as usize;
        if len == 0 {
            return Ok(String::new());
        }
        let at = self.pos - 4;
        let bytes = self.take(len)?;
        match bytes.split_last() {
            Some((0, text)) => std::str::from_utf8(text).map(str::to_owned).map_err(|_| CdrError::BadString { at }),
            _ => Err(CdrError::BadString { at }),
        }
    }

    /// Everything not read yet.
    pub fn read_rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos.min(self.data.len())..];
        self.pos = self.data.len();
        rest
    }

    /// Borrows a `sequence<uint8>` in place: the caller decides where to copy it.
    pub fn read_byte_sequence(&mut self) -> Result<&'a [u8], CdrError> {
        let len = self.read_u32()? as usize;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(w: &mut CdrWriter<'_>) {
        w.write_u8(7);
        w.write_string("bgr8");
        w.write_byte_sequence(&[1, 2, 3]);
    }

    /// Counting, writing into a slot and writing into a buffer of its own agree byte for byte.
    #[test]
    fn every_destination_gets_the_same_bytes() {
        let mut owned = CdrWriter::new();
        sample(&mut owned);
        let owned = owned.into_bytes();
        let mut counting = CdrWriter::counting();
        sample(&mut counting);
        assert_eq!(counting.len(), owned.len());
        let mut slot = vec![0xAA; owned.len() + 5];
        let mut w = CdrWriter::into_slice(&mut slot);
        sample(&mut w);
        assert_eq!(w.finish(), Some(owned.len()));
        assert_eq!(slot[..owned.len()], owned[..]);
    }

    /// A slot too small says so instead of panicking or writing past its end.
    #[test]
    fn a_slot_too_small_is_reported() {
        let mut slot = [0u8; 10];
        let mut w = CdrWriter::into_slice(&mut slot);
        sample(&mut w);
        assert_eq!(w.finish(), None);
    }

    /// Alignment counts from after the header: a u8 followed by a u32 pads 3 bytes.
    #[test]
    fn aligns_relative_to_the_data() {
        let mut w = CdrWriter::new();
        w.write_u8(7);
        w.write_u32(1);
        assert_eq!(w.into_bytes(), [0, 1, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0]);
    }

    /// A 64-bit value aligns to 8 (plain CDR), counted from after the header: a u8 then a
    /// u64 pads 7 bytes.
    #[test]
    fn sixty_four_bit_values_align_to_eight() {
        let mut w = CdrWriter::new();
        w.write_u8(7);
        w.write_u64(1);
        let bytes = w.into_bytes();
        assert_eq!(bytes, [0, 1, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        let mut r = CdrReader::new(&bytes).unwrap();
        assert_eq!((r.read_u8().unwrap(), r.read_u64().unwrap()), (7, 1));
    }

    /// The empty string is valid CDR: length 1 and the NUL; a length of 0 reads as empty too.
    #[test]
    fn the_empty_string_is_valid() {
        let mut w = CdrWriter::new();
        w.write_string("");
        let bytes = w.into_bytes();
        assert_eq!(bytes, [0, 1, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(CdrReader::new(&bytes).unwrap().read_string().unwrap(), "");
        let zero = [0, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(CdrReader::new(&zero).unwrap().read_string().unwrap(), "");
    }

    /// Strings carry their NUL, and the length counts it.
    #[test]
    fn strings_round_trip_with_their_nul() {
        let mut w = CdrWriter::new();
        w.write_string("hi");
        let bytes = w.into_bytes();
        assert_eq!(bytes, [0, 1, 0, 0, 3, 0, 0, 0, b'h', b'i', 0]);
        assert_eq!(CdrReader::new(&bytes).unwrap().read_string().unwrap(), "hi");
    }

    /// A length larger than the data is refused before anything is allocated.
    #[test]
    fn oversized_lengths_are_truncation_errors() {
        let bytes = [0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2];
        let err = CdrReader::new(&bytes).unwrap().read_byte_sequence().unwrap_err();
        assert_eq!(err, CdrError::Truncated { at: 4, needed: u32::MAX as usize });
    }

    #[test]
    fn rejects_other_encapsulations() {
        assert_eq!(CdrReader::new(&[0, 0, 0, 0]).unwrap_err(), CdrError::BadHeader);
        assert_eq!(CdrReader::new(&[0, 1]).unwrap_err(), CdrError::BadHeader);
    }

    #[test]
    fn strings_without_nul_are_rejected() {
        let bytes = [0, 1, 0, 0, 2, 0, 0, 0, b'h', b'i'];
        let err = CdrReader::new(&bytes).unwrap().read_string().unwrap_err();
        assert_eq!(err, CdrError::BadString { at: 0 });
    }
}
