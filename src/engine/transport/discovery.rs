//! Discovery: each process writes an announcement of its nodes and endpoints into the
//! runtime directory, and reads the others'. Entries of processes that are gone are
//! removed by whoever notices first, with their sockets.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One publisher or subscription as announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub node: String,
    pub topic: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// What a process says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub pid: u32,
    pub ppid: u32,
    /// The command line, for `ipc-lab ps`.
    pub command: String,
    /// Only processes of the same domain talk to each other.
    pub domain: u32,
    /// Seconds since the Unix epoch when the process started announcing.
    pub started: u64,
    /// `on`, `off` or `mixed`: the intra-process setting of its nodes.
    pub ipc: String,
    /// `socket` or `shm`.
    pub transport: String,
    /// Where it listens for frames.
    pub socket: PathBuf,
    pub nodes: Vec<String>,
    pub publishers: Vec<Endpoint>,
    pub subscriptions: Vec<Endpoint>,
}

/// The announcement file of a process in a domain.
pub fn announcement_path(dir: &Path, pid: u32, domain: u32) -> PathBuf {
    dir.join(format!("{pid}-{domain}.json"))
}

/// The socket a process listens on in a domain.
pub fn socket_path(dir: &Path, pid: u32, domain: u32) -> PathBuf {
    dir.join(format!("{pid}-{domain}.sock"))
}

/// Whether a process exists (a zombie or another user's process counts as existing).
pub fn is_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else { return false };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
        Ok(()) => true,
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// Writes atomically, readable by this user only, never through a symlink, leaving no
/// temporary file behind on failure ([`crate::safe_file`]).
pub fn write(dir: &Path, announcement: &Announcement) -> io::Result<()> {
    let path = announcement_path(dir, announcement.pid, announcement.domain);
    let bytes = serde_json::to_vec(announcement).map_err(io::Error::other)?;
    crate::safe_file::replace(&path, 0o600, |file| file.write_all(&bytes))
}

/// Removes a process's files in a domain.
pub fn remove(dir: &Path, pid: u32, domain: u32) {
    let _ = fs::remove_file(announcement_path(dir, pid, domain));
    let _ = fs::remove_file(socket_path(dir, pid, domain));
}

/// `<pid>-<domain>` from a file name.
fn parse_stem(stem: &str) -> Option<(u32, u32)> {
    let (pid, domain) = stem.split_once('-')?;
    Some((pid.parse().ok()?, domain.parse().ok()?))
}

/// The process and domain of a temporary announcement file ([`crate::safe_file`]'s name).
fn temporary_of(name: &str) -> Option<(u32, u32)> {
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    parse_stem(stem.split_once(".json.")?.0)
}

/// Every live process's announcement; the files of dead processes are removed.
pub fn read_all(dir: &Path) -> Vec<Announcement> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        // A temporary file of a process that died while writing (`.<pid>-<domain>.json.…`).
        if let Some((pid, _)) = name.to_str().and_then(temporary_of) {
            if !is_alive(pid) {
                let _ = fs::remove_file(entry.path());
            }
            continue;
        }
        // A socket whose process is gone (killed before it announced, or after).
        if let Some((pid, domain)) = name.to_str().and_then(|n| n.strip_suffix(".sock")).and_then(parse_stem) {
            if !is_alive(pid) {
                remove(dir, pid, domain);
            }
            continue;
        }
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        let Some((pid, domain)) = parse_stem(stem) else { continue };
        if !is_alive(pid) {
            remove(dir, pid, domain);
            continue;
        }
        // A file being replaced can be read half-written on some file systems: skip it
        // this time, it is read again on the next scan.
        if let Some(a) = fs::read(entry.path()).ok().and_then(|b| serde_json::from_slice::<Announcement>(&b).ok()) {
            if a.pid == pid {
                found.push(a);
            }
        }
    }
    found.sort_by_key(|a| (a.pid, a.domain));
    found
}
