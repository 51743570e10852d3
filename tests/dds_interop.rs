//! ipc-lab on DDS beside a real Cyclone DDS peer (the PyPI `cyclonedds` binding, pinned),
//! as a ROS 2 node on rmw_cyclonedds_cpp would meet it: names, type names, QoS, type hash
//! and bytes are checked on both sides. Every exchange runs inside a network namespace
//! with only loopback (`unshare -n`), so no packet leaves the machine.
//!
//! Without the `dds` feature there is no DDS library to talk through: the tests left check
//! the names a peer would be looking for, and that asking for DDS is one clear line.

#[cfg(not(feature = "dds"))]
#[test]
fn dds_interop_needs_the_dds_feature() {
    use ipc_lab::engine::transport::dds::names;
    println!("skipped: the DDS interop tests need `cargo test --features dds` (Cyclone DDS is not built in)");
    assert_eq!(names::dds_topic("number"), "rt/number");
    assert_eq!(names::dds_type_name("sensor_msgs/msg/Image").as_deref(), Some("sensor_msgs::msg::dds_::Image_"));
}

mod common;

/// `--transport dds` in a build without DDS, asked for with `--transport dds` or as ROS 2
/// asks (`RMW_IMPLEMENTATION`), by any command that has a transport: one line, exit 2.
#[cfg(not(feature = "dds"))]
#[test]
fn dds_in_a_build_without_it_is_one_line_and_exit_2() {
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
    let no_dds = "this ipc-lab was built without DDS: --transport dds (or RMW_IMPLEMENTATION=rmw_cyclonedds_cpp) \
                  needs a build with the `dds` feature";
    for (args, rmw) in [
        (&["--lang", "en", "two-node", "--split", "--transport", "dds"][..], None),
        (&["--lang", "en", "cyclic"][..], Some("rmw_cyclonedds_cpp")),
        (&["--lang", "en", "node", "producer", "--transport", "dds"][..], None),
        (&["--lang", "en", "node", "image_view_node"][..], Some("rmw_cyclonedds_cpp")),
        (&["--lang", "en", "echo", "number", "--transport", "dds"][..], None),
    ] {
        let (code, stderr) = run(args, rmw);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.lines().next().unwrap().contains(no_dds), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked at"));
    }
    let (code, stderr) = run(&["--lang", "ko", "node", "producer", "--transport", "dds"], None);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("이 ipc-lab은 DDS 없이 빌드되었습니다"), "{stderr}");
    // Another RMW_IMPLEMENTATION is not Cyclone: the socket, as before.
    let (code, stderr) = run(&["--lang", "en", "two-node", "--count", "1", "--period", "0"], Some("rmw_fastrtps_cpp"));
    assert_eq!(code, Some(0), "{stderr}");
}

#[cfg(feature = "dds")]
#[path = "dds/interop.rs"]
mod interop;
