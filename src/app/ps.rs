//! `ipc-lab ps`: the chapter's `ps -e`, made useful. Every running ipc-lab process, read from
//! the announcements in the runtime directory (entries of dead processes are removed, never
//! shown), with its memory and uptime from the operating system. Collected here, shown by
//! [`crate::render::ps`].

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::AppError;
use crate::cli::plan::Plan;
use crate::engine::transport::discovery;
use crate::engine::transport::{runtime_dir, TransportError};
use crate::render::ps::{self, Entry, SharedMemory};

/// Shows every running ipc-lab process, as a table or (`json`) one JSON object a line.
pub fn run(plan: &Plan, json: bool, out: &mut dyn Write) -> Result<(), AppError> {
    let entries = entries()?;
    if json { ps::json_lines(out, &entries) } else { ps::table(out, &entries, plan.lang, plan.width) }
        .map_err(AppError::Output)
}

/// The processes announced in the runtime directory, with what the system says of them.
/// An unsafe directory is an error, not "nobody runs": its announcements could come from
/// anyone, and the learner must hear why none are shown.
fn entries() -> Result<Vec<Entry>, AppError> {
    let dir = runtime_dir::location();
    match runtime_dir::check(&dir) {
        Ok(()) => {}
        // Nobody has announced anything yet.
        Err(runtime_dir::RuntimeDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(AppError::Transport(TransportError::RuntimeDir(e))),
    }
    let announcements = discovery::read_all(&dir);
    let pids: Vec<Pid> = announcements.iter().map(|a| Pid::from_u32(a.pid)).collect();
    let mut system = System::new();
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&pids),
        true,
        ProcessRefreshKind::nothing().with_memory(),
    );
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Ok(announcements
        .into_iter()
        .map(|a| Entry {
            rss_bytes: system.process(Pid::from_u32(a.pid)).map(|p| p.memory()),
            shared_memory: shared_memory(a.pid),
            uptime_s: now.saturating_sub(a.started),
            announcement: a,
        })
        .collect())
}

/// The memfd name of the shared-memory slots, as `/proc/<pid>/smaps` shows their mappings.
const SLOT_MAPPING: &str = "/memfd:ipc-lab-pool";

/// What `pid` has mapped of shared-memory slots, from `/proc/<pid>/smaps` (readable for our
/// own processes without privilege): Rss counts every resident page it maps, Pss divides each
/// page by the number of processes mapping it, so a slot read by a second process halves in
/// both. `None` if the process maps no slot.
fn shared_memory(pid: u32) -> Option<SharedMemory> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let mut total: Option<SharedMemory> = None;
    let mut in_slot = false;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let (Some(first), second) = (words.next(), words.next()) else { continue };
        // A mapping's first line starts with its address range (`7f..-7f..`).
        if first.contains('-') && !first.ends_with(':') {
            in_slot = line.contains(SLOT_MAPPING);
            continue;
        }
        let kib = || second.and_then(|n| n.parse::<u64>().ok()).unwrap_or(0) * 1024;
        if in_slot {
            let sum = total.get_or_insert(SharedMemory::default());
            match first {
                "Rss:" => sum.rss_bytes += kib(),
                "Pss:" => sum.pss_bytes += kib(),
                _ => {}
            }
        }
    }
    total
}
