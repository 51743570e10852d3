//! How the ledger's figures are written, in both languages: what a receipt's copies were,
//! and the summary whose every total says its scope and adds up. The figures themselves
//! come from [`crate::ledger`]; nothing here counts.

use super::bytes;
use crate::engine::trace::CopyReason;
use crate::i18n::Lang;
use crate::ledger::{Average, Charge, Crossing, Receipt, Sent, Step, Tally, Totals};

/// Why a copy was made, in words.
pub fn reason_text(lang: Lang, reason: CopyReason) -> &'static str {
    match (lang, reason) {
        (Lang::Ko, CopyReason::NotLast) => "목록의 마지막 구독이 아니어서",
        (Lang::Ko, CopyReason::SharedForSharedSubscriptions) => "공유 구독들이 함께 쓰는 복사본",
        (Lang::Ko, CopyReason::SharedForInterProcess) => "다른 프로세스(또는 IPC 끔) 구독자를 위한 공유 복사본",
        (Lang::Ko, CopyReason::SharedForTransientLocal) => {
            "transient local 퍼블리셔가 늦게 온 구독을 위해 간직하는 공유 복사본"
        }
        (Lang::Ko, CopyReason::PublishByReference) => "참조로 발행해서",
        (Lang::Ko, CopyReason::UniqueFromSharedBuffer) => "SharedPtr 버퍼에서 소유권을 가져가려고 복사",
        (Lang::Ko, CopyReason::UniqueFromTaken) => "UniquePtr 콜백에 주려고 받은 메시지를 복사",
        (Lang::Ko, CopyReason::ReadOnlyToDrawOn) => "공유 메시지는 읽기 전용이라 그리려고 픽셀을 복사",
        (Lang::Ko, CopyReason::IntoLoan) => "힙(heap)에서 받은 픽셀을 빌린 메시지(loan)에 복사",
        (Lang::En, CopyReason::NotLast) => "not the last subscription in the list",
        (Lang::En, CopyReason::SharedForSharedSubscriptions) => "one copy shared by the shared subscriptions",
        (Lang::En, CopyReason::SharedForInterProcess) => {
            "shared copy for a subscriber outside the process (or with IPC off)"
        }
        (Lang::En, CopyReason::SharedForTransientLocal) => {
            "shared copy a transient-local publisher keeps for late joiners"
        }
        (Lang::En, CopyReason::PublishByReference) => "published by reference",
        (Lang::En, CopyReason::UniqueFromSharedBuffer) => "taken for ownership out of a SharedPtr buffer",
        (Lang::En, CopyReason::UniqueFromTaken) => "the taken message copied into a UniquePtr",
        (Lang::En, CopyReason::ReadOnlyToDrawOn) => "pixels of a read-only shared message copied to draw on",
        (Lang::En, CopyReason::IntoLoan) => "pixels received on the heap copied into a loaned message",
    }
}

/// One copy in a receipt's list: `serialize 8 B`, `copy 4 B (why)`.
pub fn step_text(lang: Lang, step: Step, n: u64) -> String {
    let b = bytes(n);
    match (lang, step) {
        (Lang::Ko, Step::Copy(CopyReason::UniqueFromTaken)) => format!("UniquePtr로 복사 {b}"),
        (Lang::En, Step::Copy(CopyReason::UniqueFromTaken)) => format!("copy into UniquePtr {b}"),
        (Lang::Ko, Step::Copy(reason)) => format!("복사 {b} ({})", reason_text(lang, reason)),
        (Lang::En, Step::Copy(reason)) => format!("copy {b} ({})", reason_text(lang, reason)),
        (Lang::Ko, Step::Serialize) => format!("직렬화 {b}"),
        (Lang::En, Step::Serialize) => format!("serialize {b}"),
        (Lang::Ko, Step::SocketWrite) => format!("소켓에 쓰기 {b}"),
        (Lang::En, Step::SocketWrite) => format!("into the socket {b}"),
        (Lang::Ko, Step::SocketRead) => format!("소켓에서 읽기 {b}"),
        (Lang::En, Step::SocketRead) => format!("out of the socket {b}"),
        (Lang::Ko, Step::MiddlewareWrite) => format!("DDS에 넘기기 {b}"),
        (Lang::En, Step::MiddlewareWrite) => format!("handed to DDS {b}"),
        (Lang::Ko, Step::MiddlewareTake) => format!("DDS에서 꺼내기 {b}"),
        (Lang::En, Step::MiddlewareTake) => format!("taken from DDS {b}"),
        (Lang::Ko, Step::SharedMemoryWrite) => format!("공유 메모리에 쓰기 {b}"),
        (Lang::En, Step::SharedMemoryWrite) => format!("into shared memory {b}"),
        (Lang::Ko, Step::Deserialize) => format!("역직렬화 {b}"),
        (Lang::En, Step::Deserialize) => format!("deserialize {b}"),
    }
}

