//! The per-user runtime directory where processes announce themselves and listen:
//! `$XDG_RUNTIME_DIR/ipc-lab`, else `/tmp/ipc-lab-<uid>`. Created with mode 0700; refused
//! if another user owns it or others may write to it, so nobody else can plant a socket
//! or an announcement there.

use std::fmt;
use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Why the runtime directory cannot be used.
#[derive(Debug)]
pub enum RuntimeDirError {
    /// It could not be created or inspected.
    Io { path: PathBuf, source: io::Error },
    /// It exists but is a symlink or not a directory.
    NotADirectory(PathBuf),
    /// Another user owns it.
    NotOwned { path: PathBuf, owner: u32 },
    /// Group or others may write to it.
    TooOpen { path: PathBuf, mode: u32 },
}

impl fmt::Display for RuntimeDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeDirError::Io { path, source } => write!(f, "cannot use {}: {source}", path.display()),
            RuntimeDirError::NotADirectory(path) => write!(f, "{} is not a directory", path.display()),
            RuntimeDirError::NotOwned { path, owner } => {
                write!(f, "{} belongs to user {owner}, not to you: remove it or set XDG_RUNTIME_DIR", path.display())
            }
            RuntimeDirError::TooOpen { path, mode } => {
                write!(f, "{} has mode {mode:o}: others could write there; run chmod 700 on it", path.display())
            }
        }
    }
}

impl std::error::Error for RuntimeDirError {}

/// Where the runtime directory is (not creating it).
pub fn location() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(base) => Path::new(&base).join("ipc-lab"),
        None => std::env::temp_dir().join(format!("ipc-lab-{}", nix::unistd::getuid())),
    }
}

/// Creates the runtime directory if needed and checks that it is safe to use.
pub fn ensure() -> Result<PathBuf, RuntimeDirError> {
    let path = location();
    // Only the leaf is created: a base directory that does not exist is a mistake in the
    // environment, not something to build.
    match DirBuilder::new().mode(0o700).create(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(RuntimeDirError::Io { path, source }),
    }
    check(&path)?;
    Ok(path)
}

/// The ownership and permission checks, on an existing path.
pub fn check(path: &Path) -> Result<(), RuntimeDirError> {
    let meta = std::fs::symlink_metadata(path).map_err(|source| RuntimeDirError::Io { path: path.into(), source })?;
    if !meta.is_dir() {
        return Err(RuntimeDirError::NotADirectory(path.into()));
    }
    let me = nix::unistd::getuid().as_raw();
    if meta.uid() != me {
        return Err(RuntimeDirError::NotOwned { path: path.into(), owner: meta.uid() });
    }
    // With the sticky and set-id bits: `1777` is what `ls` shows and what to look for.
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(RuntimeDirError::TooOpen { path: path.into(), mode });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn refuses_a_directory_others_can_write() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(check(dir.path()), Err(RuntimeDirError::TooOpen { mode: 0o777, .. })));
        // /tmp's mode, reported as it is: the sticky bit does not make it safe.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        let err = check(dir.path()).unwrap_err();
        assert!(err.to_string().contains("mode 1777"), "{err}");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check(dir.path()).is_ok());
    }

    #[test]
    fn refuses_a_file_or_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        assert!(matches!(check(&file), Err(RuntimeDirError::NotADirectory(_))));
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        assert!(matches!(check(&link), Err(RuntimeDirError::NotADirectory(_))));
    }
}
