//! The `ipc-lab copies` table: who got the original, who a copy, in the design table's
//! notation (`@1` the original, `@2`, `@3`... copies, numbered left to right).

use std::io::{self, Write};

use super::bytes;
use super::costs::receipt_steps;
use super::fit;
use super::style::{pad, visible_width, Painter};
use crate::demos::copies::{subscriber_name, Setup, Spec, Sub, Take, DESIGN_TABLE, INTER_PROCESS_NODE};
use crate::engine::trace::{CopyReason, EventKind, TraceEvent, Via};
use crate::engine::IntraProcessBufferType;
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::ledger::{Ledger, Receipt, Tally};

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
pub(super) fn sub_text(sub: Sub, lang: Lang) -> String {
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

/// How the table is written: language, colour, labels and the screen's width.
pub struct Look<'a> {
    pub lang: Lang,
    pub painter: Painter,
    pub labels: &'a Labels,
    /// The screen's columns, or none (piped): see [`fit`].
    pub width: Option<usize>,
}

impl Look<'_> {
    /// `text` wrapped to the screen (lines after the first start with `rest`), each line
    /// painted by `paint`.
    pub(super) fn write(
        &self,
        out: &mut dyn Write,
        text: &str,
        rest: &str,
        paint: impl Fn(&str) -> String,
    ) -> io::Result<()> {
        fit::lines(text, self.width, rest).iter().try_for_each(|line| writeln!(out, "{}", paint(line)))
    }
}

/// Where a row's explanation starts when it does not fit beside the row: under the kind.
const BELOW: usize = 17;

pub fn render(out: &mut dyn Write, events: &[TraceEvent], spec: &Spec, setup: &Setup, look: &Look) -> io::Result<()> {
    let (lang, painter, labels) = (look.lang, look.painter, look.labels);
    if !setup.is_design_table() {
        return super::copies_qos::render(out, events, spec, setup, look);
    }
    let inter = setup.inter_process;
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
    look.write(out, &title, "  ", |line| painter.heading(line))?;
    let nodes = spec
        .0
        .iter()
        .enumerate()
        .map(|(i, take)| (subscriber_name(i + 1), Some(*take)))
        .chain(inter.then(|| (INTER_PROCESS_NODE.to_string(), None)));
    // As wide as the widest kind (a buffer type makes it longer), 30 at least.
    let kinds: Vec<(String, Option<Sub>)> = nodes.collect();
    let width = spec.0.iter().map(|sub| visible_width(&sub_text(*sub, lang)) + 2).max().unwrap_or(0).max(30);
    let mut ledger = Ledger::default();
    let receipts: Vec<Receipt> = events.iter().filter_map(|e| ledger.record(e)).collect();
    let mut in_notation = Vec::new();
    for (node, take) in kinds {
        let Some(got) = receipts.iter().find(|r| *r.to.node == *node) else { continue };
        let label = notation.label(got.to.addr);
        if take.is_some() {
            in_notation.push(label.clone());
        }
        let row = Row { node: &node, take, label: &label, width, address: raw(got.to.addr) };
        write_row(out, &row, got, ledger.discarded_by(&node), look)?;
    }
    let all = ledger.totals().all;
    let result = in_notation.join(",");
    let totals = match lang {
        Lang::Ko => format!("복사 {}번, {}", all.copies, bytes(all.bytes)),
        Lang::En => {
            let noun = if all.copies == 1 { "copy" } else { "copies" };
            format!("{} {noun}, {}", all.copies, bytes(all.bytes))
        }
    };
    look.write(out, &format!("{}: {spec} -> {result} · {totals}", lang.pick("결과", "result")), "  ", str::to_string)?;
    verdict(out, spec, &result, inter, look)
}

/// One row of the design table: a subscription (or the other process) and what it got.
struct Row<'a> {
    node: &'a str,
    take: Option<Sub>,
    label: &'a str,
    /// Width of the kind column.
    width: usize,
    /// ` = <address>`, or nothing with `--stable`.
    address: String,
}

