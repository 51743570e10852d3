//! Quality of service: how many messages a subscription keeps and how hard delivery tries.
//!
//! ```
//! use ipc_lab::engine::{History, QoS};
//!
//! // rclcpp's `create_publisher<M>(topic, 10)`: keep the last 10, reliable, volatile.
//! let qos = QoS::from(10);
//! assert_eq!(qos.history, History::KeepLast(10));
//! assert_eq!(QoS::sensor_data().history, History::KeepLast(5));
//! ```

/// Which messages a queue keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Keep the newest `depth` messages, overwriting the oldest.
    KeepLast(usize),
    /// Keep everything (not allowed with intra-process communication).
    KeepAll,
}

/// Whether a lost message is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reliability {
    /// A lost message is sent again; the default.
    Reliable,
    /// A lost message stays lost (sensor data).
    BestEffort,
}

/// Whether late joiners get old messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Only messages published after a subscription appears reach it; the default.
    Volatile,
    /// The publisher keeps its last `depth` messages and hands them to a transient-local
    /// subscription that appears later.
    TransientLocal,
}

/// A QoS profile, with rclcpp's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QoS {
    pub history: History,
    pub reliability: Reliability,
    pub durability: Durability,
}

impl QoS {
    /// Keep last `depth`, reliable, volatile: what a bare depth means in rclcpp.
    pub fn keep_last(depth: usize) -> Self {
        Self { history: History::KeepLast(depth), reliability: Reliability::Reliable, durability: Durability::Volatile }
    }

    /// Keep all, reliable, volatile.
    pub fn keep_all() -> Self {
        Self { history: History::KeepAll, ..Self::keep_last(1) }
    }

    /// rclcpp's `SensorDataQoS`: keep last 5, best effort, volatile, as the image pipeline
    /// uses: a late frame is worth less than a fresh one.
    pub fn sensor_data() -> Self {
        Self { reliability: Reliability::BestEffort, ..Self::keep_last(5) }
    }

    pub fn best_effort(self) -> Self {
        Self { reliability: Reliability::BestEffort, ..self }
    }

    pub fn transient_local(self) -> Self {
        Self { durability: Durability::TransientLocal, ..self }
    }

    pub fn volatile(self) -> Self {
        Self { durability: Durability::Volatile, ..self }
    }
}

/// The rclcpp release whose intra-process rules apply where releases differ. Only
/// transient local durability with IPC differs among the ones named here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Distro {
    /// Humble (and Iron): IPC refuses transient local ("intraprocess communication allowed
    /// only with volatile durability", publisher.hpp:200-203 and subscription.hpp:197-200
    /// humble).
    Humble,
    /// Jazzy: a transient-local publisher keeps its last `depth` messages for late joiners
    /// (publisher.hpp:185-191 jazzy), but publishes to the middleware only when a
    /// subscriber outside its intra-process manager needs it (publisher.hpp:254 jazzy, as
    /// of 28.1.6).
    Jazzy,
    /// Rolling from rclcpp 29.3.0 (PR #2708, December 2024; Kilted branched after it): a
    /// transient-local publisher ALSO always publishes to the middleware, so that a late
    /// joiner in another process finds the messages in the middleware's history
    /// (publisher.hpp:239-243 rolling).
    #[default]
    Rolling,
}

/// What `KeepLast(0)` means, with IPC or without: rclcpp passes it on as the middleware's
/// system default ("interpreted as SYSTEM_DEFAULT", qos.cpp:133 rolling), Cyclone DDS and
/// Fast DDS keep one message by default, and rclcpp's IPC checks read that back.
pub const SYSTEM_DEFAULT_DEPTH: usize = 1;

impl From<usize> for QoS {
    fn from(depth: usize) -> Self {
        Self::keep_last(depth)
    }
}