/// A receipt's rclcpp copies, in the order made: from another process, the sender's share
/// as its frame says, how the bytes crossed, then this process's copies.
pub fn receipt_steps(lang: Lang, receipt: &Receipt) -> Vec<String> {
    let mut parts = Vec::new();
    let here: Vec<&Charge> = match receipt.sent {
        Some(sent) => {
            parts.extend(sent_steps(lang, sent, receipt.crossing));
            receipt.charges_here().collect()
        }
        None => receipt.charges.iter().collect(),
    };
    parts.extend(here.iter().map(|c| step_text(lang, c.step, c.bytes)));
    parts
}

/// What the sender in another process copied, as its frame says, and how the bytes crossed.
fn sent_steps(lang: Lang, sent: Sent, crossing: Option<Crossing>) -> Vec<String> {
    let loaned = matches!(crossing, Some(Crossing::Mapped { .. })) && sent.serialized == 0 && sent.written == 0;
    if loaned {
        return loan_steps(lang, sent);
    }
    let mut parts = Vec::new();
    if sent.copied > 0 {
        // The frame's address is this copy's: what the sender serialized, not the message
        // its own subscriptions (and its frames' drawn lines) show.
        let copy = step_text(lang, Step::Copy(CopyReason::SharedForInterProcess), sent.copied);
        let whose = lang.pick("보낸 쪽 주소는 이 복사본의 주소", "the sender's address shown is this copy's");
        parts.push(format!("{copy} [{whose}]"));
    }
    parts.push(step_text(lang, Step::Serialize, sent.serialized));
    let between = lang.pick("프로세스 사이 복사 0 B", "0 B copied between the processes");
    match crossing {
        Some(Crossing::Mapped { .. }) if sent.written > 0 => {
            parts.push(format!("{} ({between})", step_text(lang, Step::SharedMemoryWrite, sent.written)));
        }
        // Serialized straight into the slot: that was the only copy on this side.
        Some(Crossing::Mapped { .. }) => {
            parts.pop();
            let b = bytes(sent.serialized);
            parts.push(match lang {
                Lang::Ko => format!("공유 메모리 슬롯에 바로 직렬화 {b} ({between})"),
                Lang::En => format!("serialize {b} straight into a shared-memory slot ({between})"),
            });
        }
        _ if sent.written > 0 => parts.push(step_text(lang, Step::SocketWrite, sent.written)),
        _ => {}
    }
    parts
}

/// A loaned message: nothing serialized, nothing written (the header in front of the pixels
/// or the value is no copy of the message); the only copy the sender can have made is of
/// pixels it received into the loan.
fn loan_steps(lang: Lang, sent: Sent) -> Vec<String> {
    let mut parts = Vec::new();
    if sent.copied > 0 {
        parts.push(step_text(lang, Step::Copy(CopyReason::IntoLoan), sent.copied));
    }
    parts.push(
        lang.pick(
            "빌린 메시지(loan): 그 자리에 헤더만 씀 (프로세스 사이 복사 0 B)",
            "loaned: only its header written, in place (0 B copied between the processes)",
        )
        .to_string(),
    );
    parts
}

/// `3번 (20 B)` / `3 copies (20 B)`.
pub fn tally_text(lang: Lang, t: Tally) -> String {
    match lang {
        Lang::Ko => format!("{}번 ({})", t.copies, bytes(t.bytes)),
        Lang::En if t.copies == 1 => format!("1 copy ({})", bytes(t.bytes)),
        Lang::En => format!("{} copies ({})", t.copies, bytes(t.bytes)),
    }
}

