//! One JSON object per trace event per line, for tools and tests.
//!
//! Fields: `event` (`published`, `received`, `copied`, `serialized`, `deserialized`,
//! `overwritten`, `printed`; between processes `written`, `read`, `shm_written`, `mapped`,
//! `peer_lost`, `rejected`; from the image pipeline `filled`, `drawn`, `shown`), `pid`,
//! `node`, and for message events `topic`, `type`, `addr` (hex string, or a label with
//! `--stable`), `payload_addr` (`buf#N` with `--stable`), `value`, `publisher_pid`,
//! `publisher`, `seq`, plus `bytes` (bytes copied), `via`, `reason`, `from`, `to_pid`,
//! `peer_pid` where they apply; a message from another process also has `from_pid`,
//! `from_node`, `from_addr` and `serialized_bytes`; `line` for `printed`, `y` and `text` for
//! `drawn`, and `ipc` (`on`/`off`) with `--ipc both`. A `filled` event's `bytes` are the producer's own work
//! (the camera copying its frame into a new message), not a copy on the way; a `mapped`
//! event copies nothing and says how much it mapped in `mapped_bytes`.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{RenderContext, Renderer};
use crate::labels::Labels;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::engine::trace::{
    CopyReason, EventKind, LineText, MessageRef, Origin, Publication, ShortText, TraceEvent, Via,
};

pub struct Json {
    pub cx: RenderContext,
}

/// A copy's reason as JSON names it.
fn reason_name(reason: CopyReason) -> &'static str {
    match reason {
        CopyReason::NotLast => "not_last",
        CopyReason::SharedForSharedSubscriptions => "shared_for_shared_subscriptions",
        CopyReason::SharedForInterProcess => "shared_for_inter_process",
        CopyReason::PublishByReference => "publish_by_reference",
        CopyReason::UniqueFromSharedBuffer => "unique_from_shared_buffer",
        CopyReason::UniqueFromTaken => "unique_from_taken",
        CopyReason::ReadOnlyToDrawOn => "read_only_to_draw_on",
    }
}

fn via_name(via: Via) -> &'static str {
    match via {
        Via::Original => "original",
        Via::Copy(_) => "copy",
        Via::Middleware => "middleware",
    }
}

/// The event's name in JSON.
fn event_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Published { .. } => "published",
        EventKind::Received { .. } => "received",
        EventKind::Copied { .. } => "copied",
        EventKind::Serialized { .. } => "serialized",
        EventKind::Deserialized { .. } => "deserialized",
        EventKind::Overwritten { .. } => "overwritten",
        EventKind::Written { .. } => "written",
        EventKind::Read { .. } => "read",
        EventKind::SharedMemoryWritten { .. } => "shm_written",
        EventKind::Mapped { .. } => "mapped",
        EventKind::PeerLost { .. } => "peer_lost",
        EventKind::Rejected { .. } => "rejected",
        EventKind::Printed { .. } => "printed",
        EventKind::Filled { .. } => "filled",
        EventKind::Drawn { .. } => "drawn",
        EventKind::Shown { .. } => "shown",
    }
}

/// A pid as JSON: a number, or a label string with `--stable`.
fn pid_value(labels: &Labels, pid: u32) -> Value {
    if labels.addr_is_label() {
        json!(labels.pid(pid))
    } else {
        json!(pid)
    }
}

