//! ROS names as DDS sees them: topic `/number` is DDS topic `rt/number`, type
//! `std_msgs/msg/Int32` is DDS type `std_msgs::msg::dds_::Int32_`.

/// The prefix of every ROS topic on DDS ("ROS topic"), `ROS_TOPIC_PREFIX` in
/// rmw_cyclonedds_cpp/src/namespace_prefix.hpp line 18 (jazzy). Services use `rq`/`rr`; ipc-lab has
/// none.
pub const ROS_TOPIC_PREFIX: &str = "rt";

/// The DDS topic of the ROS graph, created without the prefix
/// (`avoid_ros_namespace_conventions`, rmw_cyclonedds_cpp/src/rmw_node.cpp line 1413 (jazzy)).
pub const DISCOVERY_TOPIC: &str = "ros_discovery_info";

/// The fully qualified ROS name of a topic: the engine's nodes live in the root
/// namespace `/`, so a relative `number` is `/number`.
pub fn fully_qualified(topic: &str) -> String {
    if topic.starts_with('/') {
        topic.to_owned()
    } else {
        format!("/{topic}")
    }
}

/// The DDS topic name of a ROS topic: the prefix, then the fully qualified name
/// (`make_fqtopic`, rmw_cyclonedds_cpp/src/rmw_node.cpp lines 2112-2121 (jazzy)).
pub fn dds_topic(topic: &str) -> String {
    format!("{ROS_TOPIC_PREFIX}{}", fully_qualified(topic))
}

/// The ROS topic of a DDS topic, if it is one (`rt/number` -> `/number`).
pub fn ros_topic(dds_topic: &str) -> Option<&str> {
    dds_topic.strip_prefix(ROS_TOPIC_PREFIX).filter(|t| t.starts_with('/'))
}

/// The DDS type name of a ROS message type: the package and `msg` as C++ namespaces, then
/// `dds_`, then the name with a trailing underscore (`create_type_name`,
/// rmw_cyclonedds_cpp/src/serdata.cpp lines 659-677 (jazzy)). `None` for a name that is not
/// `package/msg/Name`.
pub fn dds_type_name(ros_type: &str) -> Option<String> {
    let mut parts = ros_type.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(package), Some("msg"), Some(name), None) if !package.is_empty() && !name.is_empty() => {
            Some(format!("{package}::msg::dds_::{name}_"))
        }
        _ => None,
    }
}

/// The ROS type name of a DDS type name, the inverse of [`dds_type_name`].
pub fn ros_type_name(dds_type: &str) -> Option<String> {
    let rest = dds_type.strip_suffix('_')?;
    let (package, name) = rest.split_once("::msg::dds_::")?;
    (!package.is_empty() && !name.is_empty() && !package.contains(':') && !name.contains(':'))
        .then(|| format!("{package}/msg/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msg::sensor_msgs::Image;
    use crate::engine::msg::std_msgs::{Int32, String as RosString};
    use crate::engine::Message;

    /// The demos' topics, relative or absolute, get the `rt` prefix.
    #[test]
    fn topics_get_the_ros_prefix() {
        assert_eq!(dds_topic("number"), "rt/number");
        assert_eq!(dds_topic("/number"), "rt/number");
        assert_eq!(dds_topic("watermarked_image"), "rt/watermarked_image");
        assert_eq!(ros_topic("rt/image"), Some("/image"));
        assert_eq!(ros_topic("ros_discovery_info"), None);
        assert_eq!(ros_topic("rtx"), None);
    }

    /// The engine's message types, as rmw_cyclonedds names them.
    #[test]
    fn type_names_are_rmw_cyclonedds_names() {
        assert_eq!(dds_type_name(Int32::TYPE_NAME).unwrap(), "std_msgs::msg::dds_::Int32_");
        assert_eq!(dds_type_name(Image::TYPE_NAME).unwrap(), "sensor_msgs::msg::dds_::Image_");
        assert_eq!(dds_type_name(RosString::TYPE_NAME).unwrap(), "std_msgs::msg::dds_::String_");
        assert_eq!(
            dds_type_name("rmw_dds_common/msg/ParticipantEntitiesInfo").unwrap(),
            "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_"
        );
        assert_eq!(dds_type_name("std_msgs/Int32"), None);
        assert_eq!(dds_type_name("std_srvs/srv/Empty"), None);
    }

    #[test]
    fn type_names_map_back() {
        assert_eq!(ros_type_name("sensor_msgs::msg::dds_::Image_").unwrap(), "sensor_msgs/msg/Image");
        assert_eq!(ros_type_name("sensor_msgs::msg::Image"), None);
        assert_eq!(ros_type_name("a::b::msg::dds_::Image_"), None);
    }
}
