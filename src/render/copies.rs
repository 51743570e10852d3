//! The `ipc-lab copies` table: who got the original, who a copy, in the design table's
//! notation (`@1` the original, `@2`, `@3`... copies, numbered left to right).

use std::io::{self, Write};

use super::bytes;
use super::side::reason_text;
use super::style::{pad, visible_width, Painter};
use crate::demos::copies::{subscriber_name, Spec, Sub, Take, DESIGN_TABLE, INTER_PROCESS_NODE};
use crate::engine::trace::{EventKind, TraceEvent, Via};
use crate::engine::IntraProcessBufferType;
use crate::i18n::Lang;
use crate::labels::Labels;

/// What one subscription got.
struct Got {
    addr: usize,
    via: Via,
    /// Bytes of the copy (or of serialize + deserialize) behind it.
    bytes: usize,
}

fn got(events: &[TraceEvent], node: &str) -> Option<Got> {
    let (addr, via) = events.iter().find_map(|e| match &e.kind {
        EventKind::Received { msg, via, .. } if &*e.node == node => Some((msg.addr, *via)),
        _ => None,
    })?;
    let bytes = match via {
        Via::Original => 0,
        Via::Copy(_) => events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Copied { msg, bytes, .. } if msg.addr == addr => Some(*bytes),
                _ => None,
            })
            .unwrap_or(0),
        Via::Middleware => events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Serialized { bytes, .. } => Some(*bytes),
                EventKind::Deserialized { bytes, .. } | EventKind::Copied { bytes, .. } if &*e.node == node => {
                    Some(*bytes)
                }
                _ => None,
            })
            .sum(),
    };
    Some(Got { addr, via, bytes })
}

/// The bytes a subscription deserialized only to discard them (the duplicate rclcpp's
/// executor takes when the publisher also reaches another process).
fn discarded(events: &[TraceEvent], node: &str) -> Option<usize> {
    let addr = events.iter().find_map(|e| match &e.kind {
        EventKind::Discarded { msg, .. } if &*e.node == node => Some(msg.addr),
        _ => None,
    })?;
    events.iter().find_map(|e| match &e.kind {
        EventKind::Deserialized { msg, bytes } if &*e.node == node && msg.addr == addr => Some(*bytes),
        _ => None,
    })
}

fn bytes_text(n: usize) -> String {
    bytes(n as u64)
}

/// Design-table labels: the original is `@1`, other addresses are numbered as they appear.
struct Notation {
    addrs: Vec<usize>,
}

impl Notation {
    fn label(&mut self, addr: usize) -> String {
        let index = self.addrs.iter().position(|&a| a == addr).unwrap_or_else(|| {
            self.addrs.push(addr);
            self.addrs.len() - 1
        });
        format!("@{}", index + 1)
    }
}

/// `U  UniquePtr`, or with a buffer type that is not the callback's: `U/S  UniquePtr, SharedPtr buffer`.
fn sub_text(sub: Sub, lang: Lang) -> String {
    let callback = match sub.take {
        Take::Unique => "UniquePtr",
        Take::ConstShared => "ConstSharedPtr",
        Take::Ref => "const T&",
        Take::SharedPtr => "SharedPtr",
    };
    let buffer = match sub.buffer {
        IntraProcessBufferType::CallbackDefault => "",
        IntraProcessBufferType::UniquePtr => lang.pick(", UniquePtr 버퍼", ", UniquePtr buffer"),
        IntraProcessBufferType::SharedPtr => lang.pick(", SharedPtr 버퍼", ", SharedPtr buffer"),
    };
    format!("{sub}  {callback}{buffer}")
}

fn sorted(list: &str) -> Vec<&str> {
    let mut v: Vec<&str> = list.split(',').collect();
    v.sort_unstable();
    v
}

