//! Discovery: each process writes an announcement of its nodes and endpoints into the
//! runtime directory, and reads the others'. Entries of processes that are gone are
//! removed by whoever notices first, with their sockets.
//!
//! An announcement is believed only if what it says can be checked: it is a plain file of
//! ours no larger than [`MAX_ANNOUNCEMENT`], its socket is `<pid>-<domain>.sock` in the
//! runtime directory (a socket of ours, not a symlink), and the announced process is ours
//! and holds that socket (its listener, as `/proc` shows). So a forged file can neither
//! lend another process's name (and memory, in `ps`) nor send our frames to a socket
//! elsewhere. A file is read again only when it changed (inode, length or time).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// The largest announcement read. A real one is well under this (a few hundred bytes per
/// endpoint); a larger file is not read at all (a 50 MB one, read every scan, cost every
/// process a third of a core and 116 MB).
pub const MAX_ANNOUNCEMENT: u64 = 64 * 1024;

/// What tells one version of a file from another without reading it: a replaced file
/// ([`crate::safe_file`] renames) has a new inode, a rewritten one a new length or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        Stamp { ino: meta.ino(), len: meta.len(), mtime: meta.mtime(), mtime_nsec: meta.mtime_nsec() }
    }
}

/// An announcement file as last read.
struct Seen {
    /// The file's version then.
    stamp: Stamp,
    /// What it said, if it was believed.
    believed: Option<Announcement>,
}

/// The announcement files as last read, by path. Shared by the process's domains; entries
/// of files gone are dropped.
static READ: Mutex<BTreeMap<PathBuf, Seen>> = Mutex::new(BTreeMap::new());

/// The announcement at `path` (of `pid` in `domain`), if it is believed; read again only if
/// the file changed since the last time.
fn announcement_at(dir: &Path, path: &Path, pid: u32, domain: u32) -> Option<Announcement> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.uid() != nix::unistd::getuid().as_raw() || meta.len() > MAX_ANNOUNCEMENT {
        return None;
    }
    let stamp = Stamp::of(&meta);
    let mut read = READ.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(seen) = read.get(path) {
        if seen.stamp == stamp {
            return seen.believed.clone();
        }
    }
    // A file being replaced can be read half-written on some file systems: then its stamp
    // changes again, and it is read again.
    let announcement = read_capped(path)
        .and_then(|b| serde_json::from_slice::<Announcement>(&b).ok())
        .filter(|a| a.pid == pid && a.domain == domain && holds_its_socket(dir, a));
    read.insert(path.to_path_buf(), Seen { stamp, believed: announcement.clone() });
    announcement
}

/// Whether process `pid` has an announcement in `domain` that can be believed (checked as
/// [`read_all`] checks every one), read now: a process that just started may not have been
/// seen by a scan yet.
pub fn believed(dir: &Path, pid: u32, domain: u32) -> bool {
    announcement_at(dir, &announcement_path(dir, pid, domain), pid, domain).is_some()
}

/// The announcement in the file at `path` as it is now (this process's own, to see whether
/// it must be written again), read as any other: capped, never through a symlink.
pub fn read_one(path: &Path) -> Option<Announcement> {
    read_capped(path).and_then(|b| serde_json::from_slice(&b).ok())
}

/// The bytes of `path`, never through a symlink and never more than [`MAX_ANNOUNCEMENT`].
fn read_capped(path: &Path) -> Option<Vec<u8>> {
    let file = fs::OpenOptions::new().read(true).custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits()).open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_ANNOUNCEMENT + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_ANNOUNCEMENT).then_some(bytes)
}

/// Whether the announced socket is the one a process of ours listens on in this directory:
/// `<pid>-<domain>.sock` there, a socket of ours (not a symlink), held by that process.
fn holds_its_socket(dir: &Path, a: &Announcement) -> bool {
    let expected = socket_path(dir, a.pid, a.domain);
    let me = nix::unistd::getuid().as_raw();
    let Ok(meta) = fs::symlink_metadata(&a.socket) else { return false };
    let process_is_ours = fs::metadata(format!("/proc/{}", a.pid)).is_ok_and(|m| m.uid() == me);
    a.socket == expected
        && meta.file_type().is_socket()
        && meta.uid() == me
        && process_is_ours
        && bound_inodes(a.pid, &a.socket).iter().any(|inode| holds(a.pid, *inode))
}

