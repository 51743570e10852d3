//! `--ipc both` shows step k of the IPC-on run beside step k of the IPC-off run. The runs
//! rarely go at the same speed (IPC on makes no copies), so the rows of the one ahead wait
//! for the other's. How many may wait is bounded here, by [`MAX_WAITING_ROWS`]: without a
//! bound, a run at `--period 0` piled up its rows for as long as it went (hundreds of MiB
//! in seconds).
//!
//! ```
//! # use ipc_lab::app::pairs::{Pairs, WhenAhead, MAX_WAITING_ROWS};
//! let mut pairs = Pairs::new(2, WhenAhead::Wait);
//! // Run 0 is read as long as it is less than MAX_WAITING_ROWS rows ahead, then it waits.
//! assert!(pairs.takes(0));
//! assert_eq!(pairs.waiting(0), 0);
//! # let _ = MAX_WAITING_ROWS;
//! ```

use std::collections::VecDeque;

use crate::engine::trace::{EventKind, TraceEvent};
use crate::i18n::Lang;

/// How many rows of one run may wait for the other run's rows to be shown beside them. A
/// row is one receipt and the events before the next one (a few hundred bytes each), so
/// this bounds the waiting at about a megabyte per run.
pub const MAX_WAITING_ROWS: usize = 1024;

/// What happens when a run is [`MAX_WAITING_ROWS`] rows ahead of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenAhead {
    /// The runs go at the same time: the one ahead is not read until the other catches up.
    /// Its events then wait in their bounded channel, and its producer waits for room
    /// there (a child process, on its full stdout pipe), so the pairs are paced by the
    /// slower run and every row keeps its partner. Chosen over dropping rows because the
    /// view's point is the same step side by side, and a dropped row would leave a gap in
    /// one run's story.
    Wait,
    /// The runs go one after the other (the image pipeline with `--stable` or a window):
    /// the other run has not started, so waiting would never end. From then on rows are
    /// shown as they come, each beside nothing, and the summary still counts every one.
    ShowAlone,
}

/// The rows of one run.
#[derive(Default)]
struct RunRows {
    /// The row being filled, from the last `received` event on.
    current: Vec<TraceEvent>,
    /// Closed rows, waiting for the other run's to be shown beside them.
    done: VecDeque<Vec<TraceEvent>>,
    /// Every event of the run is in: its rows wait for nobody's.
    ended: bool,
}

/// What the view shows next: a row of each run, either possibly empty.
#[derive(Debug, Default)]
pub struct Pair {
    /// The row of run 0 (IPC on); empty beside a row of the other run alone.
    pub on: Vec<TraceEvent>,
    /// The row of run 1 (IPC off), the same step; empty beside a row of run 0 alone.
    pub off: Vec<TraceEvent>,
}

/// Something that changed in how the rows are paired, said once on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Run `ahead` waits for the other from now on ([`WhenAhead::Wait`]).
    Waits { ahead: usize },
    /// Rows are shown alone from now on ([`WhenAhead::ShowAlone`]).
    Apart { ahead: usize },
}

impl Change {
    /// The note, in `lang`. Run 0 is IPC on, run 1 IPC off.
    pub fn note(self, lang: Lang) -> String {
        let name = |run: usize| if run == 0 { lang.pick("IPC 켬", "IPC on") } else { lang.pick("IPC 끔", "IPC off") };
        let max = MAX_WAITING_ROWS;
        match (self, lang) {
            (Change::Waits { ahead }, Lang::Ko) => format!(
                "알림: {} 실행이 {} 실행보다 {max}줄 앞서서, 줄이 나란히 보이도록 뒤처진 실행을 기다립니다 (앞선 실행의 시간에는 기다린 시간도 들어갑니다)",
                name(ahead),
                name(1 - ahead)
            ),
            (Change::Waits { ahead }, Lang::En) => format!(
                "note: the {} run is {max} rows ahead of the {} run; it now waits for it so that the rows stay side by side (its time includes the wait)",
                name(ahead),
                name(1 - ahead)
            ),
            (Change::Apart { ahead }, Lang::Ko) => format!(
                "알림: {} 실행은 {} 실행이 끝난 뒤에 돌기 때문에 {max}줄보다 많이 기다리게 할 수 없어, 이제부터 줄을 나란히 두지 않고 오는 대로 보여 줍니다 (요약은 모든 줄을 셉니다)",
                name(1 - ahead),
                name(ahead)
            ),
            (Change::Apart { ahead }, Lang::En) => format!(
                "note: the {} run goes after the {} run, and at most {max} rows wait for it; from here on rows are shown as they come, not side by side (the summary counts every row)",
                name(1 - ahead),
                name(ahead)
            ),
        }
    }
}

