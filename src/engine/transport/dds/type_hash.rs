//! RIHS01 type hashes ("ROS Interface Hashing Standard", REP-2011), as ROS 2 Iron and later
//! put them in every endpoint's DDS user data: `typehash=RIHS01_<sha256>;`. A subscriber
//! compares them to tell a type with the same name but a different layout.
//!
//! The hash is SHA-256 over a JSON text of the type's description: its fields (name, type
//! id, capacities, nested type) and, sorted by name, every type it refers to. Default
//! values are left out. The rules are rosidl's `calculate_type_hash` and
//! `extract_full_type_description`
//! (rosidl_generator_type_description/rosidl_generator_type_description/__init__.py lines
//! 467-517, rolling); the field type ids are `FIELD_TYPE_NAME_TO_ID` in the same file.
//!
//! ```
//! use ipc_lab::engine::transport::dds::type_hash;
//!
//! let hash = type_hash::rihs01("std_msgs/msg/String").unwrap();
//! assert_eq!(hash, "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18");
//! ```

use std::collections::BTreeSet;
use std::io;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The prefix of a version 1 hash string (`RIHS01_PREFIX`, __init__.py line 31).
pub const RIHS01_PREFIX: &str = "RIHS01_";

/// A field type id of `type_description_interfaces/msg/FieldType` (__init__.py lines
/// 255-370): the element type, plus 48 for a fixed array, 96 for a bounded sequence and
/// 144 for an unbounded one.
pub mod field_type {
    pub const NESTED_TYPE: u8 = 1;
    pub const UINT8: u8 = 3;
    pub const INT32: u8 = 6;
    pub const UINT32: u8 = 7;
    pub const STRING: u8 = 17;
    pub const BOUNDED_STRING: u8 = 21;
    /// `char[16]` in a `.msg` is `uint8[16]` (rosidl_adapter/msg/__init__.py line 50).
    pub const UINT8_ARRAY: u8 = 51;
    pub const NESTED_TYPE_UNBOUNDED_SEQUENCE: u8 = 145;
    pub const UINT8_UNBOUNDED_SEQUENCE: u8 = 147;
}

/// A field's type, as the hash sees it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldType {
    /// One of [`field_type`].
    pub type_id: u8,
    /// The size of a fixed array or the bound of a bounded sequence; 0 otherwise.
    pub capacity: u64,
    /// The bound of a bounded string; 0 otherwise.
    pub string_capacity: u64,
    /// `package/msg/Name` of a nested type, or empty.
    pub nested_type_name: &'static str,
}

/// One field of a message.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Field {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub field_type: FieldType,
}

impl Field {
    /// A field of a basic type, a string or a sequence of them.
    pub const fn basic(name: &'static str, type_id: u8) -> Self {
        Self::sized(name, type_id, 0, 0)
    }

    /// A field with a capacity (`uint8[16]`) or a string bound (`string<=256`).
    pub const fn sized(name: &'static str, type_id: u8, capacity: u64, string_capacity: u64) -> Self {
        Self { name, field_type: FieldType { type_id, capacity, string_capacity, nested_type_name: "" } }
    }

    /// A field of another message type (`type_id` says whether one or a sequence).
    pub const fn nested(name: &'static str, type_id: u8, type_name: &'static str) -> Self {
        Self { name, field_type: FieldType { type_id, capacity: 0, string_capacity: 0, nested_type_name: type_name } }
    }
}

/// One message type and its fields, without the types it refers to.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct IndividualTypeDescription {
    pub type_name: &'static str,
    pub fields: &'static [Field],
}

/// A type with every type it refers to, the text that is hashed.
#[derive(Debug, Serialize)]
pub struct TypeDescription {
    pub type_description: IndividualTypeDescription,
    /// Sorted by type name, each once.
    pub referenced_type_descriptions: Vec<IndividualTypeDescription>,
}

use field_type::*;

