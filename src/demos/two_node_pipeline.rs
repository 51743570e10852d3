//! `two_node_pipeline`: a producer publishes a new number every period, a consumer in the
//! same process receives it. With IPC on both print the same address.

use crate::engine::loan::Loaned;
use crate::engine::msg::std_msgs::Int32;
use crate::engine::{
    spin, Context, MessageAddress, Node, NodeOptions, Publisher, SingleThreadedExecutor, Subscription, Timer, UniquePtr,
};

use super::{printf, DemoError, DemoOptions};

/// Node that produces messages.
pub struct Producer {
    pub node: Node,
    pub pub_: Publisher<Int32>,
    pub timer_: Timer,
}

impl Producer {
    pub fn new(ctx: &Context, name: &str, output: &str, options: DemoOptions) -> Result<Self, DemoError> {
        if options.loan {
            return Self::with_loans(ctx, name, output, options);
        }
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, name, node_options)?;
        // Create a publisher on the output topic.
        let pub_ = node.create_publisher::<Int32>(output, options.qos)?; // upstream: 10
        let captured_pub = pub_.clone();
        let this = node.clone();
        let mut count = 0;
        // Create a timer which publishes on the output topic at ~1Hz.
        let timer_ = node.create_wall_timer(options.period, move || {
            let msg: UniquePtr<Int32> = Box::new(Int32 { data: count });
            count += 1;
            printf!(this, "Published message with value: {}, and address: {:#X}", msg.data, msg.address());
            captured_pub.publish(msg);
        });
        Ok(Self { node, pub_, timer_ })
    }

    /// `--loan` (not upstream): each number is written where the middleware lent memory for
    /// it (`borrow_loaned_message`), then published where it is (`publish(std::move(loaned))`).
    fn with_loans(ctx: &Context, name: &str, output: &str, options: DemoOptions) -> Result<Self, DemoError> {
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, name, node_options)?;
        let pub_ = node.create_publisher::<Int32>(output, options.qos)?;
        let captured_pub = pub_.clone();
        let this = node.clone();
        let mut count = 0;
        let timer_ = node.create_wall_timer(options.period, move || {
            let mut msg = captured_pub.borrow_loaned_message();
            msg.set_data(count);
            count += 1;
            printf!(this, "Published message with value: {}, and address: {:#X}", msg.data(), msg.address());
            captured_pub.publish_loaned(msg);
        });
        Ok(Self { node, pub_, timer_ })
    }
}

/// Node that consumes messages.
pub struct Consumer {
    pub node: Node,
    pub sub_: Subscription<Int32>,
}

impl Consumer {
    pub fn new(ctx: &Context, name: &str, input: &str, options: DemoOptions) -> Result<Self, DemoError> {
        if options.loan {
            return Self::with_loans(ctx, name, input, options);
        }
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, name, node_options)?;
        let this = node.clone();
        // Create a subscription on the input topic which prints on receipt of new messages.
        let sub_ = node.create_subscription(input, options.qos, move |msg: UniquePtr<Int32>| {
            printf!(this, " Received message with value: {}, and address: {:#X}", msg.data, msg.address());
        })?;
        Ok(Self { node, sub_ })
    }

    /// `--loan` (not upstream): the callback takes a read-only view of the number where the
    /// middleware put it, as rclcpp hands a message taken loaned.
    fn with_loans(ctx: &Context, name: &str, input: &str, options: DemoOptions) -> Result<Self, DemoError> {
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, name, node_options)?;
        let this = node.clone();
        let sub_ = node.create_subscription(input, options.qos, move |msg: Loaned<Int32>| {
            printf!(this, " Received message with value: {}, and address: {:#X}", msg.data(), msg.address());
        })?;
        Ok(Self { node, sub_ })
    }
}

/// `ipc-lab node producer`: the producer alone in this process.
pub fn producer_main(ctx: &Context, options: DemoOptions) -> Result<(), DemoError> {
    let producer = Producer::new(ctx, "producer", "number", options)?;
    spin(&producer.node);
    Ok(())
}

/// `ipc-lab node consumer`: the consumer alone in this process.
pub fn consumer_main(ctx: &Context, options: DemoOptions) -> Result<(), DemoError> {
    let consumer = Consumer::new(ctx, "consumer", "number", options)?;
    spin(&consumer.node);
    Ok(())
}

pub fn main(ctx: &Context, options: DemoOptions) -> Result<(), DemoError> {
    let mut executor = SingleThreadedExecutor::new();

    let producer = Producer::new(ctx, "producer", "number", options)?;
    let consumer = Consumer::new(ctx, "consumer", "number", options)?;

    executor.add_node(&producer.node);
    executor.add_node(&consumer.node);
    executor.spin();
    Ok(())
}
