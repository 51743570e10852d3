//! The message types the demos use, named and laid out like their ROS 2 originals.

pub mod builtin_interfaces;
pub mod sensor_msgs;
pub mod std_msgs;
