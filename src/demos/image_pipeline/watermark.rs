//! `watermark_node`: receives an image, adds its line and a watermark text, and publishes
//! it again: the same message, drawn on in place.

use super::{getpid, ImageOptions};
use crate::demos::{printf, DemoError};
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::{Context, MessageAddress, Node, NodeOptions, Publisher, QoS, Subscription, UniquePtr};
use crate::image::text::Pen;
use crate::image::Mat;

/// Node that receives an image, adds some text as a watermark, and publishes it again.
pub struct WatermarkNode {
    pub node: Node,
    pub pub_: Publisher<Image>,
    pub sub_: Subscription<Image>,
}

impl WatermarkNode {
    pub fn new(
        ctx: &Context,
        input: &str,
        output: &str,
        text: &str,
        options: &ImageOptions,
    ) -> Result<Self, DemoError> {
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, "watermark_node", node_options)?;
        let qos = QoS::sensor_data();
        // Create a publisher on the output topic.
        let pub_ = node.create_publisher::<Image>(output, qos)?;
        let captured_pub = pub_.clone();
        let (this, pen, labels, text) =
            (node.clone(), Pen::new(&node, options.text_scale), options.labels.clone(), text.to_string());
        // Create a subscription on the input topic.
        let sub_ = node.create_subscription(input, qos, move |mut msg: UniquePtr<Image>| {
            // Annotate the image with the pid, pointer address, and the watermark text.
            let line = format!("pid: {}, ptr: {} {}", labels.pid(getpid()), labels.ptr(getpid(), msg.address()), text);
            // Create a cv::Mat from the image message (without copying).
            match Mat::wrap(&mut msg) {
                Ok(mut cv_mat) => pen.draw_on_image(&mut cv_mat, &line, 40),
                // Upstream throws here; this node drops the frame and says why.
                Err(e) => return printf!(this, "{e}"),
            }
            captured_pub.publish(msg); // Publish it along.
        })?;
        Ok(Self { node, pub_, sub_ })
    }
}
