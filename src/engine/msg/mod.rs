//! The message types the demos use, named and laid out like their ROS 2 originals.

pub mod builtin_interfaces;
pub mod sensor_msgs;
pub mod std_msgs;

use super::Message;

/// Every message type ipc-lab knows, by its ROS type name: the one list that `ipc-lab echo`
/// (which subscribes to a type found at run time) and the JSON reader (which needs the
/// `'static` name back) both read. A new message type is added here, and the compiler then
/// points at every `match` that must learn it.
///
/// ```
/// use ipc_lab::engine::msg::KnownType;
///
/// assert_eq!(KnownType::from_name("std_msgs/msg/Int32"), Some(KnownType::Int32));
/// assert_eq!(KnownType::from_name("geometry_msgs/msg/Twist"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownType {
    /// [`std_msgs::Int32`].
    Int32,
    /// [`std_msgs::String`].
    String,
    /// [`sensor_msgs::Image`].
    Image,
}

impl KnownType {
    /// All of them.
    pub const ALL: [KnownType; 3] = [KnownType::Int32, KnownType::String, KnownType::Image];

    /// The ROS type name (`std_msgs/msg/Int32`).
    pub fn type_name(self) -> &'static str {
        match self {
            KnownType::Int32 => std_msgs::Int32::TYPE_NAME,
            KnownType::String => std_msgs::String::TYPE_NAME,
            KnownType::Image => sensor_msgs::Image::TYPE_NAME,
        }
    }

    /// The type with this ROS type name, if ipc-lab knows it.
    pub fn from_name(name: &str) -> Option<KnownType> {
        KnownType::ALL.into_iter().find(|t| t.type_name() == name)
    }
}
