//! ipc-lab: ROS 2 intra-process communication, reproduced without ROS.
pub mod app;
pub mod cli;
pub mod demos;
pub mod engine;
pub mod i18n;
pub mod render;
