//! ROS 2 on DDS: the names, hashes, QoS and graph messages a real ROS 2 node puts on the
//! wire, so that ipc-lab's endpoints look like rclcpp's to `ros2 topic echo` and
//! `ros2 node list`. Everything here but `cyclone` and `transport` is plain data and pure
//! functions; the DDS library itself (Cyclone DDS, through the `dds` cargo feature) only
//! carries what this module computes, and `transport` makes it one of ipc-lab's transports.
//!
//! ```
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::transport::dds::{names, type_hash};
//! use ipc_lab::engine::Message;
//!
//! assert_eq!(names::dds_topic("number"), "rt/number");
//! assert_eq!(names::dds_type_name(Int32::TYPE_NAME).unwrap(), "std_msgs::msg::dds_::Int32_");
//! assert_eq!(
//!     type_hash::user_data(Int32::TYPE_NAME).unwrap(),
//!     "typehash=RIHS01_b6578ded3c58c626cfe8d1a6fb6e04f706f97e9f03d2727c9ff4e74b1cef0deb;"
//! );
//! ```
//!
//! Where each rule comes from is said at the rule: ros2/rmw_cyclonedds on its `jazzy`
//! branch (2ec6f21, 2024-11), ros2/rmw_dds_common and ros2/rosidl on `rolling` (3.2.0,
//! 2024; their files quoted here are unchanged since Iron).

#[cfg(feature = "dds")]
pub mod cyclone;
pub mod graph;
pub mod names;
pub mod qos;
#[cfg(feature = "dds")]
pub(crate) mod transport;
pub mod type_hash;

/// Cyclone DDS on this machine only, for `ipc-lab bench`: the loopback interface, no
/// multicast, and discovery by unicast to `localhost` (each participant on its own port,
/// `ParticipantIndex auto`), so it works whether or not `lo` carries multicast and no packet
/// leaves the machine. A user who wants ipc-lab to meet another machine gives Cyclone the
/// same `ROS_DOMAIN_ID` on both and either a network that carries multicast (Cyclone's
/// default) or this configuration with the other machine's address as a `<Peer>`, through
/// `CYCLONEDDS_URI`.
pub const LOCALHOST_ONLY_CONFIG: &str = concat!(
    "<CycloneDDS><Domain Id=\"any\"><General><Interfaces><NetworkInterface name=\"lo\"/></Interfaces>",
    "<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>",
    "<Peers><Peer Address=\"localhost\"/></Peers></Discovery></Domain></CycloneDDS>"
);

/// A serialized sample as rmw_cyclonedds hands it to Cyclone: the CDR bytes with zeros
/// added up to a multiple of 4 (`serdata_rmw::resize`, rmw_cyclonedds_cpp/src/serdata.cpp
/// lines 722-738, jazzy: "CDR padding in DDSI makes me do this"). The encapsulation
/// options stay 0, and decoders ignore bytes after the last field, so the padding changes
/// no value. An `Int32` (8 bytes) and a 1920x1080 `bgr8` image need none; a `String`
/// "hi" (11 bytes) gets one.
pub fn padded(mut cdr: Vec<u8>) -> Vec<u8> {
    cdr.resize(cdr.len().next_multiple_of(4), 0);
    cdr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msg::sensor_msgs::Image;
    use crate::engine::msg::std_msgs::{Int32, String as RosString};
    use crate::engine::Message;

    #[test]
    fn samples_are_padded_to_four_bytes() {
        assert_eq!(padded(Int32 { data: 42 }.to_cdr()), [0, 1, 0, 0, 42, 0, 0, 0]);
        // 4 header + 4 length + "hi\0".
        assert_eq!(padded(RosString { data: "hi".into() }.to_cdr()), [0, 1, 0, 0, 3, 0, 0, 0, b'h', b'i', 0, 0]);
        let full_hd = Image { encoding: "bgr8".into(), width: 1920, height: 1080, step: 5760, ..Image::default() };
        let full_hd = Image { data: vec![7; 1920 * 1080 * 3], ..full_hd };
        assert_eq!(padded(full_hd.to_cdr()).len(), full_hd.to_cdr().len());
        // Three mono8 pixels make 51 bytes: one zero follows.
        let odd =
            Image { encoding: "mono8".into(), width: 3, height: 1, step: 3, data: vec![1, 2, 3], ..Image::default() };
        let cdr = odd.to_cdr();
        let sent = padded(cdr.clone());
        assert_eq!(sent.len() % 4, 0);
        assert_eq!(&sent[cdr.len()..], [0]);
        assert_eq!(*Image::from_cdr(&sent).unwrap(), odd);
    }
}
