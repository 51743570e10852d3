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

mod common;

/// `--transport dds` where this build or this command has no DDS: one line, exit 2. With
/// the feature, `two-node` has no DDS yet; without it, neither has `node producer`, asked
/// for with `--transport dds` or as ROS 2 asks (`RMW_IMPLEMENTATION`).
#[test]
fn dds_where_there_is_none_is_one_line_and_exit_2() {
    let runtime = tempfile::tempdir().unwrap();
    let run = |args: &[&str], rmw: Option<&str>| {
        let mut command = common::command(runtime.path());
        command.args(args).env_remove("RMW_IMPLEMENTATION");
        if let Some(rmw) = rmw {
            command.env("RMW_IMPLEMENTATION", rmw);
        }
        let out = command.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let two_node = run(&["--lang", "en", "two-node", "--transport", "dds"], None);
    let expected = if cfg!(feature = "dds") {
        "--transport dds is not available for two-node yet"
    } else {
        "this ipc-lab was built without DDS: --transport dds needs a build with the `dds` feature"
    };
    assert_eq!(two_node.0, Some(2), "{}", two_node.1);
    assert!(two_node.1.lines().next().unwrap().contains(expected), "{}", two_node.1);
    assert!(!two_node.1.contains("panicked at"));
    if !cfg!(feature = "dds") {
        let no_dds = "--transport dds needs a build with the `dds` feature";
        for (args, rmw) in [
            (&["--lang", "en", "node", "producer", "--transport", "dds"][..], None),
            (&["--lang", "en", "node", "producer"][..], Some("rmw_cyclonedds_cpp")),
        ] {
            let (code, stderr) = run(args, rmw);
            assert_eq!(code, Some(2), "{stderr}");
            assert!(stderr.lines().next().unwrap().contains(no_dds), "{stderr}");
        }
        let (code, stderr) = run(&["--lang", "ko", "node", "producer", "--transport", "dds"], None);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("이 ipc-lab은 DDS 없이 빌드되었습니다"), "{stderr}");
    }
}

#[cfg(feature = "dds")]
#[path = "dds/interop.rs"]
mod interop;
