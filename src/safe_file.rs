//! Writing a file so that nobody sees it half written and nothing else is written through it:
//! the bytes go to a new temporary file beside it (created with `O_EXCL | O_NOFOLLOW`, so a
//! symlink planted at its name is never followed), which is renamed over the target. A
//! rename replaces a symlink at the target itself, never the file it points to. On any
//! failure (a full disk among them) the temporary file is removed: nothing is left behind.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("a.json");
//! ipc_lab::safe_file::replace(&path, 0o600, |f| std::io::Write::write_all(f, b"{}")).unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"{}");
//! assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
//! ```

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many names are tried when one is taken (by an earlier crash, or planted).
const NAME_ATTEMPTS: u32 = 16;

/// Writes `path` with `write`, all or nothing, readable with `mode`.
pub fn replace(path: &Path, mode: u32, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let (tmp, mut file) = create_temporary(path, mode)?;
    let written = write(&mut file).and_then(|()| file.sync_data().or(Ok(()))).and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// A new file beside `path` that did not exist before (`.NAME.PID.N.tmp`).
fn create_temporary(path: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..NAME_ATTEMPTS {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&tmp);
        match opened {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symlink where the temporary file would go, or at the target, is never written
    /// through: the file it points to keeps its bytes.
    #[test]
    fn symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"keep").unwrap();
        let path = dir.path().join("a.json");
        for n in 0..64 {
            let planted = dir.path().join(format!(".a.json.{}.{n}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let _ = replace(&path, 0o600, |f| io::Write::write_all(f, b"new"));
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }

    /// A failed write leaves neither a temporary file nor a partial target.
    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let failed = replace(&path, 0o644, |f| {
            io::Write::write_all(f, b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