pub fn render(
    out: &mut dyn Write,
    events: &[TraceEvent],
    spec: &Spec,
    inter: bool,
    lang: Lang,
    painter: Painter,
    labels: &Labels,
) -> io::Result<()> {
    let Some((original, type_name)) = events.iter().find_map(|e| match &e.kind {
        EventKind::Published { msg } => Some((msg.addr, msg.type_name)),
        _ => None,
    }) else {
        return Ok(());
    };
    let mut notation = Notation { addrs: vec![original] };
    // With `--stable` the design-table labels say it all; otherwise show the real addresses too.
    let stable = labels.addr_is_label();
    // One process: the copies experiment runs here.
    let pid = std::process::id();
    let raw = |addr: usize| if stable { String::new() } else { format!(" = {}", labels.addr(pid, addr)) };
    let title = match lang {
        Lang::Ko => format!("copies {spec} · {type_name} 하나를 UniquePtr로 발행 (원본 @1{})", raw(original)),
        Lang::En => format!("copies {spec} · one {type_name} published as UniquePtr (original @1{})", raw(original)),
    };
    writeln!(out, "{}", painter.heading(&title))?;
    let nodes = spec
        .0
        .iter()
        .enumerate()
        .map(|(i, take)| (subscriber_name(i + 1), Some(*take)))
        .chain(inter.then(|| (INTER_PROCESS_NODE.to_string(), None)));
    // As wide as the widest kind (a buffer type makes it longer), 30 at least.
    let kinds: Vec<(String, Option<Sub>)> = nodes.collect();
    let width = spec.0.iter().map(|sub| visible_width(&sub_text(*sub, lang)) + 2).max().unwrap_or(0).max(30);
    let mut in_notation = Vec::new();
    for (node, take) in kinds {
        let Some(got) = got(events, &node) else { continue };
        let label = notation.label(got.addr);
        if take.is_some() {
            in_notation.push(label.clone());
        }
        let kind = match take {
            Some(sub) => sub_text(sub, lang),
            None => lang.pick("IPC 끔 (다른 프로세스 역할)", "IPC off (another process)").to_string(),
        };
        let how = match got.via {
            Via::Original => painter.good(lang.pick("원본: 복사 없음", "the original: no copy")),
            Via::Copy(reason) => painter.copy(&format!(
                "{} {} ({})",
                lang.pick("복사", "copy"),
                bytes(got.bytes as u64),
                reason_text(lang, reason)
            )),
            Via::Middleware => painter.copy(&format!(
                "{} {}",
                lang.pick("직렬화 + 역직렬화", "serialize + deserialize"),
                bytes(got.bytes as u64)
            )),
        };
        let address = painter.dim(&raw(got.addr));
        writeln!(out, "  {}{}{}{address}  {how}", pad(&node, 15), pad(&kind, width), pad(&painter.addr(&label), 4))?;
        if let Some(bytes) = discarded(events, &node) {
            let text = match lang {
                Lang::Ko => format!(
                    "+ 미들웨어로도 온 사본을 역직렬화({})한 뒤 버림 (IPC로 이미 받음, rclcpp #1722)",
                    bytes_text(bytes)
                ),
                Lang::En => format!(
                    "+ deserialized the middleware's copy too, {}, then discarded it (already delivered by IPC, rclcpp #1722)",
                    bytes_text(bytes)
                ),
            };
            writeln!(out, "  {}{}", pad("", 15 + width + 4), painter.copy(&text))?;
        }
    }
    let copies: Vec<usize> = events.iter().filter_map(|e| e.kind.bytes_copied()).collect();
    let result = in_notation.join(",");
    let totals = match lang {
        Lang::Ko => format!("복사 {}번, {}", copies.len(), bytes(copies.iter().sum::<usize>() as u64)),
        Lang::En => {
            let noun = if copies.len() == 1 { "copy" } else { "copies" };
            format!("{} {noun}, {}", copies.len(), bytes(copies.iter().sum::<usize>() as u64))
        }
    };
    writeln!(out, "{}: {spec} -> {result} · {totals}", lang.pick("결과", "result"))?;
    let spec_text = spec.to_string();
    if let Some((_, expected)) = DESIGN_TABLE.iter().find(|(row, _)| *row == spec_text) {
        let same = sorted(expected) == sorted(&result);
        let verdict = match (lang, same, result == *expected) {
            (_, true, true) => painter.good(lang.pick("일치", "matches")),
            (Lang::Ko, true, false) => painter.good(
                "같은 주소들 (표는 어느 소유 구독이 원본을 받는지 말하지 않습니다: rclcpp는 마지막 소유 구독에게 줍니다)",
            ),
            (Lang::En, true, false) => painter.good(
                "the same addresses (the table does not say which owner gets the original: rclcpp gives it to the last one)",
            ),
            (_, false, _) => painter.copy(lang.pick("다름!", "differs!")),
        };
        let context = if inter {
            lang.pick(" (다른 프로세스 구독자 없이)", " (without the outside subscriber)")
        } else {
            ""
        };
        writeln!(out, "{}{context}: {spec} -> {expected} · {verdict}", lang.pick("설계 표", "design table"))?;
    }
    Ok(())
}
