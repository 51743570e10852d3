//! The ROS graph on DDS: which nodes a participant holds and which readers and writers
//! belong to each. DDS itself knows only participants, readers and writers; ROS 2 adds
//! nodes by publishing `rmw_dds_common/msg/ParticipantEntitiesInfo` on the topic
//! `ros_discovery_info` whenever a node or an endpoint comes or goes, and `ros2 node list`
//! reads it (rmw_dds_common/src/graph_cache.cpp lines 238-286, rolling).
//!
//! ```
//! use ipc_lab::engine::transport::dds::graph::{Gid, NodeEntitiesInfo, ParticipantEntitiesInfo};
//!
//! let info = ParticipantEntitiesInfo {
//!     gid: Gid([1; 16]),
//!     node_entities_info_seq: vec![NodeEntitiesInfo::new("producer")],
//! };
//! let bytes = info.to_cdr();
//! assert_eq!(ParticipantEntitiesInfo::from_cdr(&bytes).unwrap(), info);
//! ```

use crate::engine::cdr::{CdrError, CdrReader, CdrWriter};

/// The bound of a node's name and namespace (`string<=256`, NodeEntitiesInfo.msg).
pub const NAME_BOUND: usize = 256;

/// `rmw_dds_common/msg/Gid`: a DDS entity's GUID, 16 bytes since Iron (`char[16] data`).
/// rmw_cyclonedds copies Cyclone's `dds_guid_t` into it as is (`convert_guid_to_gid`,
/// rmw_cyclonedds_cpp/src/rmw_node.cpp lines 833-841, jazzy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gid(pub [u8; 16]);

impl Gid {
    fn serialize(&self, w: &mut CdrWriter) {
        // A fixed array: no length, no alignment for bytes.
        w.write_raw(&self.0);
    }

    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        let mut gid = [0; 16];
        for byte in &mut gid {
            *byte = r.read_u8()?;
        }
        Ok(Self(gid))
    }
}

/// `rmw_dds_common/msg/NodeEntitiesInfo`: one node and the GIDs of its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeEntitiesInfo {
    /// `/` for every ipc-lab node: the demos use no namespace.
    pub node_namespace: String,
    pub node_name: String,
    /// Its subscriptions' DDS readers.
    pub reader_gid_seq: Vec<Gid>,
    /// Its publishers' DDS writers.
    pub writer_gid_seq: Vec<Gid>,
}

impl NodeEntitiesInfo {
    /// A node in the root namespace with no endpoints yet.
    pub fn new(node_name: &str) -> Self {
        Self { node_namespace: "/".into(), node_name: node_name.into(), ..Self::default() }
    }

    fn serialize(&self, w: &mut CdrWriter) {
        w.write_string(&self.node_namespace);
        w.write_string(&self.node_name);
        write_gids(w, &self.reader_gid_seq);
        write_gids(w, &self.writer_gid_seq);
    }

    fn deserialize(r: &mut CdrReader<'_>) -> Result<Self, CdrError> {
        Ok(Self {
            node_namespace: read_bounded_string(r)?,
            node_name: read_bounded_string(r)?,
            reader_gid_seq: read_gids(r)?,
            writer_gid_seq: read_gids(r)?,
        })
    }
}

/// `rmw_dds_common/msg/ParticipantEntitiesInfo`: one participant's whole share of the
/// graph. Each message replaces the previous one from the same participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantEntitiesInfo {
    /// The participant's own GID.
    pub gid: Gid,
    pub node_entities_info_seq: Vec<NodeEntitiesInfo>,
}

impl ParticipantEntitiesInfo {
    /// The ROS type name, whose DDS name and type hash the discovery topic carries.
    pub const TYPE_NAME: &'static str = "rmw_dds_common/msg/ParticipantEntitiesInfo";

    /// The CDR encoding, header included (not yet padded: see [`super::padded`]).
    pub fn to_cdr(&self) -> Vec<u8> {
        let mut w = CdrWriter::new();
        self.gid.serialize(&mut w);
        write_len(&mut w, self.node_entities_info_seq.len());
        for node in &self.node_entities_info_seq {
            node.serialize(&mut w);
        }
        w.into_bytes()
    }

