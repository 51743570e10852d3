//! `ipc-lab copies` beyond the design table: several messages published before any
//! callback runs, a depth that may not hold them, late joiners of a transient-local
//! publisher, a publisher whose QoS the subscriptions cannot accept. One row per published
//! message, one column per subscription: what it got of that message (the original, a copy,
//! a decoded message) and what became of it (received, or overwritten in its queue before
//! its callback ran). Each row numbers its own addresses as the design table does: `@1` is
//! that message's original, `@2`... the other messages made for it.

use std::io::{self, Write};

use super::copies::Look;
use super::costs::summary_text;
use super::style::{pad, visible_width, Painter};
use crate::demos::copies::{subscriber_name, Setup, Spec, INTER_PROCESS_NODE};
use crate::engine::trace::{EventKind, Publication, QosPolicyKind, TraceEvent, Via};
use crate::engine::{Durability, History};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::Lang;
use crate::ledger::Ledger;

/// One published message: its call, its value and its original's address.
struct Row {
    publication: Publication,
    value: String,
    original: usize,
    /// Addresses met in this row, the original first: their index + 1 is their `@` label.
    addrs: Vec<usize>,
}

impl Row {
    fn label(&mut self, addr: usize) -> String {
        let index = self.addrs.iter().position(|&a| a == addr).unwrap_or_else(|| {
            self.addrs.push(addr);
            self.addrs.len() - 1
        });
        format!("@{}", index + 1)
    }

    /// What `node` got of this message, and what became of it; `-` for nothing.
    fn cell(&mut self, events: &[TraceEvent], node: &str, lang: Lang) -> String {
        let mut fates = Vec::new();
        for event in events.iter().filter(|e| &*e.node == node) {
            let fate = match &event.kind {
                EventKind::Received { msg, via, .. } if msg.publication == self.publication => {
                    let how = match via {
                        Via::Original => lang.pick("원본", "original"),
                        Via::Copy(_) => lang.pick("복사본", "copy"),
                        Via::Middleware => lang.pick("역직렬화", "decoded"),
                    };
                    format!("{} {how}, {}", self.label(msg.addr), lang.pick("받음", "received"))
                }
                EventKind::Overwritten { msg } if msg.publication == self.publication => {
                    // Bytes from the middleware wait in the queue undecoded.
                    let what = if msg.addr == self.original {
                        format!("@1 {}", lang.pick("원본", "original"))
                    } else if msg.value.to_string().ends_with(" B CDR") {
                        lang.pick("CDR 바이트", "CDR bytes").to_string()
                    } else {
                        format!("{} {}", self.label(msg.addr), lang.pick("복사본", "copy"))
                    };
                    format!("{what}, {}", lang.pick("덮어씀", "overwritten"))
                }
                _ => continue,
            };
            fates.push(fate);
        }
        if fates.is_empty() {
            "-".to_string()
        } else {
            fates.join("; ")
        }
    }
}

/// The title: the spec, how many messages, and the QoS that matters here.
fn title(spec: &Spec, setup: &Setup, type_name: &str, lang: Lang) -> String {
    let depth = match setup.qos.history {
        History::KeepLast(depth) => depth.to_string(),
        History::KeepAll => "keep all".to_string(),
    };
    let durability = match setup.qos.durability {
        Durability::Volatile => "volatile",
        Durability::TransientLocal => "transient local",
    };
    let n = setup.messages;
    let published = match (lang, n) {
        (Lang::Ko, 1) => format!("{type_name} 하나를 UniquePtr로 발행한 뒤 콜백 실행"),
        (Lang::Ko, n) => format!("{type_name} {n}개를 UniquePtr로 잇달아 발행한 뒤 콜백 실행"),
        (Lang::En, 1) => format!("one {type_name} published as UniquePtr, then the callbacks run"),
        (Lang::En, n) => format!("{n} × {type_name} published as UniquePtr one after another, then the callbacks run"),
    };
    let mut text = format!("copies {spec} · {published} · depth {depth}, {durability}");
    if setup.late {
        text.push_str(lang.pick(" · 구독은 발행한 뒤에 만듦", " · subscriptions created after publishing"));
    }
    if setup.best_effort_publisher {
        text.push_str(lang.pick(" · 퍼블리셔만 best effort", " · best-effort publisher"));
    }
    if setup.volatile_publisher {
        text.push_str(lang.pick(" · 퍼블리셔만 volatile", " · volatile publisher"));
    }
    text
}