/// A row, its explanation beside it (or under it when the screen is narrow), and the
/// middleware copy its subscription discarded, if any.
fn write_row(out: &mut dyn Write, row: &Row, got: &Receipt, discarded: Tally, look: &Look) -> io::Result<()> {
    let (lang, painter) = (look.lang, look.painter);
    let kind = match row.take {
        Some(sub) => sub_text(sub, lang),
        None => lang.pick("IPC 끔 (다른 프로세스 역할)", "IPC off (another process)").to_string(),
    };
    let (address, how) = (painter.dim(&row.address), how_text(lang, got));
    let line =
        format!("  {}{}{}{address}  ", pad(row.node, 15), pad(&kind, row.width), pad(&painter.addr(row.label), 4));
    let paint = |line: &str| if how.copy { painter.copy(line) } else { painter.good(line) };
    if fit::fits(&format!("{line}{}", how.text), look.width) {
        writeln!(out, "{line}{}", paint(&how.text))?;
    } else {
        writeln!(out, "{}", line.trim_end())?;
        let indent = " ".repeat(BELOW);
        look.write(out, &format!("{indent}{}", how.text), &indent, paint)?;
    }
    if let Some(text) = discarded_text(lang, discarded) {
        let indent = " ".repeat(2 + 15 + row.width + 4);
        let line = format!("{indent}{text}");
        let indent = if fit::fits(&line, look.width) { indent } else { " ".repeat(BELOW) };
        look.write(out, &format!("{indent}{text}"), &indent, |line| painter.copy(line))?;
    }
    Ok(())
}

/// The design table's row for this list, and whether the run matches it.
fn verdict(out: &mut dyn Write, spec: &Spec, result: &str, inter: bool, look: &Look) -> io::Result<()> {
    let (lang, painter) = (look.lang, look.painter);
    let spec_text = spec.to_string();
    if let Some((_, expected)) = DESIGN_TABLE.iter().find(|(row, _)| *row == spec_text) {
        let same = sorted(expected) == sorted(result);
        let verdict = match (lang, same, result == *expected) {
            (_, true, true) => lang.pick("일치", "matches"),
            (Lang::Ko, true, false) => {
                "같은 주소들 (표는 어느 소유 구독이 원본을 받는지 말하지 않습니다: rclcpp는 마지막 소유 구독에게 줍니다)"
            }
            (Lang::En, true, false) => {
                "the same addresses (the table does not say which owner gets the original: rclcpp gives it to the last one)"
            }
            (_, false, _) => lang.pick("다름!", "differs!"),
        };
        let paint = |line: &str| if same { painter.good(line) } else { painter.copy(line) };
        let context = if inter {
            lang.pick(" (다른 프로세스 구독자 없이)", " (without the outside subscriber)")
        } else {
            ""
        };
        let row = format!("{}{context}: {spec} -> {expected} · ", lang.pick("설계 표", "design table"));
        if fit::fits(&format!("{row}{verdict}"), look.width) {
            writeln!(out, "{row}{}", paint(verdict))?;
        } else {
            writeln!(out, "{}", row.trim_end())?;
            look.write(out, &format!("  {verdict}"), "  ", paint)?;
        }
    }
    Ok(())
}

/// What one subscription got, from the ledger: the original, the same message as an
/// earlier one, or the copies made for it.
fn how_text(lang: Lang, got: &Receipt) -> How {
    if got.end_to_end().copies > 0 {
        return How { text: receipt_steps(lang, got).join(" + "), copy: true };
    }
    let text = match got.via {
        Via::Copy(CopyReason::SharedForInterProcess) => lang.pick(
            "다른 프로세스 몫으로 만든 공유 복사본을 함께 읽음: 복사 없음",
            "reads the shared copy made for outside subscribers: no copy of its own",
        ),
        Via::Copy(CopyReason::SharedForTransientLocal) => lang.pick(
            "퍼블리셔가 간직하려고 만든 공유 복사본을 함께 읽음: 복사 없음",
            "reads the shared copy the publisher keeps: no copy of its own",
        ),
        _ if got.shared_with_earlier => {
            lang.pick("앞의 구독과 같은 메시지를 공유: 복사 없음", "shared with an earlier one: no copy")
        }
        Via::Original => lang.pick("원본: 복사 없음", "the original: no copy"),
        _ => lang.pick("복사 없음", "no copy"),
    };
    How { text: text.to_string(), copy: false }
}

/// What one subscription got, in words, before it is painted (and wrapped if it must be).
struct How {
    text: String,
    /// It was a copy (painted as one), not the original or a shared message.
    copy: bool,
}

/// What a subscription spent on the middleware's duplicate of a message the intra-process
/// manager had delivered to it (rclcpp #1722), if anything.
fn discarded_text(lang: Lang, spent: Tally) -> Option<String> {
    (spent.copies > 0).then(|| match lang {
        Lang::Ko => {
            format!(
                "+ 미들웨어로도 온 사본을 역직렬화({})한 뒤 버림 (IPC로 이미 받음, rclcpp #1722)",
                bytes(spent.bytes)
            )
        }
        Lang::En => format!(
            "+ deserialized the middleware's copy too, {}, then discarded it (already delivered by IPC, rclcpp #1722)",
            bytes(spent.bytes)
        ),
    })
}
