"""A real Cyclone DDS peer for ipc-lab's interop tests (tests/dds_interop.rs).

It plays a ROS 2 node the way rmw_cyclonedds_cpp puts one on the wire: the same DDS topic
and type names, XCDR1, and the QoS given on the command line. Every line it prints is one
JSON object, so the Rust test can check what it saw. It never runs outside the network
namespace the test makes (only loopback).
"""

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass

from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication, BuiltinTopicDcpsSubscription
from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.types import array, int32, sequence, uint8, uint32
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration


@dataclass
class Int32_(IdlStruct, typename="std_msgs::msg::dds_::Int32_"):
    data: int32


@dataclass
class Time_(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: int32
    nanosec: uint32


@dataclass
class Header_(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: Time_
    frame_id: str


@dataclass
class Image_(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    header: Header_
    height: uint32
    width: uint32
    encoding: str
    is_bigendian: uint8
    step: uint32
    data: sequence[uint8]


@dataclass
class OtherImage_(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    """Same name as ROS's Image, another layout: only two of its fields."""
    height: uint32
    width: uint32


@dataclass
class GarbageImage_(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    """Same name again, and bytes that decode as nothing: a length of 0xffffffff for frame_id."""
    blob: sequence[uint8]


@dataclass
class Gid_(IdlStruct, typename="rmw_dds_common::msg::dds_::Gid_"):
    data: array[uint8, 16]


def say(**fields):
    print(json.dumps(fields), flush=True)


def qos(reliable, depth, transient_local=False, user_data=None):
    policies = [
        Policy.Reliability.Reliable(duration(seconds=10)) if reliable else Policy.Reliability.BestEffort,
        Policy.History.KeepLast(depth),
        Policy.Durability.TransientLocal if transient_local else Policy.Durability.Volatile,
        Policy.DataRepresentation(use_cdrv0_representation=True),
    ]
    if user_data is not None:
        policies.append(Policy.Userdata(user_data.encode()))
    return Qos(*policies)


def describe(sample):
    """What a discovered endpoint of ipc-lab says about itself."""
    q = sample.qos
    user_data = q[Policy.Userdata].data if Policy.Userdata in q else b""
    return dict(
        topic=sample.topic_name,
        type=sample.type_name,
        reliability=type(q[Policy.Reliability]).__name__,
        history=str(q[Policy.History]),
        durability=str(q[Policy.Durability]),
        user_data=user_data.decode(errors="replace"),
    )


def report_endpoints(participant, builtin, topic):
    reader = BuiltinDataReader(participant, builtin)
    deadline = time.time() + 10
    while time.time() < deadline:
        for sample in reader.take(N=20):
            if sample.topic_name == topic:
                say(endpoint=describe(sample))
                return
        time.sleep(0.05)
    say(error=f"no remote endpoint on {topic}")


def image(seed, width=1920, height=1080):
    pixels = bytes((seed + i) % 251 for i in range(256)) * (width * height * 3 // 256 + 1)
    return Image_(Header_(Time_(1, 2), "camera_frame"), height, width, "bgr8", 0, width * 3, pixels[: width * height * 3])


def subscribe(participant, args, kind):
    topic = Topic(participant, args.topic, kind)
    reader = DataReader(participant, topic, qos=qos(args.reliable, args.depth, args.transient_local))
    say(ready=True)
    report_endpoints(participant, BuiltinTopicDcpsPublication, args.topic)
    got = 0
    deadline = time.time() + args.timeout
    while got < args.count and time.time() < deadline:
        for sample in reader.take(N=10):
            got += 1
            if kind is Int32_:
                say(received=sample.data)
            else:
                data = bytes(sample.data)
                say(received=dict(width=sample.width, height=sample.height, encoding=sample.encoding,
                                  step=sample.step, frame_id=sample.header.frame_id,
                                  sha256=hashlib.sha256(data).hexdigest(), size=len(data)))
        time.sleep(0.01)
    say(done=got)


def sample(kind, i):
    if kind is Int32_:
        return Int32_(i)
    if kind is OtherImage_:
        return OtherImage_(1080, 1920)
    if kind is GarbageImage_:
        return GarbageImage_(bytes([0xFF]) * 64)
    return image(i)


def publish(participant, args, kind):
    topic = Topic(participant, args.topic, kind)
    writer = DataWriter(participant, topic, qos=qos(args.reliable, args.depth, user_data=args.user_data))
    deadline = time.time() + args.timeout
    while writer.get_matched_subscriptions() == [] and time.time() < deadline:
        time.sleep(0.05)
    report_endpoints(participant, BuiltinTopicDcpsSubscription, args.topic)
    for i in range(args.count):
        writer.write(sample(kind, i))
        say(sent=i)
        time.sleep(args.period)
    # Reliable samples are acknowledged before the writer goes.
    time.sleep(1)
    say(done=args.count)


def graph(participant, args):
    """Which nodes ros_discovery_info names, as `ros2 node list` would."""
    # The node list is read as raw GIDs and names; the type is declared as rmw_dds_common does.
    @dataclass
    class NodeEntitiesInfo_(IdlStruct, typename="rmw_dds_common::msg::dds_::NodeEntitiesInfo_"):
        node_namespace: str
        node_name: str
        reader_gid_seq: sequence[Gid_]
        writer_gid_seq: sequence[Gid_]

    @dataclass
    class ParticipantEntitiesInfo_(IdlStruct, typename="rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_"):
        gid: Gid_
        node_entities_info_seq: sequence[NodeEntitiesInfo_]

    topic = Topic(participant, "ros_discovery_info", ParticipantEntitiesInfo_)
    reader = DataReader(participant, topic, qos=qos(True, 1, transient_local=True))
    say(ready=True)
    report_endpoints(participant, BuiltinTopicDcpsPublication, "ros_discovery_info")
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        for sample in reader.take(N=10):
            nodes = [dict(namespace=n.node_namespace, name=n.node_name,
                          readers=len(n.reader_gid_seq), writers=len(n.writer_gid_seq))
                     for n in sample.node_entities_info_seq]
            if nodes or args.follow:
                say(nodes=nodes, gid=bytes(sample.gid.data).hex())
                if not args.follow:
                    return
        time.sleep(0.05)
    if not args.follow:
        say(error="no ros_discovery_info")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["sub-int32", "pub-int32", "sub-image", "pub-image", "pub-other-image",
                                           "pub-garbage-image", "graph"])
    parser.add_argument("--topic", default="rt/number")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--best-effort", dest="reliable", action="store_false")
    parser.add_argument("--transient-local", action="store_true", help="sub-*: a reader that asks for past samples")
    parser.add_argument("--period", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--domain", type=int, default=0)
    parser.add_argument("--user-data", help="the writer's user data (a type hash as ROS 2 sends it)")
    parser.add_argument("--follow", action="store_true", help="graph: every sample, empty ones too, until --timeout")
    args = parser.parse_args()
    participant = DomainParticipant(args.domain)
    if args.role == "graph":
        graph(participant, args)
    else:
        kinds = {"int32": Int32_, "image": Image_, "other-image": OtherImage_, "garbage-image": GarbageImage_}
        kind = kinds[args.role.split("-", 1)[1]]
        (subscribe if args.role.startswith("sub") else publish)(participant, args, kind)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
