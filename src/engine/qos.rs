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
    Reliable,
    BestEffort,
}

/// Whether late joiners get old messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Volatile,
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
}

impl From<usize> for QoS {
    fn from(depth: usize) -> Self {
        Self::keep_last(depth)
    }
}