/// The event as a JSON object.
pub fn to_json(event: &TraceEvent, labels: &Labels) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("event".into(), json!(event_name(&event.kind)));
    obj.insert("pid".into(), pid_value(labels, event.pid));
    obj.insert("node".into(), json!(&*event.node));
    if let Some(msg) = event.kind.message() {
        obj.insert("topic".into(), json!(&*msg.topic));
        obj.insert("type".into(), json!(msg.type_name));
        obj.insert("addr".into(), json!(labels.addr(event.pid, msg.addr)));
        if let Some(payload) = msg.payload_addr {
            obj.insert("payload_addr".into(), json!(labels.buffer(event.pid, payload)));
        }
        obj.insert("value".into(), json!(msg.value.as_str()));
        obj.insert("publisher_pid".into(), pid_value(labels, msg.publication.pid));
        obj.insert("publisher".into(), json!(msg.publication.publisher));
        obj.insert("seq".into(), json!(msg.publication.seq));
    }
    if let Some(bytes) = event.kind.bytes_copied() {
        obj.insert("bytes".into(), json!(bytes));
    }
    match &event.kind {
        EventKind::Received { via, origin, .. } => {
            obj.insert("via".into(), json!(via_name(*via)));
            if let Via::Copy(reason) = via {
                obj.insert("reason".into(), json!(reason_name(*reason)));
            }
            if let Some(origin) = origin {
                obj.insert("from_pid".into(), pid_value(labels, origin.pid));
                obj.insert("from_node".into(), json!(&*origin.node));
                obj.insert("from_addr".into(), json!(labels.addr(origin.pid, origin.addr)));
                obj.insert("serialized_bytes".into(), json!(origin.serialized_bytes));
            }
        }
        EventKind::Copied { reason, from, .. } => {
            obj.insert("reason".into(), json!(reason_name(*reason)));
            obj.insert("from".into(), json!(labels.addr(event.pid, *from)));
        }
        EventKind::Written { to_pid, .. } => {
            obj.insert("to_pid".into(), pid_value(labels, *to_pid));
        }
        EventKind::Read { from_pid, .. } => {
            obj.insert("from_pid".into(), pid_value(labels, *from_pid));
        }
        EventKind::Mapped { bytes, from_pid, .. } => {
            // Not `bytes`: mapping copies nothing, and tools sum `bytes` as bytes copied.
            obj.insert("mapped_bytes".into(), json!(bytes));
            obj.insert("from_pid".into(), pid_value(labels, *from_pid));
        }
        EventKind::PeerLost { pid, topic } => {
            obj.insert("peer_pid".into(), pid_value(labels, *pid));
            obj.insert("topic".into(), json!(&**topic));
        }
        EventKind::Rejected { from_pid, reason } => {
            obj.insert("from_pid".into(), pid_value(labels, *from_pid));
            obj.insert("reason".into(), json!(reason.as_str()));
        }
        EventKind::Printed { line } => {
            obj.insert("line".into(), json!(labels.relabel(event.pid, line)));
        }
        EventKind::Filled { addr, payload_addr, bytes } => {
            obj.insert("addr".into(), json!(labels.addr(event.pid, *addr)));
            if let Some(payload) = payload_addr {
                obj.insert("payload_addr".into(), json!(labels.buffer(event.pid, *payload)));
            }
            obj.insert("bytes".into(), json!(bytes));
        }
        EventKind::Drawn { y, text } => {
            obj.insert("y".into(), json!(y));
            obj.insert("text".into(), json!(labels.relabel(event.pid, text)));
        }
        EventKind::Shown { addr } => {
            obj.insert("addr".into(), json!(labels.addr(event.pid, *addr)));
        }
        _ => {}
    }
    obj
}

