//! One JSON object per trace event per line, for tools and tests.
//!
//! Fields: `event` (`published`, `received`, `copied`, `serialized`, `deserialized`,
//! `overwritten`, `printed`, and from the image pipeline `filled`, `drawn`, `shown`), `pid`,
//! `node`, and for message events `topic`, `type`, `addr` (hex string, or a label with
//! `--stable`), `payload_addr` (`buf#N` with `--stable`), `value`, `publisher`, `seq`, plus `bytes`, `via`, `reason`,
//! `from` where they apply, `line` for `printed`, `y` and `text` for `drawn`, and `ipc`
//! (`on`/`off`) with `--ipc both`. A `filled` event's `bytes` are the producer's own work
//! (the camera copying its frame into a new message), not a copy on the way.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::labels::Labels;
use super::{RenderContext, Renderer};
use crate::engine::trace::{CopyReason, EventKind, TraceEvent, Via};

pub struct Json {
    pub cx: RenderContext,
}

/// The name used in JSON and in the side view's explanations.
pub fn reason_name(reason: CopyReason) -> &'static str {
    match reason {
        CopyReason::NotLast => "not_last",
        CopyReason::SharedForSharedSubscriptions => "shared_for_shared_subscriptions",
        CopyReason::SharedForInterProcess => "shared_for_inter_process",
        CopyReason::PublishByReference => "publish_by_reference",
        CopyReason::UniqueFromTaken => "unique_from_taken",
    }
}

fn via_name(via: Via) -> &'static str {
    match via {
        Via::Original => "original",
        Via::Copy(_) => "copy",
        Via::Middleware => "middleware",
    }
}

/// The event as a JSON object.
pub fn to_json(event: &TraceEvent, labels: &Labels) -> Map<String, Value> {
    let name = match event.kind {
        EventKind::Published { .. } => "published",
        EventKind::Received { .. } => "received",
        EventKind::Copied { .. } => "copied",
        EventKind::Serialized { .. } => "serialized",
        EventKind::Deserialized { .. } => "deserialized",
        EventKind::Overwritten { .. } => "overwritten",
        EventKind::Printed { .. } => "printed",
        EventKind::Filled { .. } => "filled",
        EventKind::Drawn { .. } => "drawn",
        EventKind::Shown { .. } => "shown",
    };
    let mut obj = Map::new();
    obj.insert("event".into(), json!(name));
    // A number, as tools expect; a label string with `--stable`.
    let pid = if labels.addr_is_label() { json!(labels.pid(event.pid)) } else { json!(event.pid) };
    obj.insert("pid".into(), pid);
    obj.insert("node".into(), json!(&*event.node));
    if let Some(msg) = event.kind.message() {
        obj.insert("topic".into(), json!(&*msg.topic));
        obj.insert("type".into(), json!(msg.type_name));
        obj.insert("addr".into(), json!(labels.addr(msg.addr)));
        if let Some(payload) = msg.payload_addr {
            obj.insert("payload_addr".into(), json!(labels.buffer(payload)));
        }
        obj.insert("value".into(), json!(msg.value.as_str()));
        obj.insert("publisher".into(), json!(msg.publication.publisher));
        obj.insert("seq".into(), json!(msg.publication.seq));
    }
    if let Some(bytes) = event.kind.bytes_copied() {
        obj.insert("bytes".into(), json!(bytes));
    }
    match &event.kind {
        EventKind::Received { via, .. } => {
            obj.insert("via".into(), json!(via_name(*via)));
            if let Via::Copy(reason) = via {
                obj.insert("reason".into(), json!(reason_name(*reason)));
            }
        }
        EventKind::Copied { reason, from, .. } => {
            obj.insert("reason".into(), json!(reason_name(*reason)));
            obj.insert("from".into(), json!(labels.addr(*from)));
        }
        EventKind::Printed { line } => {
            obj.insert("line".into(), json!(labels.relabel(line)));
        }
        EventKind::Filled { addr, payload_addr, bytes } => {
            obj.insert("addr".into(), json!(labels.addr(*addr)));
            if let Some(payload) = payload_addr {
                obj.insert("payload_addr".into(), json!(labels.buffer(*payload)));
            }
            obj.insert("bytes".into(), json!(bytes));
        }
        EventKind::Drawn { y, text } => {
            obj.insert("y".into(), json!(y));
            obj.insert("text".into(), json!(labels.relabel(text)));
        }
        EventKind::Shown { addr } => {
            obj.insert("addr".into(), json!(labels.addr(*addr)));
        }
        _ => {}
    }
    obj
}

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
