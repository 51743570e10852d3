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
use crate::render::ps::{self, Entry};

/// Shows every running ipc-lab process, as a table or (`json`) one JSON object a line.
pub fn run(plan: &Plan, json: bool, out: &mut dyn Write) -> Result<(), AppError> {
    let entries = entries()?;
    if json { ps::json_lines(out, &entries) } else { ps::table(out, &entries, plan.lang) }.map_err(AppError::Output)
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
            uptime_s: now.saturating_sub(a.started),
            announcement: a,
        })
        .collect())
}
