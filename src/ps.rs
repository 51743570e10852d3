//! `ipc-lab ps`: the chapter's `ps -e`, made useful. Every running ipc-lab process, read from
//! the announcements in the runtime directory (entries of dead processes are removed, never
//! shown), with its memory and uptime from the operating system.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::app::AppError;
use crate::cli::plan::Plan;
use crate::engine::transport::discovery::{self, Announcement};
use crate::engine::transport::runtime_dir;
use crate::i18n::Lang;
use crate::render::bytes;
use crate::render::style::{pad, visible_width};

/// One process as `ps` shows it.
struct Entry {
    announcement: Announcement,
    rss_bytes: Option<u64>,
    uptime_s: u64,
}

fn entries() -> Vec<Entry> {
    let dir = runtime_dir::location();
    // An unsafe directory is not read: its announcements could come from anyone.
    if runtime_dir::check(&dir).is_err() {
        return Vec::new();
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
    announcements
        .into_iter()
        .map(|a| Entry {
            rss_bytes: system.process(Pid::from_u32(a.pid)).map(|p| p.memory()),
            uptime_s: now.saturating_sub(a.started),
            announcement: a,
        })
        .collect()
}

fn topics(endpoints: &[discovery::Endpoint]) -> String {
    let mut topics: Vec<&str> = endpoints.iter().map(|e| e.topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    if topics.is_empty() {
        "-".into()
    } else {
        topics.join(",")
    }
}

pub fn run(plan: &Plan, json: bool, out: &mut dyn Write) -> Result<(), AppError> {
    let entries = entries();
    let write = |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(AppError::Output);
    if json {
        for e in &entries {
            let a = &e.announcement;
            let object = json!({
                "pid": a.pid,
                "ppid": a.ppid,
                "command": a.command,
                "domain": a.domain,
                "nodes": a.nodes,
                "publishes": a.publishers.iter().map(|p| &p.topic).collect::<Vec<_>>(),
                "subscribes": a.subscriptions.iter().map(|s| &s.topic).collect::<Vec<_>>(),
                "ipc": a.ipc,
                "transport": a.transport,
                "rss_bytes": e.rss_bytes,
                "uptime_s": e.uptime_s,
            });
            write(out, object.to_string())?;
        }
        return Ok(());
    }
    if entries.is_empty() {
        let none = plan.lang.pick("실행 중인 ipc-lab 프로세스가 없습니다", "no ipc-lab process is running");
        return write(out, none.to_string());
    }
    let header: [&str; 9] = match plan.lang {
        Lang::Ko => ["PID", "PPID", "실행 시간", "메모리", "IPC", "전송", "노드", "발행 / 구독", "명령"],
        Lang::En => ["PID", "PPID", "UPTIME", "RSS", "IPC", "TRANSPORT", "NODES", "PUBLISHES / SUBSCRIBES", "COMMAND"],
    };
    let rows: Vec<[String; 9]> = entries
        .iter()
        .map(|e| {
            let a = &e.announcement;
            [
                a.pid.to_string(),
                a.ppid.to_string(),
                format!("{}s", e.uptime_s),
                e.rss_bytes.map_or("-".into(), bytes),
                a.ipc.clone(),
                a.transport.clone(),
                a.nodes.join(","),
                format!("{} / {}", topics(&a.publishers), topics(&a.subscriptions)),
                a.command.clone(),
            ]
        })
        .collect();
    // Each column as wide as its widest cell: node lists and commands vary a lot.
    let header = header.map(String::from);
    let widths: Vec<usize> =
        (0..9).map(|c| rows.iter().chain([&header]).map(|r| visible_width(&r[c])).max().unwrap_or(0)).collect();
    let line = |cells: &[String; 9]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, &w)| pad(c, w)).collect();
        padded.join("  ").trim_end().to_string()
    };
    write(out, line(&header))?;
    for row in &rows {
        write(out, line(row))?;
    }
    Ok(())
}
