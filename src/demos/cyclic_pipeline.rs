//! `cyclic_pipeline`: two pipes pass ONE message back and forth, each adding 1. With IPC on
//! its address never changes.

use std::time::Duration;

use crate::engine::msg::std_msgs::Int32;
use crate::engine::transport::SCAN_PERIOD;
use crate::engine::{
    spin, Context, MessageAddress, Node, NodeOptions, Publisher, SingleThreadedExecutor, Subscription, UniquePtr,
};

use super::{printf, DemoError, DemoOptions};

pub struct IncrementerPipe {
    pub node: Node,
    pub pub_: Publisher<Int32>,
    pub sub: Subscription<Int32>,
}

impl IncrementerPipe {
    pub fn new(ctx: &Context, name: &str, in_: &str, out: &str, options: DemoOptions) -> Result<Self, DemoError> {
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, name, node_options)?;
        // Create a publisher on the output topic.
        let pub_ = node.create_publisher::<Int32>(out, options.qos)?; // upstream: 10
        let captured_pub = pub_.clone();
        let (this, context) = (node.clone(), ctx.clone());
        // Create a subscription on the input topic.
        let sub = node.create_subscription(in_, options.qos, move |mut msg: UniquePtr<Int32>| {
            printf!(this, "Received message with value:         {}, and address: {:#X}", msg.data, msg.address());
            printf!(this, "  sleeping for 1 second...");
            if !context.sleep_for(options.period) {
                return; // Return if the sleep failed (e.g. on ctrl-c).
            }
            printf!(this, "  done.");
            msg.data += 1; // Increment the message's data.
            printf!(this, "Incrementing and sending with value: {}, and address: {:#X}", msg.data, msg.address());
            captured_pub.publish(msg); // Send the message along to the output topic.
        })?;
        Ok(Self { node, pub_, sub })
    }
}

pub fn main(ctx: &Context, options: DemoOptions) -> Result<(), DemoError> {
    let mut executor = SingleThreadedExecutor::new();

    // Create a simple loop by connecting the in and out topics of two IncrementerPipe's.
    // The expectation is that the address of the message being passed between them never changes.
    let pipe1 = IncrementerPipe::new(ctx, "pipe1", "topic1", "topic2", options)?;
    let pipe2 = IncrementerPipe::new(ctx, "pipe2", "topic2", "topic1", options)?;
    // Wait for subscriptions to be established to avoid race conditions.
    ctx.sleep_for(options.period);
    publish_first_message(ctx, &pipe1);

    executor.add_node(&pipe1.node);
    executor.add_node(&pipe2.node);
    executor.spin();
    Ok(())
}

/// Publish the first message (kicking off the cycle).
fn publish_first_message(ctx: &Context, pipe1: &IncrementerPipe) {
    let msg: UniquePtr<Int32> = Box::new(Int32 { data: 42 });
    printf!(ctx, "Published first message with value:  {}, and address: {:#X}", msg.data, msg.address());
    pipe1.pub_.publish(msg);
}

/// `ipc-lab node pipe1`: pipe1 alone in this process. Like upstream's `main` it sends the
/// first message, but only once pipe2 (in another process) has been discovered: a fixed
/// second may be too short for discovery, and a message sent to nobody ends the cycle.
pub fn pipe1_main(ctx: &Context, options: DemoOptions) -> Result<(), DemoError> {
    let pipe1 = IncrementerPipe::new(ctx, "pipe1", "topic1", "topic2", options)?;
    while pipe1.pub_.get_subscription_count() == 0 {
        if !ctx.sleep_for(Duration::from_millis(50)) {
            return Ok(());
        }
    }
    // pipe2 must discover pipe1 as well, or the incremented message comes back to nobody.
    if !ctx.sleep_for(2 * SCAN_PERIOD) {
        return Ok(());
    }
    publish_first_message(ctx, &pipe1);
    spin(&pipe1.node);
    Ok(())
}

/// `ipc-lab node pipe2`: pipe2 alone in this process.
pub fn pipe2_main(ctx: &Context, options: DemoOptions) -> Result<(), DemoError> {
    let pipe2 = IncrementerPipe::new(ctx, "pipe2", "topic2", "topic1", options)?;
    spin(&pipe2.node);
    Ok(())
}
