//! `image_view_node`: receives images, adds its line, and shows them in a window titled
//! with its name. ESC or `q` quits; space pauses until the next space.

use super::{pid_and_ptr, ImageOptions, ViewerCallback};
use crate::demos::{printf, DemoError};
use crate::engine::loan::Loaned;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::trace::CopyReason;
use crate::engine::{
    ConstSharedPtr, Context, MessageAddress, Node, NodeOptions, QoS, SharedPtr, Subscription, UniquePtr,
};
use crate::image::text::Pen;
use crate::image::view::Window;
use crate::image::{Frame, Mat};

/// Node which receives sensor_msgs/Image messages and renders them.
pub struct ImageViewNode {
    pub node: Node,
    pub sub_: Subscription<Image>,
}

impl ImageViewNode {
    pub fn new(
        ctx: &Context,
        input: &str,
        node_name: &str,
        window: Box<dyn Window>,
        options: &ImageOptions,
    ) -> Result<Self, DemoError> {
        let node_options = NodeOptions::default().use_intra_process_comms(options.use_intra_process_comms);
        let node = Node::new(ctx, node_name, node_options)?;
        let mut view = View { node: node.clone(), pen: Pen::new(&node, options.text_scale), window };
        let labels = options.labels.clone();
        // Create a subscription on the input topic. The callback's parameter decides
        // whether this view takes the message (and a second view then gets a copy), or
        // shares it with the other view.
        let sub_ = match options.viewer_callback {
            ViewerCallback::Unique => {
                node.create_subscription(input, QoS::sensor_data(), move |mut msg: UniquePtr<Image>| {
                    let line = pid_and_ptr(&labels, msg.address());
                    let addr = msg.address();
                    // Create a cv::Mat from the image message (without copying).
                    match Mat::wrap(&mut msg) {
                        Ok(mut cv_mat) => view.annotate_and_show(&mut cv_mat, &line, addr),
                        Err(e) => printf!(view.node, "{e}"),
                    }
                })?
            }
            // Ardent to Galactic: an owner that draws into its own message, as `Unique` does.
            ViewerCallback::SharedPtr => {
                node.create_subscription(input, QoS::sensor_data(), move |mut msg: SharedPtr<Image>| {
                    let addr = msg.address();
                    let line = pid_and_ptr(&labels, addr);
                    // The callback's own message: IPC gave each owner one.
                    let Some(image) = msg.get_mut() else { return };
                    // Create a cv::Mat from the image message (without copying).
                    match Mat::wrap(image) {
                        Ok(mut cv_mat) => view.annotate_and_show(&mut cv_mat, &line, addr),
                        Err(e) => printf!(view.node, "{e}"),
                    }
                })?
            }
            ViewerCallback::ConstShared => {
                node.create_subscription(input, QoS::sensor_data(), move |msg: ConstSharedPtr<Image>| {
                    let line = pid_and_ptr(&labels, msg.address());
                    // A shared message is read-only: Rust will not write through this pointer,
                    // where C++ lets both views draw into the one buffer they share. So this
                    // view copies the pixels to draw its line on them, and says so.
                    match Frame::from_image(&msg) {
                        Ok(mut shown) => {
                            let (into, bytes) = (shown.data_address(), shown.data_len());
                            view.node.trace_copied(&**msg, into, bytes, CopyReason::ReadOnlyToDrawOn);
                            view.annotate_and_show(&mut shown.mat(), &line, msg.address());
                        }
                        Err(e) => printf!(view.node, "{e}"),
                    }
                })?
            }
            ViewerCallback::Loaned => {
                node.create_subscription(input, QoS::sensor_data(), move |msg: Loaned<Image>| {
                    // The address of the message in THIS process: in another process's slot,
                    // mapped here at an address of its own.
                    let line = pid_and_ptr(&labels, msg.address());
                    // Read-only like a ConstSharedPtr (and mapped read-only from another
                    // process): this view copies the pixels to draw its line, and says so.
                    match Frame::from_loaned(&msg) {
                        Ok(mut shown) => {
                            let (into, bytes) = (shown.data_address(), shown.data_len());
                            view.node.trace_copied_loaned(&msg, into, bytes, CopyReason::ReadOnlyToDrawOn);
                            view.annotate_and_show(&mut shown.mat(), &line, msg.address());
                        }
                        Err(e) => printf!(view.node, "{e}"),
                    }
                })?
            }
        };
        Ok(Self { node, sub_ })
    }
}

/// What a view's callback works with.
struct View {
    node: Node,
    pen: Pen,
    window: Box<dyn Window>,
}

impl View {
    fn annotate_and_show(&mut self, cv_mat: &mut Mat<'_>, line: &str, addr: usize) {
        let context = self.node.context();
        annotate(cv_mat, line, &self.pen);
        // Show the image.
        if self.window.imshow(self.node.get_name(), cv_mat).is_err() {
            // The window keeps the error for the program to report; nothing more to show.
            context.shutdown();
            return;
        }
        self.node.trace_shown(addr);
        let mut key = self.window.wait_key(1); // Look for key presses.
        if key == 27 /* ESC */ || key == i32::from(b'q') {
            context.shutdown();
        }
        if key == i32::from(b' ') {
            // If <space> then pause until another <space> (or Ctrl-C).
            key = -1;
            while key != i32::from(b' ') && context.ok() {
                key = self.window.wait_key(1);
            }
        }
    }
}

/// The view's drawing step: its line on the frame it is about to show. The bench's direct
/// loop calls it too, with no engine around it.
pub fn annotate(cv_mat: &mut Mat<'_>, line: &str, pen: &Pen) {
    // Annotate with the pid and pointer address.
    pen.draw_on_image(cv_mat, line, 60);
}