/// `3.0번 (20 B)` / `3.0 copies (20 B)`; `0.33` where one decimal would round too much.
pub fn average_text(lang: Lang, a: Average) -> String {
    let copies =
        if (a.copies * 10.0).fract().abs() < 1e-9 { format!("{:.1}", a.copies) } else { format!("{:.2}", a.copies) };
    match lang {
        Lang::Ko => format!("{copies}번 ({})", bytes(a.bytes)),
        Lang::En => format!("{copies} copies ({})", bytes(a.bytes)),
    }
}

/// The summary: receipts × copies each = their total, with its scope; then every copy no
/// receipt here claimed, by why, and the tool's own copies; then the total of all.
pub fn summary_text(lang: Lang, t: &Totals) -> String {
    let e2e = t.end_to_end();
    let each = average_text(lang, e2e.per(t.receipts));
    let mut parts = vec![match (lang, t.receipts) {
        (Lang::Ko, 0) => "받은 메시지 0개".to_string(),
        (Lang::En, 0) => "0 messages received".to_string(),
        (Lang::Ko, n) => format!("받은 메시지 {n}개 × 복사 {each} = {}, {}", tally_text(lang, e2e), scope(lang, t)),
        (Lang::En, n) => {
            let noun = if n == 1 { "message" } else { "messages" };
            format!("{n} {noun} received × {each} = {}, {}", tally_text(lang, e2e), scope(lang, t))
        }
    }];
    let extras = [
        (t.in_flight, lang.pick("멈출 때 아직 가던 메시지 몫", "for messages still on their way at the stop")),
        (t.dropped, lang.pick("덮어쓴 메시지 몫", "for messages a full queue dropped")),
        (t.kept, lang.pick("늦게 올 구독을 위해 간직한 메시지 몫", "for messages kept for late joiners")),
        (t.discarded, lang.pick("IPC로 이미 받아 버린 중복 몫", "for duplicates discarded (already delivered by IPC)")),
        (t.for_others, lang.pick("다른 프로세스 구독자 몫", "for subscribers in other processes")),
        (t.tool_only, lang.pick("ipc-lab만의 복사", "made by ipc-lab itself (rclcpp would not copy)")),
    ];
    let shown: Vec<_> = extras.iter().filter(|(tally, _)| tally.copies > 0).collect();
    for (tally, what) in &shown {
        parts.push(match lang {
            Lang::Ko => format!("{what} {}", tally_text(lang, *tally)),
            Lang::En => format!("{} {what}", tally_text(lang, *tally)),
        });
    }
    if !shown.is_empty() {
        let all = e2e + t.unclaimed() + t.tool_only;
        parts.push(format!("{} {}", lang.pick("모두", "in all"), tally_text(lang, all)));
    }
    parts.push(match lang {
        Lang::Ko => format!("덮어쓰기 {}개", t.overwritten),
        Lang::En => format!("{} overwritten", t.overwritten),
    });
    parts.join(" · ")
}

/// Where the receipts' copies were made: the scope of the total.
fn scope(lang: Lang, t: &Totals) -> String {
    // A DDS sample does not say what its writer copied (see trace::FROM_MIDDLEWARE).
    if t.from_middleware > 0 {
        return lang
            .pick(
                "받는 쪽에서 센 것만 (DDS 라이터(writer) 쪽 복사는 여기서 알 수 없음)",
                "as counted on the receiving side (what the DDS writers copied is not known here)",
            )
            .to_string();
    }
    if t.from_unseen_processes > 0 {
        let here = t.claimed;
        return match lang {
            Lang::Ko => format!(
                "끝에서 끝까지: 이 프로세스 {} + 보낸 프로세스 {} (그쪽 프레임이 알려 줌)",
                tally_text(lang, here),
                tally_text(lang, t.sent_unseen)
            ),
            Lang::En => format!(
                "end to end: {} in this process + {} in the sending process (as its frames say)",
                tally_text(lang, here),
                tally_text(lang, t.sent_unseen)
            ),
        };
    }
    match (lang, t.processes) {
        (Lang::Ko, 0 | 1) => "한 프로세스 안에서".to_string(),
        (Lang::En, 0 | 1) => "within one process".to_string(),
        (Lang::Ko, n) => format!("끝에서 끝까지, 프로세스 {n}개"),
        (Lang::En, n) => format!("end to end over {n} processes"),
    }
}