/// Every type ipc-lab sends, with the fields of its `.msg` file.
pub const KNOWN_TYPES: &[IndividualTypeDescription] = &[
    IndividualTypeDescription {
        type_name: "builtin_interfaces/msg/Time",
        fields: &[Field::basic("sec", INT32), Field::basic("nanosec", UINT32)],
    },
    IndividualTypeDescription {
        type_name: "std_msgs/msg/Header",
        fields: &[Field::nested("stamp", NESTED_TYPE, "builtin_interfaces/msg/Time"), Field::basic("frame_id", STRING)],
    },
    IndividualTypeDescription { type_name: "std_msgs/msg/Int32", fields: &[Field::basic("data", INT32)] },
    IndividualTypeDescription { type_name: "std_msgs/msg/String", fields: &[Field::basic("data", STRING)] },
    IndividualTypeDescription {
        type_name: "sensor_msgs/msg/Image",
        fields: &[
            Field::nested("header", NESTED_TYPE, "std_msgs/msg/Header"),
            Field::basic("height", UINT32),
            Field::basic("width", UINT32),
            Field::basic("encoding", STRING),
            Field::basic("is_bigendian", UINT8),
            Field::basic("step", UINT32),
            Field::basic("data", UINT8_UNBOUNDED_SEQUENCE),
        ],
    },
    // rmw_dds_common/msg/*.msg (rolling 3.2.0; Iron made the Gid 16 bytes).
    IndividualTypeDescription {
        type_name: "rmw_dds_common/msg/Gid",
        fields: &[Field::sized("data", UINT8_ARRAY, 16, 0)],
    },
    IndividualTypeDescription {
        type_name: "rmw_dds_common/msg/NodeEntitiesInfo",
        fields: &[
            Field::sized("node_namespace", BOUNDED_STRING, 0, 256),
            Field::sized("node_name", BOUNDED_STRING, 0, 256),
            Field::nested("reader_gid_seq", NESTED_TYPE_UNBOUNDED_SEQUENCE, "rmw_dds_common/msg/Gid"),
            Field::nested("writer_gid_seq", NESTED_TYPE_UNBOUNDED_SEQUENCE, "rmw_dds_common/msg/Gid"),
        ],
    },
    IndividualTypeDescription {
        type_name: "rmw_dds_common/msg/ParticipantEntitiesInfo",
        fields: &[
            Field::nested("gid", NESTED_TYPE, "rmw_dds_common/msg/Gid"),
            Field::nested(
                "node_entities_info_seq",
                NESTED_TYPE_UNBOUNDED_SEQUENCE,
                "rmw_dds_common/msg/NodeEntitiesInfo",
            ),
        ],
    },
];

fn individual(type_name: &str) -> Option<IndividualTypeDescription> {
    KNOWN_TYPES.iter().find(|t| t.type_name == type_name).copied()
}

/// `type_name` with every type it refers to, directly or not; `None` if ipc-lab does not
/// know it or one of its references.
pub fn full_description(type_name: &str) -> Option<TypeDescription> {
    let top = individual(type_name)?;
    let mut seen = BTreeSet::new();
    let mut queue: Vec<&str> = nested_names(&top).collect();
    while let Some(name) = queue.pop() {
        if seen.insert(name) {
            queue.extend(nested_names(&individual(name)?));
        }
    }
    let referenced = seen.into_iter().map(individual).collect::<Option<Vec<_>>>()?;
    Some(TypeDescription { type_description: top, referenced_type_descriptions: referenced })
}

fn nested_names(t: &IndividualTypeDescription) -> impl Iterator<Item = &'static str> + '_ {
    t.fields.iter().map(|f| f.field_type.nested_type_name).filter(|n| !n.is_empty())
}

/// The JSON text that is hashed: Python's `json.dumps` with `separators=(', ', ': ')`,
/// keys in declaration order, no indentation.
pub fn hashed_json(description: &TypeDescription) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonSeparators);
    // Only strings and integers: serializing into a Vec cannot fail.
    description.serialize(&mut serializer).expect("a type description serializes");
    // serde_json writes UTF-8 as is where Python would escape it; every name here is ASCII.
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// `RIHS01_` and the lowercase hex SHA-256 of [`hashed_json`], for a type ipc-lab knows.
pub fn rihs01(type_name: &str) -> Option<String> {
    let json = hashed_json(&full_description(type_name)?);
    let digest = Sha256::digest(json.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("{RIHS01_PREFIX}{hex}"))
}

/// The endpoint user data: `typehash=<RIHS01>;` (`encode_type_hash_for_user_data_qos`,
/// rmw_dds_common/src/qos.cpp lines 694-714, rolling), which rmw_cyclonedds appends to any
/// other user data (rmw_cyclonedds_cpp/src/rmw_node.cpp lines 2250-2261, jazzy).
pub fn user_data(type_name: &str) -> Option<String> {
    rihs01(type_name).map(|hash| format!("typehash={hash};"))
}

/// The type hash in a peer's user data (`key=value;` pairs), if it sent one
/// (`parse_type_hash_from_user_data`, rmw_dds_common/src/qos.cpp lines 673-691).
pub fn from_user_data(user_data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(user_data).ok()?;
    text.split(';').find_map(|pair| pair.strip_prefix("typehash="))
}

/// What a peer's endpoint says about its type, beside ipc-lab's type of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerType {
    /// The same hash: the same fields in the same order.
    Same,
    /// Another hash under the same name: another layout (a changed `.msg`), whose samples
    /// would decode into wrong values or fail. ROS 2 itself only shows the hashes
    /// (`ros2 topic info -v`); ipc-lab reports the difference.
    Different { ours: String, theirs: String },
    /// Nothing to compare: the peer sends no hash (ROS 2 before Iron), or ipc-lab does not
    /// know the type.
    Unknown,
}