/// Reads back an event that [`to_json`] wrote without `--stable` (how `--split` gets the
/// events of its child processes). `None` for anything else.
pub fn from_json(line: &str) -> Option<TraceEvent> {
    let obj: Map<String, Value> = serde_json::from_str(line).ok()?;
    let text = |key: &str| obj.get(key).and_then(Value::as_str);
    let number = |key: &str| obj.get(key).and_then(Value::as_u64);
    let pid = |key: &str| number(key).and_then(|n| u32::try_from(n).ok());
    let addr = |key: &str| text(key).and_then(|a| usize::from_str_radix(a.strip_prefix("0x")?, 16).ok());
    let bytes = || number("bytes").map(|b| b as usize);
    let msg = || -> Option<MessageRef> {
        let mut value = ShortText::new();
        let _ = value.write_str(text("value")?);
        Some(MessageRef {
            topic: Arc::from(text("topic")?),
            type_name: known_type(text("type")?)?,
            publication: Publication {
                pid: pid("publisher_pid")?,
                publisher: number("publisher")?,
                seq: number("seq")?,
            },
            addr: addr("addr")?,
            payload_addr: addr("payload_addr"),
            value,
        })
    };
    let reason = || reason_from_name(text("reason")?);
    let kind = match text("event")? {
        "published" => EventKind::Published { msg: msg()? },
        "received" => {
            let via = match text("via")? {
                "original" => Via::Original,
                "copy" => Via::Copy(reason()?),
                _ => Via::Middleware,
            };
            let origin = pid("from_pid").map(|from| Origin {
                pid: from,
                node: Arc::from(text("from_node").unwrap_or_default()),
                addr: addr("from_addr").unwrap_or_default(),
                serialized_bytes: number("serialized_bytes").unwrap_or_default() as usize,
            });
            EventKind::Received { msg: msg()?, via, origin }
        }
        "copied" => EventKind::Copied { msg: msg()?, from: addr("from")?, reason: reason()?, bytes: bytes()? },
        "serialized" => EventKind::Serialized { msg: msg()?, bytes: bytes()? },
        "deserialized" => EventKind::Deserialized { msg: msg()?, bytes: bytes()? },
        "overwritten" => EventKind::Overwritten { msg: msg()? },
        "written" => EventKind::Written { msg: msg()?, bytes: bytes()?, to_pid: pid("to_pid")? },
        "read" => EventKind::Read { msg: msg()?, bytes: bytes()?, from_pid: pid("from_pid")? },
        "shm_written" => EventKind::SharedMemoryWritten { msg: msg()?, bytes: bytes()? },
        "mapped" => {
            EventKind::Mapped { msg: msg()?, bytes: number("mapped_bytes")? as usize, from_pid: pid("from_pid")? }
        }
        "peer_lost" => EventKind::PeerLost { pid: pid("peer_pid")?, topic: Arc::from(text("topic")?) },
        "rejected" => EventKind::Rejected { from_pid: pid("from_pid")?, reason: LineText::cut(text("reason")?) },
        "printed" => EventKind::Printed { line: LineText::cut(text("line")?) },
        "filled" => EventKind::Filled { addr: addr("addr")?, payload_addr: addr("payload_addr"), bytes: bytes()? },
        "drawn" => EventKind::Drawn { y: obj.get("y")?.as_i64()? as i32, text: ShortText::cut(text("text")?) },
        "shown" => EventKind::Shown { addr: addr("addr")? },
        _ => return None,
    };
    Some(TraceEvent { pid: pid("pid")?, node: Arc::from(text("node")?), kind })
}

/// The `'static` type name for a name read back from JSON.
fn known_type(name: &str) -> Option<&'static str> {
    use crate::engine::msg::{sensor_msgs::Image, std_msgs};
    use crate::engine::Message;
    [std_msgs::Int32::TYPE_NAME, std_msgs::String::TYPE_NAME, Image::TYPE_NAME].into_iter().find(|t| *t == name)
}

fn reason_from_name(name: &str) -> Option<CopyReason> {
    ALL_REASONS.into_iter().find(|r| reason_name(*r) == name)
}

const ALL_REASONS: [CopyReason; 7] = [
    CopyReason::NotLast,
    CopyReason::SharedForSharedSubscriptions,
    CopyReason::SharedForInterProcess,
    CopyReason::PublishByReference,
    CopyReason::UniqueFromSharedBuffer,
    CopyReason::UniqueFromTaken,
    CopyReason::ReadOnlyToDrawOn,
];

impl Json {
    fn write(&mut self, out: &mut dyn Write, event: &TraceEvent, ipc: Option<bool>) -> io::Result<()> {
        let mut obj = to_json(event, &self.cx.labels);
        if let Some(on) = ipc {
            obj.insert("ipc".into(), json!(if on { "on" } else { "off" }));
        }
        writeln!(out, "{}", Value::Object(obj))
    }
}

impl Renderer for Json {
    fn event(&mut self, out: &mut dyn Write, event: &TraceEvent) -> io::Result<()> {
        self.write(out, event, None)
    }

    fn pair(&mut self, out: &mut dyn Write, on: &[TraceEvent], off: &[TraceEvent]) -> io::Result<()> {
        for event in on {
            self.write(out, event, Some(true))?;
        }
        for event in off {
            self.write(out, event, Some(false))?;
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}
