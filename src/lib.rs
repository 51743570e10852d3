//! ipc-lab: ROS 2 intra-process communication, reproduced without ROS.
pub mod demos;
pub mod engine;