/// The runs' rows, cut at each `received` event and paired step by step.
pub struct Pairs {
    runs: Vec<RunRows>,
    when_ahead: WhenAhead,
    /// A run went [`MAX_WAITING_ROWS`] ahead under [`WhenAhead::ShowAlone`]: rows are shown
    /// alone from then on (pairing later rows would put different steps side by side).
    apart: bool,
    /// A run waited for the other at least once (said once).
    waited: bool,
}

impl Pairs {
    pub fn new(runs: usize, when_ahead: WhenAhead) -> Pairs {
        Pairs { runs: (0..runs).map(|_| RunRows::default()).collect(), when_ahead, apart: false, waited: false }
    }

    /// How many closed rows of `run` wait for the other run's.
    pub fn waiting(&self, run: usize) -> usize {
        self.runs[run].done.len()
    }

    /// Whether the next event of `run` may be taken now: not while it is
    /// [`MAX_WAITING_ROWS`] ahead of a run that still goes ([`WhenAhead::Wait`]).
    pub fn takes(&self, run: usize) -> bool {
        let rows = &self.runs[run];
        let others_go = self.runs.iter().enumerate().any(|(i, r)| i != run && !r.ended);
        self.when_ahead == WhenAhead::ShowAlone || rows.done.len() < MAX_WAITING_ROWS || !others_go
    }

    /// Whether `run` is held back now, and said so if it is the first time.
    pub fn held(&mut self, run: usize) -> Option<Change> {
        if self.takes(run) || self.waited {
            return None;
        }
        self.waited = true;
        Some(Change::Waits { ahead: run })
    }

    /// Adds an event of `run`; a `received` event closes the row before it. Says when the
    /// rows go apart from now on.
    pub fn push(&mut self, run: usize, event: TraceEvent) -> Option<Change> {
        let rows = &mut self.runs[run];
        let mut change = None;
        if matches!(event.kind, EventKind::Received { .. }) && !rows.current.is_empty() {
            if rows.done.len() >= MAX_WAITING_ROWS && !self.apart {
                self.apart = true;
                change = Some(Change::Apart { ahead: run });
            }
            rows.done.push_back(std::mem::take(&mut rows.current));
        }
        rows.current.push(event);
        change
    }

    /// Every event of `run` is in.
    pub fn end(&mut self, run: usize) {
        let rows = &mut self.runs[run];
        if !rows.current.is_empty() {
            rows.done.push_back(std::mem::take(&mut rows.current));
        }
        rows.ended = true;
    }

