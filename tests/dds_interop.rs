//! ipc-lab on DDS beside a real Cyclone DDS peer (the PyPI `cyclonedds` binding, pinned),
//! as a ROS 2 node on rmw_cyclonedds_cpp would meet it: names, type names, QoS, type hash
//! and bytes are checked on both sides. Every exchange runs inside a network namespace
//! with only loopback (`unshare -n`), so no packet leaves the machine.
//!
//! Without the `dds` feature there is no DDS library to talk through: the one test left
//! says so and checks the names a peer would be looking for.

#[cfg(not(feature = "dds"))]
#[test]
fn dds_interop_needs_the_dds_feature() {
    use ipc_lab::engine::transport::dds::names;
    println!("skipped: the DDS interop tests need `cargo test --features dds` (Cyclone DDS is not built in)");
    assert_eq!(names::dds_topic("number"), "rt/number");
    assert_eq!(names::dds_type_name("sensor_msgs/msg/Image").as_deref(), Some("sensor_msgs::msg::dds_::Image_"));
}

#[cfg(feature = "dds")]
#[path = "dds/interop.rs"]
mod interop;