/// The table; the title, the warnings and the summary wrap to the screen (`look.width`),
/// the rows do not (a row is a message: it must stay one line to be read across).
pub fn render(out: &mut dyn Write, events: &[TraceEvent], spec: &Spec, setup: &Setup, look: &Look) -> io::Result<()> {
    let (lang, painter) = (look.lang, look.painter);
    let mut rows: Vec<Row> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Published { msg } => Some(Row {
                publication: msg.publication,
                value: msg.value.to_string(),
                original: msg.addr,
                addrs: vec![msg.addr],
            }),
            _ => None,
        })
        .collect();
    let type_name = events.iter().find_map(|e| e.kind.message().map(|m| m.type_name)).unwrap_or_default();
    look.write(out, &title(spec, setup, type_name, lang), "  ", |line| painter.heading(line))?;
    let mut columns: Vec<(String, String)> = spec
        .0
        .iter()
        .enumerate()
        .map(|(i, sub)| (subscriber_name(i + 1), format!("{} {sub}", subscriber_name(i + 1))))
        .collect();
    if setup.inter_process {
        let head = format!("{INTER_PROCESS_NODE} ({})", lang.pick("IPC 끔", "IPC off"));
        columns.push((INTER_PROCESS_NODE.to_string(), head));
    }
    let cells: Vec<Vec<String>> =
        rows.iter_mut().map(|row| columns.iter().map(|(node, _)| row.cell(events, node, lang)).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, head))| {
            cells.iter().map(|r| visible_width(&r[i])).chain([visible_width(head)]).max().unwrap_or(0)
        })
        .collect();
    let value_head = lang.pick("값", "value");
    let heads: Vec<String> = columns.iter().zip(&widths).map(|((_, head), w)| pad(head, *w + 3)).collect();
    writeln!(out, "  {}{}", pad(value_head, 7), painter.dim(heads.concat().trim_end()))?;
    for (row, cells) in rows.iter().zip(&cells) {
        let line: Vec<String> = cells.iter().zip(&widths).map(|(cell, w)| pad(&paint(cell, painter), *w + 3)).collect();
        writeln!(out, "  {}{}", pad(&row.value, 7), line.concat().trim_end())?;
    }
    incompatible(out, events, look)?;
    let mut ledger = Ledger::default();
    events.iter().for_each(|e| drop(ledger.record(e)));
    let summary = format!("{}: {}", lang.pick("요약", "summary"), summary_text(lang, &ledger.totals()));
    look.write(out, &summary, "  ", str::to_string)
}

/// A cell coloured by what became of the message: overwritten stands out.
fn paint(cell: &str, painter: Painter) -> String {
    if cell.contains("덮어씀") || cell.contains("overwritten") {
        painter.copy(cell)
    } else if cell == "-" {
        painter.dim(cell)
    } else {
        cell.to_string()
    }
}

/// The pairs that could not communicate, as their subscriptions heard it.
fn incompatible(out: &mut dyn Write, events: &[TraceEvent], look: &Look) -> io::Result<()> {
    let lang = look.lang;
    for event in events {
        let EventKind::IncompatibleQos { policy, publisher_node, offered: false, .. } = &event.kind else { continue };
        let policy = match policy {
            QosPolicyKind::Reliability => "reliability",
            QosPolicyKind::Durability => "durability",
        };
        let node = &event.node;
        let text = match lang {
            Lang::Ko => {
                let and = particle(publisher_node, Particle::And);
                format!("   !  {node}: {publisher_node}{and} QoS({policy})가 맞지 않아 아무것도 받지 못합니다 (incompatible_qos)")
            }
            Lang::En => format!(
                "   !  {node}: incompatible QoS ({policy}) with {publisher_node}: nothing arrives (incompatible_qos)"
            ),
        };
        look.write(out, &text, "      ", |line| look.painter.warn(line))?;
    }
    Ok(())
}