/// Compares a peer endpoint's user data with ipc-lab's hash of `type_name`.
pub fn compare_peer(type_name: &str, peer_user_data: &[u8]) -> PeerType {
    match (rihs01(type_name), from_user_data(peer_user_data)) {
        (Some(ours), Some(theirs)) if ours == theirs => PeerType::Same,
        (Some(ours), Some(theirs)) => PeerType::Different { ours, theirs: theirs.to_owned() },
        _ => PeerType::Unknown,
    }
}

/// json.dumps's separators: `", "` between items and `": "` after a key.
struct PythonSeparators;

impl serde_json::ser::Formatter for PythonSeparators {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msg::sensor_msgs::Image;
    use crate::engine::msg::std_msgs::{Int32, String as RosString};
    use crate::engine::Message;

    /// Check vectors: Int32 and Image as issue 12 gives them; `std_msgs/msg/String` as
    /// rosbag2 records it for `/chatter`; `ros_discovery_info`'s type as zenoh-bridge-ros2dds
    /// hard-codes it for Iron and Jazzy.
    #[test]
    fn hashes_match_rosidl() {
        assert_eq!(
            rihs01(Int32::TYPE_NAME).unwrap(),
            "RIHS01_b6578ded3c58c626cfe8d1a6fb6e04f706f97e9f03d2727c9ff4e74b1cef0deb"
        );
        assert_eq!(
            rihs01(Image::TYPE_NAME).unwrap(),
            "RIHS01_d31d41a9a4c4bc8eae9be757b0beed306564f7526c88ea6a4588fb9582527d47"
        );
        assert_eq!(
            rihs01(RosString::TYPE_NAME).unwrap(),
            "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18"
        );
        assert_eq!(
            rihs01("rmw_dds_common/msg/ParticipantEntitiesInfo").unwrap(),
            "RIHS01_91a0593bacdcc50ea9bdcf849a938b128412cc1ea821245c663bcd26f83c295e"
        );
    }

    /// The exact text hashed for Int32: Python's separators, no default values.
    #[test]
    fn the_hashed_text_is_pythons_json() {
        let json = hashed_json(&full_description("std_msgs/msg/Int32").unwrap());
        assert_eq!(
            json,
            r#"{"type_description": {"type_name": "std_msgs/msg/Int32", "fields": [{"name": "data", "type": {"type_id": 6, "capacity": 0, "string_capacity": 0, "nested_type_name": ""}}]}, "referenced_type_descriptions": []}"#
        );
    }

    /// An image refers to Header and, through it, Time: both are listed, sorted by name.
    #[test]
    fn references_are_transitive_and_sorted() {
        let image = full_description(Image::TYPE_NAME).unwrap();
        let names: Vec<_> = image.referenced_type_descriptions.iter().map(|t| t.type_name).collect();
        assert_eq!(names, ["builtin_interfaces/msg/Time", "std_msgs/msg/Header"]);
        let graph = full_description("rmw_dds_common/msg/ParticipantEntitiesInfo").unwrap();
        let names: Vec<_> = graph.referenced_type_descriptions.iter().map(|t| t.type_name).collect();
        assert_eq!(names, ["rmw_dds_common/msg/Gid", "rmw_dds_common/msg/NodeEntitiesInfo"]);
    }

    #[test]
    fn user_data_carries_the_hash() {
        let data = user_data(Int32::TYPE_NAME).unwrap();
        assert_eq!(data, "typehash=RIHS01_b6578ded3c58c626cfe8d1a6fb6e04f706f97e9f03d2727c9ff4e74b1cef0deb;");
        assert_eq!(from_user_data(data.as_bytes()), rihs01(Int32::TYPE_NAME).as_deref());
        assert_eq!(from_user_data(b"enclave=/;"), None);
        assert_eq!(from_user_data(b"clientid=1;typehash=RIHS01_ab;"), Some("RIHS01_ab"));
    }

    #[test]
    fn peers_are_compared_by_hash() {
        let ours = user_data(Int32::TYPE_NAME).unwrap();
        assert_eq!(compare_peer(Int32::TYPE_NAME, ours.as_bytes()), PeerType::Same);
        let other = b"typehash=RIHS01_0000000000000000000000000000000000000000000000000000000000000000;";
        assert_eq!(
            compare_peer(Int32::TYPE_NAME, other),
            PeerType::Different {
                ours: rihs01(Int32::TYPE_NAME).unwrap(),
                theirs: "RIHS01_0000000000000000000000000000000000000000000000000000000000000000".into()
            }
        );
        // A Humble peer sends no hash.
        assert_eq!(compare_peer(Int32::TYPE_NAME, b""), PeerType::Unknown);
        assert_eq!(compare_peer("pkg/msg/Unknown", ours.as_bytes()), PeerType::Unknown);
    }

    #[test]
    fn unknown_types_have_no_hash() {
        assert_eq!(rihs01("geometry_msgs/msg/Twist"), None);
        assert_eq!(user_data("nonsense"), None);
    }
}
