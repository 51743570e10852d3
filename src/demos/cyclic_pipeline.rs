//! `cyclic_pipeline`: two pipes pass ONE message back and forth, each adding 1. With IPC on
//! its address never changes.

use crate::engine::msg::std_msgs::Int32;
use crate::engine::{
    Context, MessageAddress, Node, NodeOptions, Publisher, SingleThreadedExecutor, Subscription, UniquePtr,
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
        let pub_ = node.create_publisher::<Int32>(out, 10)?;
        let captured_pub = pub_.clone();
        let (this, context) = (node.clone(), ctx.clone());
        // Create a subscription on the input topic.
        let sub = node.create_subscription(in_, 10, move |mut msg: UniquePtr<Int32>| {
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
    ctx.sleep_for(options.period); // Wait for subscriptions to be established to avoid race conditions.
                                   // Publish the first message (kicking off the cycle).
    let msg: UniquePtr<Int32> = Box::new(Int32 { data: 42 });
    printf!(ctx, "Published first message with value:  {}, and address: {:#X}", msg.data, msg.address());
    pipe1.pub_.publish(msg);

    executor.add_node(&pipe1.node);
    executor.add_node(&pipe2.node);
    executor.spin();
    Ok(())
}
