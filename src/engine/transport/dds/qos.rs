//! The DDS QoS of a ROS endpoint, as rmw_cyclonedds sets it from the ROS QoS profile
//! (`create_readwrite_qos`, rmw_cyclonedds_cpp/src/rmw_node.cpp lines 2153-2263, jazzy).
//! Plain data: the `dds` feature turns it into Cyclone's `dds_qos_t`, tests compare it
//! with what a peer discovers.
//!
//! ```
//! use ipc_lab::engine::transport::dds::qos::{endpoint_qos, DdsHistory, DdsReliability};
//! use ipc_lab::engine::QoS;
//!
//! // The image pipeline's sensor-data QoS: best effort, keep last 5.
//! let qos = endpoint_qos(&QoS::sensor_data(), "sensor_msgs/msg/Image").unwrap();
//! assert_eq!(qos.history, DdsHistory::KeepLast(5));
//! assert_eq!(qos.reliability, DdsReliability::BestEffort);
//! ```

use std::fmt;

use super::type_hash;
use crate::engine::{Durability, History, QoS, Reliability};

/// DDS history: how many samples a writer or reader keeps per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdsHistory {
    /// `DDS_HISTORY_KEEP_LAST` with this depth (at least 1).
    KeepLast(i32),
    /// `DDS_HISTORY_KEEP_ALL`.
    KeepAll,
}

/// DDS reliability. rmw_cyclonedds blocks a reliable writer for as long as it takes
/// (`max_blocking_time` infinite) and sets 0 for best effort (lines 2187-2190).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdsReliability {
    Reliable,
    BestEffort,
}

/// DDS durability. Transient local also sets a durability service of the same history
/// (lines 2200-2214), as Cyclone keeps historical data apart from the reliability window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdsDurability {
    Volatile,
    TransientLocal,
}

/// The QoS one DDS reader or writer gets. Policies rmw_cyclonedds sets the same way for
/// every endpoint are named at [`DdsQos::autodispose`] and [`DdsQos::liveliness_automatic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdsQos {
    pub history: DdsHistory,
    pub reliability: DdsReliability,
    pub durability: DdsDurability,
    /// Always false: a ROS writer that goes away does not dispose its samples
    /// (`dds_qset_writer_data_lifecycle(qos, false)`, line 2161).
    pub autodispose: bool,
    /// Always true, with an infinite lease: ROS's default liveliness (lines 2228-2236).
    pub liveliness_automatic: bool,
    /// Readers of the graph ignore their own participant's samples (`ignorelocal`, lines
    /// 2246-2248).
    pub ignore_local: bool,
    /// `typehash=RIHS01_...;`, or empty for a type whose hash ipc-lab does not know.
    pub user_data: String,
}

/// A ROS QoS that DDS cannot express the way rmw_cyclonedds does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QosError {
    /// Keep last 0, or more than `i32::MAX` ("unsupported history depth", line 2169).
    UnsupportedDepth(usize),
}

impl fmt::Display for QosError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QosError::UnsupportedDepth(depth) => write!(f, "unsupported history depth {depth}"),
        }
    }
}

impl std::error::Error for QosError {}

/// The DDS QoS of a publisher or subscription of `type_name` with the ROS QoS `qos`.
pub fn endpoint_qos(qos: &QoS, type_name: &str) -> Result<DdsQos, QosError> {
    let history = match qos.history {
        History::KeepLast(depth) => {
            let valid = i32::try_from(depth).ok().filter(|&d| d >= 1);
            DdsHistory::KeepLast(valid.ok_or(QosError::UnsupportedDepth(depth))?)
        }
        History::KeepAll => DdsHistory::KeepAll,
    };
    Ok(DdsQos {
        history,
        reliability: match qos.reliability {
            Reliability::Reliable => DdsReliability::Reliable,
            Reliability::BestEffort => DdsReliability::BestEffort,
        },
        durability: match qos.durability {
            Durability::Volatile => DdsDurability::Volatile,
            Durability::TransientLocal => DdsDurability::TransientLocal,
        },
        autodispose: false,
        liveliness_automatic: true,
        ignore_local: false,
        user_data: type_hash::user_data(type_name).unwrap_or_default(),
    })
}

