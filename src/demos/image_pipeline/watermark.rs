//! `watermark_node`: receives an image, adds its line and a watermark text, and publishes
//! it again: the same message, drawn on in place.

use super::{pid_and_ptr, ImageOptions};
use crate::demos::{printf, DemoError};
use crate::engine::loan::ImageLayout;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::{Context, MessageAddress, Node, NodeOptions, Publisher, QoS, Subscription, UniquePtr};
use crate::image::text::Pen;
use crate::image::{ImageError, Mat};
use crate::labels::Labels;

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
        let loan = options.loan;
        // Create a subscription on the input topic.
        let sub_ = node.create_subscription(input, qos, move |mut msg: UniquePtr<Image>| {
            match annotate(&mut msg, &text, &pen, &labels) {
                Ok(()) if loan => publish_as_loan(&captured_pub, msg),
                Ok(()) => captured_pub.publish(msg), // Publish it along.
                // Upstream throws here; this node drops the frame and says why.
                Err(e) => printf!(this, "{e}"),
            }
        })?;
        Ok(Self { node, pub_, sub_ })
    }
}

/// The watermark's work on one message: its line and the watermark text, drawn on the
/// message's own pixels. The bench's direct loop calls it too, with no engine around it.
pub fn annotate(msg: &mut UniquePtr<Image>, text: &str, pen: &Pen, labels: &Labels) -> Result<(), ImageError> {
    // Annotate the image with the pid, pointer address, and the watermark text.
    let line = format!("{} {text}", pid_and_ptr(labels, msg.address()));
    // Create a cv::Mat from the image message (without copying).
    let mut cv_mat = Mat::wrap(msg)?;
    pen.draw_on_image(&mut cv_mat, &line, 40);
    Ok(())
}

/// `--loan`: the received message published as a loaned one. Its pixels are on the heap (the
/// camera's message, moved here by the intra-process manager), so they are copied into the
/// loan once; the processes that read it then copy nothing. Without shared memory to lend,
/// the message goes on as it is.
fn publish_as_loan(pub_: &Publisher<Image>, msg: UniquePtr<Image>) {
    let layout = ImageLayout {
        width: msg.width,
        height: msg.height,
        step: msg.step,
        encoding: msg.encoding.clone(),
        frame_id: msg.header.frame_id.clone(),
    };
    let mut loaned = pub_.borrow_loaned_message(layout);
    // The one copy, reported by the publisher with the loan it is for.
    if !loaned.copy_data_from(&msg) {
        return pub_.publish(msg);
    }
    loaned.set_stamp(msg.header.stamp);
    pub_.publish_loaned(loaned);
}