    /// The next pair to show, if one is ready: a row of each run, or a row beside nothing
    /// when the other run has ended (or the rows went apart).
    pub fn ready_pair(&mut self) -> Option<Pair> {
        let has = |rows: &RunRows| !rows.done.is_empty();
        let ready = if self.apart {
            self.runs.iter().any(has)
        } else {
            self.runs.iter().any(has) && self.runs.iter().all(|r| has(r) || r.ended)
        };
        if !ready {
            return None;
        }
        let [on, off] = &mut self.runs[..] else {
            return None;
        };
        if self.apart {
            // One row at a time, the run ahead first, so no row waits for another.
            if let Some(row) = on.done.pop_front() {
                return Some(Pair { on: row, off: Vec::new() });
            }
            return off.done.pop_front().map(|row| Pair { on: Vec::new(), off: row });
        }
        Some(Pair { on: on.done.pop_front().unwrap_or_default(), off: off.done.pop_front().unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::trace::{MessageRef, Publication, Via};

    /// A row: a receipt, then a second event that belongs to it.
    fn row(pairs: &mut Pairs, run: usize) -> Option<Change> {
        let publication = Publication { pid: 1, publisher: 1, seq: 1 };
        let msg = MessageRef {
            topic: "t".into(),
            type_name: "x",
            publication,
            addr: 1,
            payload_addr: None,
            value: "7".into(),
        };
        let received = EventKind::Received { msg: msg.clone(), via: Via::Original, origin: None, shared: false };
        let change = pairs.push(run, TraceEvent { pid: 1, node: "consumer".into(), kind: received });
        let overwritten = EventKind::Overwritten { msg };
        pairs.push(run, TraceEvent { pid: 1, node: "consumer".into(), kind: overwritten });
        change
    }

    /// Run 0 fed far more rows than the bound while run 1 is silent: as the view's loop does,
    /// it is fed only while `takes` says so, and no more than the bound ever waits.
    #[test]
    fn a_run_far_ahead_waits_instead_of_piling_up_rows() {
        let mut pairs = Pairs::new(2, WhenAhead::Wait);
        let mut fed = 0;
        while fed < 10 * MAX_WAITING_ROWS && pairs.takes(0) {
            row(&mut pairs, 0);
            fed += 1;
            assert!(pairs.ready_pair().is_none(), "nothing to pair with yet");
            assert!(pairs.waiting(0) <= MAX_WAITING_ROWS);
        }
        assert_eq!(pairs.waiting(0), MAX_WAITING_ROWS);
        assert_eq!(pairs.held(0), Some(Change::Waits { ahead: 0 }));
        assert_eq!(pairs.held(0), None, "said once");
        // Run 1 catches up: the pairs come out step by step and run 0 is read again.
        row(&mut pairs, 1);
        row(&mut pairs, 1);
        let pair = pairs.ready_pair().expect("step 1 of both");
        assert!(!pair.on.is_empty() && !pair.off.is_empty());
        assert!(pairs.takes(0));
        // When run 1 ends, run 0's rows no longer wait for anything.
        pairs.end(1);
        assert!(pairs.ready_pair().is_some_and(|p| !p.on.is_empty() && !p.off.is_empty()));
        let mut alone = 0;
        while let Some(pair) = pairs.ready_pair() {
            assert!(pair.off.is_empty());
            alone += 1;
        }
        assert_eq!(alone, MAX_WAITING_ROWS - 2);
        assert!(pairs.takes(0), "nobody left to wait for");
    }

    /// Runs in turn: the second has not started, so the first cannot wait; past the bound
    /// its rows are shown alone (said once) and nothing piles up.
    #[test]
    fn runs_in_turn_show_rows_alone_past_the_bound() {
        let mut pairs = Pairs::new(2, WhenAhead::ShowAlone);
        let mut changes = Vec::new();
        let mut shown = 0;
        for _ in 0..10 * MAX_WAITING_ROWS {
            assert!(pairs.takes(0));
            changes.extend(row(&mut pairs, 0));
            while let Some(pair) = pairs.ready_pair() {
                assert!(pair.off.is_empty());
                shown += 1;
            }
            assert!(pairs.waiting(0) <= MAX_WAITING_ROWS);
        }
        assert_eq!(changes, [Change::Apart { ahead: 0 }]);
        pairs.end(0);
        for _ in 0..3 {
            row(&mut pairs, 1);
        }
        pairs.end(1);
        let mut off = 0;
        while let Some(pair) = pairs.ready_pair() {
            off += usize::from(!pair.off.is_empty());
            shown += 1;
        }
        assert_eq!((shown, off), (10 * MAX_WAITING_ROWS + 3, 3), "every row is shown, once");
    }

    /// Below the bound, nothing changes: step k beside step k.
    #[test]
    fn runs_in_turn_below_the_bound_stay_side_by_side() {
        let mut pairs = Pairs::new(2, WhenAhead::ShowAlone);
        for _ in 0..5 {
            assert_eq!(row(&mut pairs, 0), None);
        }
        pairs.end(0);
        assert!(pairs.ready_pair().is_none(), "run 0's rows wait for run 1's");
        for _ in 0..5 {
            row(&mut pairs, 1);
        }
        pairs.end(1);
        let pairs: Vec<Pair> = std::iter::from_fn(|| pairs.ready_pair()).collect();
        assert_eq!(pairs.len(), 5);
        assert!(pairs.iter().all(|p| !p.on.is_empty() && !p.off.is_empty()));
    }

    #[test]
    fn the_notes_name_the_bound_and_the_runs() {
        let note = Change::Waits { ahead: 0 }.note(Lang::En);
        assert!(note.contains(&MAX_WAITING_ROWS.to_string()) && note.contains("IPC on run is"), "{note}");
        let note = Change::Apart { ahead: 0 }.note(Lang::Ko);
        assert!(note.contains("IPC 끔 실행은 IPC 켬 실행이 끝난 뒤에"), "{note}");
    }
}
