//! `camera_node`: reads frames on a thread of its own, writes its line on each, and moves a
//! new `Image` message per frame into `publish`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use super::{pid_and_ptr, ImageOptions};
use crate::demos::DemoError;
use crate::engine::loan::{ImageLayout, LoanedMessage};
use crate::engine::msg::builtin_interfaces::Time;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::{Context, MessageAddress, Node, NodeOptions, Publisher, QoS, UniquePtr};
use crate::image::capture::VideoCapture;
use crate::image::text::Pen;
use crate::image::Frame;
use crate::labels::Labels;

/// Node which captures images and publishes them. Images are annotated with this process's
/// id as well as the message's ptr.
pub struct CameraNode {
    pub node: Node,
    pub pub_: Publisher<Image>,
    canceled_: Arc<AtomicBool>,
    /// The reading loop, until [`CameraNode::start`] runs it on its thread.
    camera: Option<Loop>,
    thread_: Option<JoinHandle<()>>,
}

impl CameraNode {
    pub fn new(
        ctx: &Context,
        output: &str,
        cap: Box<dyn VideoCapture>,
        options: &ImageOptions,
    ) -> Result<Self, DemoError> {
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, "camera_node", node_options)?;
        // The capture was opened from `--source` (upstream opens device 0 here).
        if !cap.is_opened() {
            return Err(DemoError::CouldNotOpenVideoStream { exiting: "Exiting.." });
        }
        // Create a publisher on the output topic.
        let pub_ = node.create_publisher::<Image>(output, QoS::sensor_data())?;
        let canceled_ = Arc::new(AtomicBool::new(false));
        // Create the camera reading loop.
        let camera = Loop {
            pen: Pen::new(&node, options.text_scale),
            labels: options.labels.clone(),
            node: node.clone(),
            pub_: pub_.clone(),
            canceled: canceled_.clone(),
            cap,
            loan: options.loan,
        };
        Ok(Self { node, pub_, canceled_, camera: Some(camera), thread_: None })
    }

    /// Starts the camera reading loop on its own thread. Upstream's constructor starts it,
    /// so its first frames may go to nobody; here `main` starts it once every node of the
    /// pipeline exists, and the first frame finds everyone listening.
    pub fn start(&mut self) {
        if let Some(camera) = self.camera.take() {
            self.thread_ = Some(thread::spawn(move || camera.run()));
        }
    }
}

impl Drop for CameraNode {
    fn drop(&mut self) {
        // Make sure to join the thread on shutdown.
        self.canceled_.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread_.take() {
            let _ = thread.join();
        }
    }
}

/// What the camera's thread works with.
struct Loop {
    node: Node,
    pub_: Publisher<Image>,
    canceled: Arc<AtomicBool>,
    cap: Box<dyn VideoCapture>,
    pen: Pen,
    labels: Labels,
    /// Publish loaned messages.
    loan: bool,
}

impl Loop {
    fn run(mut self) {
        let context = self.node.context();
        let mut frame_ = Frame::default();
        // While running...
        while context.ok() && !self.canceled.load(Ordering::Relaxed) {
            // Capture a frame (a video file or `--frames` may end; upstream's camera never does).
            if !self.cap.read(&mut frame_) {
                // Let the frames already sent finish their way, then stop.
                context.shutdown_when_idle();
                return;
            }
            if self.loan {
                let loaned = frame_to_loan(&self.pub_, &mut frame_, &self.pen, &self.labels);
                self.node.trace_filled_loan(&loaned, frame_.data.len());
                self.pub_.publish_loaned(loaned); // Publish where it already is.
                continue;
            }
            let msg = frame_to_message(&mut frame_, &self.pen, &self.labels);
            self.node.trace_filled(&*msg, msg.data.len());
            self.pub_.publish(msg); // Publish.
        }
    }
}

/// `--loan`: the camera's work on one frame with rclcpp's loan API. The message is borrowed
/// from the publisher (`borrow_loaned_message`, publisher.hpp:203 rolling), and the frame is
/// packed into it where the readers will read it: the same one copy as [`frame_to_message`],
/// into shared memory instead of the heap.
fn frame_to_loan(pub_: &Publisher<Image>, frame_: &mut Frame, pen: &Pen, labels: &Labels) -> LoanedMessage<Image> {
    let layout = ImageLayout {
        width: frame_.cols,
        height: frame_.rows,
        step: frame_.step() as u32,
        encoding: frame_.encoding.ros_name().into(),
        frame_id: "camera_frame".into(),
    };
    let mut loaned = pub_.borrow_loaned_message(layout);
    // Put this process's id and the loaned message's pointer address on the image.
    let text = pid_and_ptr(labels, loaned.address());
    pen.draw_on_image(&mut frame_.mat(), &text, 20);
    loaned.set_stamp(Time::now());
    // The camera's own copy, from its capture buffer into the loan.
    loaned.data_mut().copy_from_slice(&frame_.data);
    loaned
}

/// The camera's work on one captured frame, as upstream's loop does it: a new message, this
/// process's id and the message's pointer on the frame, the frame packed into the message.
/// The bench's direct loop calls it too, with no engine around it.
pub fn frame_to_message(frame_: &mut Frame, pen: &Pen, labels: &Labels) -> UniquePtr<Image> {
    // Create a new unique_ptr to an Image message for storage.
    let mut msg: UniquePtr<Image> = Box::default();

    // Put this process's id and the msg's pointer address on the image.
    let text = pid_and_ptr(labels, msg.address());
    pen.draw_on_image(&mut frame_.mat(), &text, 20);
    // Pack the frame into the ROS image.
    msg.header.stamp = Time::now();
    msg.header.frame_id = "camera_frame".into();
    msg.height = frame_.rows;
    msg.width = frame_.cols;
    msg.encoding = frame_.encoding.ros_name().into();
    msg.is_bigendian = 0;
    msg.step = frame_.step() as u32;
    // The camera's own copy, from its capture buffer into the new message.
    msg.data.extend_from_slice(&frame_.data);
    msg
}