/// The writer of `ros_discovery_info`: reliable, transient local, keep last 1, so a
/// participant that joins later still gets the current graph (rmw_node.cpp lines
/// 1412-1431, jazzy).
pub fn discovery_writer_qos() -> DdsQos {
    let ros = QoS::keep_last(1).transient_local();
    endpoint_qos(&ros, super::graph::ParticipantEntitiesInfo::TYPE_NAME).expect("depth 1 is valid")
}

/// The reader of `ros_discovery_info`: the same, but keep all and ignoring its own
/// participant (lines 1440-1450).
pub fn discovery_reader_qos() -> DdsQos {
    DdsQos { history: DdsHistory::KeepAll, ignore_local: true, ..discovery_writer_qos() }
}

/// The participant's user data: the security enclave, `/` when none is set (rmw_node.cpp
/// line 1350, jazzy).
pub const PARTICIPANT_USER_DATA: &str = "enclave=/;";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msg::sensor_msgs::Image;
    use crate::engine::msg::std_msgs::Int32;
    use crate::engine::Message;

    /// two_node and cyclic declare depth 10: keep last 10, reliable, volatile.
    #[test]
    fn a_bare_depth_is_reliable_volatile_keep_last() {
        let qos = endpoint_qos(&QoS::from(10), Int32::TYPE_NAME).unwrap();
        assert_eq!(qos.history, DdsHistory::KeepLast(10));
        assert_eq!(qos.reliability, DdsReliability::Reliable);
        assert_eq!(qos.durability, DdsDurability::Volatile);
        assert!(!qos.autodispose && qos.liveliness_automatic && !qos.ignore_local);
        assert_eq!(qos.user_data, type_hash::user_data(Int32::TYPE_NAME).unwrap());
    }

    /// The image nodes declare sensor data: best effort, keep last 5.
    #[test]
    fn sensor_data_is_best_effort_keep_last_5() {
        let qos = endpoint_qos(&QoS::sensor_data(), Image::TYPE_NAME).unwrap();
        assert_eq!(qos.history, DdsHistory::KeepLast(5));
        assert_eq!(qos.reliability, DdsReliability::BestEffort);
        assert_eq!(qos.durability, DdsDurability::Volatile);
    }

    #[test]
    fn depths_dds_cannot_express_are_errors() {
        assert_eq!(endpoint_qos(&QoS::from(0), Int32::TYPE_NAME), Err(QosError::UnsupportedDepth(0)));
        let huge = i32::MAX as usize + 1;
        assert_eq!(endpoint_qos(&QoS::from(huge), Int32::TYPE_NAME), Err(QosError::UnsupportedDepth(huge)));
        assert_eq!(endpoint_qos(&QoS::keep_all(), Int32::TYPE_NAME).unwrap().history, DdsHistory::KeepAll);
    }

    #[test]
    fn the_graph_topic_is_transient_local() {
        let writer = discovery_writer_qos();
        assert_eq!(writer.history, DdsHistory::KeepLast(1));
        assert_eq!(writer.durability, DdsDurability::TransientLocal);
        assert_eq!(writer.reliability, DdsReliability::Reliable);
        assert!(writer.user_data.starts_with("typehash=RIHS01_91a0593b"));
        let reader = discovery_reader_qos();
        assert_eq!(reader.history, DdsHistory::KeepAll);
        assert!(reader.ignore_local);
    }

    /// A type without a known hash still gets an endpoint, with empty user data, as
    /// rmw_cyclonedds does when the hash is unset.
    #[test]
    fn unknown_types_send_no_hash() {
        assert_eq!(endpoint_qos(&QoS::from(1), "pkg/msg/Unknown").unwrap().user_data, "");
    }
}