/// The inodes of the sockets bound at `path`, from the table of `pid`'s network namespace
/// (`/proc/<pid>/net/unix`: `Num RefCount Protocol Flags Type St Inode Path`).
fn bound_inodes(pid: u32, path: &Path) -> Vec<u64> {
    let Ok(table) = fs::read_to_string(format!("/proc/{pid}/net/unix")) else { return Vec::new() };
    let same_place = |bound: &Path| {
        bound == path
            || (bound.file_name() == path.file_name()
                && bound.parent().and_then(|p| p.canonicalize().ok())
                    == path.parent().and_then(|p| p.canonicalize().ok()))
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Seven fields, then the path, which may hold spaces.
            let mut rest = line;
            let mut inode = None;
            for _ in 0..7 {
                let field = rest.trim_start();
                let end = field.find(' ').unwrap_or(field.len());
                inode = field[..end].parse::<u64>().ok();
                rest = &field[end..];
            }
            let bound = rest.strip_prefix(' ')?;
            same_place(Path::new(bound)).then_some(inode?)
        })
        .collect()
}

/// Whether process `pid` has socket `inode` open.
fn holds(pid: u32, inode: u64) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    let wanted = format!("socket:[{inode}]");
    fds.flatten().any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == wanted.as_str()))
}

/// Checks that the process listening at the other end of `stream` is `pid`, the one whose
/// announcement named the socket, as the kernel says (`SO_PEERCRED`: the listener's
/// credentials). A socket now held by someone else is not written to.
pub fn check_listener(stream: &std::os::unix::net::UnixStream, pid: u32) -> io::Result<()> {
    let cred = nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)?;
    if u32::try_from(cred.pid()).ok() == Some(pid) {
        return Ok(());
    }
    let found = cred.pid();
    Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("the socket of pid {pid} is held by pid {found}")))
}

/// Every live process's announcement that can be believed; the files of dead processes are
/// removed.
pub fn read_all(dir: &Path) -> Vec<Announcement> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut found = Vec::new();
    let mut seen = HashSet::new();
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
        let path = entry.path();
        found.extend(announcement_at(dir, &path, pid, domain));
        seen.insert(path);
    }
    READ.lock().unwrap_or_else(|e| e.into_inner()).retain(|path, _| path.parent() != Some(dir) || seen.contains(path));
    found.sort_by_key(|a| (a.pid, a.domain));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(dir: &Path, command: &str) -> Announcement {
        let pid = std::process::id();
        Announcement {
            pid,
            ppid: 1,
            command: command.into(),
            domain: 7,
            started: 0,
            ipc: "on".into(),
            transport: "socket".into(),
            socket: socket_path(dir, pid, 7),
            nodes: vec!["n".into()],
            publishers: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    /// An announcement is read once, then again only when its file changed: bytes rewritten
    /// in place with the same length and time are not seen (the file was not read), a new
    /// length is.
    #[test]
    fn an_announcement_is_read_again_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let _listener = std::os::unix::net::UnixListener::bind(socket_path(dir, std::process::id(), 7)).unwrap();
        write(dir, &announcement(dir, "aaaa")).unwrap();
        assert_eq!(read_all(dir)[0].command, "aaaa");

        let path = announcement_path(dir, std::process::id(), 7);
        let modified = fs::metadata(&path).unwrap().modified().unwrap();
        let same_length = serde_json::to_vec(&announcement(dir, "bbbb")).unwrap();
        let mut file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all(&same_length).unwrap();
        file.set_times(fs::FileTimes::new().set_modified(modified)).unwrap();
        drop(file);
        assert_eq!(read_all(dir)[0].command, "aaaa", "read again although nothing told it changed");

        write(dir, &announcement(dir, "ccccc")).unwrap();
        assert_eq!(read_all(dir)[0].command, "ccccc");
    }
}
