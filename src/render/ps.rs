//! `ipc-lab ps` shown: a table sized to its cells, or one JSON object a line. The processes
//! are collected by `app::ps`.

use std::io::{self, Write};

use serde_json::json;

use super::bytes;
use super::fit;
use super::style::{pad, visible_width};
use crate::engine::text::printable;
use crate::engine::transport::discovery::{self, Announcement};
use crate::i18n::{Lang, Text};

/// One process as `ps` shows it.
pub struct Entry {
    /// What the process says of itself in the runtime directory.
    pub announcement: Announcement,
    /// Its resident memory, if the system still knows the process.
    pub rss_bytes: Option<u64>,
    /// The shared-memory slots it maps, if any.
    pub shared_memory: Option<SharedMemory>,
    pub uptime_s: u64,
}

/// A process's share of shared-memory slots (`/proc/<pid>/smaps`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedMemory {
    /// Resident pages of the slots it maps, each counted whole.
    pub rss_bytes: u64,
    /// The same pages, each divided by the number of processes that map it.
    pub pss_bytes: u64,
}

/// The column shown when some process maps shared-memory slots.
const SHM_HEADER: Text = Text { ko: "공유 메모리 Pss", en: "SHM PSS" };

const NONE_RUNNING: Text =
    Text { ko: "실행 중인 ipc-lab 프로세스가 없습니다", en: "no ipc-lab process is running" };
const HEADER_KO: [&str; 9] = ["PID", "PPID", "실행 시간", "메모리", "IPC", "전송", "노드", "발행 / 구독", "명령"];
const HEADER_EN: [&str; 9] =
    ["PID", "PPID", "UPTIME", "RSS", "IPC", "TRANSPORT", "NODES", "PUBLISHES / SUBSCRIBES", "COMMAND"];

/// One JSON object per process and line.
pub fn json_lines(out: &mut dyn Write, entries: &[Entry]) -> io::Result<()> {
    for e in entries {
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
            "shm_rss_bytes": e.shared_memory.map(|s| s.rss_bytes),
            "shm_pss_bytes": e.shared_memory.map(|s| s.pss_bytes),
            "uptime_s": e.uptime_s,
        });
        writeln!(out, "{object}")?;
    }
    Ok(())
}

/// The table, each column as wide as its widest cell: node lists and commands vary a lot.
/// When a row does not fit in `width` columns, its topics and its command go on the lines
/// under it.
pub fn table(out: &mut dyn Write, entries: &[Entry], lang: Lang, width: Option<usize>) -> io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "{}", NONE_RUNNING.get(lang));
    }
    let header = match lang {
        Lang::Ko => HEADER_KO,
        Lang::En => HEADER_EN,
    };
    // Only when some process maps shared memory, after RSS.
    let shm = entries.iter().any(|e| e.shared_memory.is_some());
    let with_shm = |mut cells: Vec<String>, cell: String| {
        if shm {
            cells.insert(4, cell);
        }
        cells
    };
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| with_shm(row(e).to_vec(), e.shared_memory.map_or("-".into(), |s| bytes(s.pss_bytes))))
        .collect();
    let header = with_shm(header.map(String::from).to_vec(), SHM_HEADER.get(lang).into());
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().chain([&header]).map(|r| visible_width(&r[c])).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, &w)| pad(c, w)).collect();
        padded.join("  ").trim_end().to_string()
    };
    let fits = rows.iter().chain([&header]).all(|row| fit::fits(&line(row), width));
    // The topics and the command are the last two cells: narrow, they stand under the row.
    let (topics, command) = (header.len() - 2, header.len() - 1);
    let kept = if fits { header.len() } else { topics };
    writeln!(out, "{}", line(&header[..kept]))?;
    for row in &rows {
        writeln!(out, "{}", line(&row[..kept]))?;
        if !fits {
            for text in [format!("    {}: {}", header[topics], row[topics]), format!("    {}", row[command])] {
                fit::lines(&text, width, "      ").iter().try_for_each(|l| writeln!(out, "{l}"))?;
            }
        }
    }
    Ok(())
}

/// One process's cells, in the header's order. Everything in an announcement was written
/// by another process: its control characters are escaped before they reach the terminal.
fn row(e: &Entry) -> [String; 9] {
    let a = &e.announcement;
    let cells = [
        a.pid.to_string(),
        a.ppid.to_string(),
        format!("{}s", e.uptime_s),
        e.rss_bytes.map_or("-".into(), bytes),
        a.ipc.clone(),
        a.transport.clone(),
        a.nodes.join(","),
        format!("{} / {}", topics(&a.publishers), topics(&a.subscriptions)),
        a.command.clone(),
    ];
    cells.map(|c| printable(&c).into_owned())
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