    /// Decodes another participant's message; every length is checked before use.
    pub fn from_cdr(bytes: &[u8]) -> Result<Self, CdrError> {
        let mut r = CdrReader::new(bytes)?;
        let gid = Gid::deserialize(&mut r)?;
        let count = r.read_u32()?;
        let mut node_entities_info_seq = Vec::new();
        for _ in 0..count {
            // A count larger than the data runs out of bytes here, after no more
            // allocations than the data can hold.
            node_entities_info_seq.push(NodeEntitiesInfo::deserialize(&mut r)?);
        }
        Ok(Self { gid, node_entities_info_seq })
    }
}

fn write_len(w: &mut CdrWriter, len: usize) {
    // The graph of one process never comes close to 2^32 entries.
    w.write_u32(u32::try_from(len).unwrap_or(u32::MAX));
}

fn write_gids(w: &mut CdrWriter, gids: &[Gid]) {
    write_len(w, gids.len());
    for gid in gids {
        gid.serialize(w);
    }
}

fn read_gids(r: &mut CdrReader<'_>) -> Result<Vec<Gid>, CdrError> {
    let count = r.read_u32()?;
    (0..count).map(|_| Gid::deserialize(r)).collect()
}

/// A `string<=256`: longer is a malformed message.
fn read_bounded_string(r: &mut CdrReader<'_>) -> Result<String, CdrError> {
    let text = r.read_string()?;
    if text.len() > NAME_BOUND {
        return Err(CdrError::BadString { at: 0 });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gid(first: u8) -> Gid {
        Gid(std::array::from_fn(|i| first + i as u8))
    }

    /// The bytes of a participant with one node `producer` that has one writer, field by
    /// field with CDR's alignment.
    #[test]
    fn participant_info_bytes() {
        let mut node = NodeEntitiesInfo::new("producer");
        node.writer_gid_seq.push(gid(0x40));
        let info = ParticipantEntitiesInfo { gid: gid(0x10), node_entities_info_seq: vec![node] };
        let mut expected = vec![0, 1, 0, 0];
        expected.extend(0x10..0x20); // gid
        expected.extend([1, 0, 0, 0]); // one node
        expected.extend([2, 0, 0, 0, b'/', 0]); // node_namespace "/"
        expected.extend([0, 0]); // padding to 4
        expected.extend([9, 0, 0, 0]); // node_name "producer" + NUL
        expected.extend(b"producer\0");
        expected.extend([0, 0, 0]); // padding to 4
        expected.extend([0, 0, 0, 0]); // no readers
        expected.extend([1, 0, 0, 0]); // one writer
        expected.extend(0x40..0x50);
        assert_eq!(info.to_cdr(), expected);
        assert_eq!(ParticipantEntitiesInfo::from_cdr(&expected).unwrap(), info);
    }

    /// A participant without nodes (a process whose nodes are gone) is 24 bytes.
    #[test]
    fn empty_participant() {
        let info = ParticipantEntitiesInfo { gid: gid(0), node_entities_info_seq: Vec::new() };
        assert_eq!(info.to_cdr().len(), 4 + 16 + 4);
    }

    /// Lies about counts and lengths are errors, never panics or huge allocations.
    #[test]
    fn malformed_messages_are_errors() {
        let mut bytes = vec![0, 1, 0, 0];
        bytes.extend([0; 16]);
        bytes.extend(u32::MAX.to_le_bytes());
        assert!(matches!(ParticipantEntitiesInfo::from_cdr(&bytes), Err(CdrError::Truncated { .. })));
        assert_eq!(ParticipantEntitiesInfo::from_cdr(&[0, 1]), Err(CdrError::BadHeader));
        let mut long = NodeEntitiesInfo::new(&"n".repeat(NAME_BOUND + 1));
        long.node_namespace = "/".into();
        let info = ParticipantEntitiesInfo { gid: gid(0), node_entities_info_seq: vec![long] };
        assert!(matches!(ParticipantEntitiesInfo::from_cdr(&info.to_cdr()), Err(CdrError::BadString { .. })));
    }
}
