//! The embedded pub/sub engine, shaped like rclcpp. It knows nothing of the command line
//! and never prints: what happens is reported as [`trace`] events.
//!
//! ```
//! use std::sync::Arc;
//! use ipc_lab::engine::msg::std_msgs::Int32;
//! use ipc_lab::engine::trace::{Recorder, Via, EventKind};
//! use ipc_lab::engine::{Context, InitOptions, MessageAddress, Node, NodeOptions, SingleThreadedExecutor, UniquePtr};
//!
//! let recorder = Arc::new(Recorder::default());
//! let ctx = Context::init_with(InitOptions::default().sink(recorder.clone()).shutdown_after_receipts(1));
//! let ipc = NodeOptions::default().use_intra_process_comms(true);
//! let producer = Node::new(&ctx, "producer", ipc).unwrap();
//! let consumer = Node::new(&ctx, "consumer", ipc).unwrap();
//! let publisher = producer.create_publisher::<Int32>("number", 10).unwrap();
//! let _sub = consumer.create_subscription("number", 10, |msg: UniquePtr<Int32>| {
//!     assert_eq!(msg.data, 42);
//! }).unwrap();
//!
//! let msg = Box::new(Int32 { data: 42 });
//! let sent_from = msg.address();
//! publisher.publish(msg);
//! let mut executor = SingleThreadedExecutor::new();
//! executor.add_node(&producer);
//! executor.add_node(&consumer);
//! executor.spin();
//!
//! // The consumer got the very message that was published: same address, no copy.
//! let received = recorder.events().into_iter().find_map(|e| match e.kind {
//!     EventKind::Received { msg, via, .. } => Some((msg.addr, via)),
//!     _ => None,
//! });
//! assert_eq!(received, Some((sent_from, Via::Original)));
//! ```

pub mod cdr;
pub mod context;
pub mod executor;
pub mod guard_condition;
pub mod intra_process;
pub mod loan;
pub mod message;
pub mod middleware;
pub mod msg;
pub mod node;
pub mod publisher;
pub mod qos;
pub mod ring_buffer;
pub mod subscription;
pub mod text;
pub mod timer;
pub mod trace;
pub mod transport;
pub(crate) mod wire;

pub use context::{Context, InitOptions};
pub use executor::{spin, SingleThreadedExecutor};
pub use message::{address_of, ConstSharedPtr, Message, MessageAddress, Serialized, SharedPtr, UniquePtr};
pub use node::{CreateError, IntraProcessSetting, Node, NodeError, NodeOptions, PublisherOptions, SubscriptionOptions};
pub use publisher::Publisher;
pub use qos::{Distro, Durability, History, QoS, Reliability};
pub use subscription::{IntraProcessBufferType, Subscription};
pub use timer::Timer;
