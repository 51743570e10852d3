//! Child processes of ipc-lab (`--split`, `--ipc both`, the bench's peer): each in its own
//! process group, so that a Ctrl-C in the terminal reaches only the parent, which passes it
//! on once; and each dying with the parent (`PR_SET_PDEATHSIG`), so no orphan is left.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// This very ipc-lab binary, as a child that will not outlive this process.
pub fn ipc_lab() -> io::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    let parent = nix::unistd::getpid();
    // SAFETY: runs in the child between fork and exec, where only async-signal-safe calls
    // are allowed: setpgid, prctl and getppid are plain system calls.
    unsafe {
        command.pre_exec(move || {
            nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // The parent may have died before the line above: then nobody would stop us.
            if nix::unistd::getppid() != parent {
                return Err(io::Error::other("the parent process is gone"));
            }
            Ok(())
        });
    }
    Ok(command)
}
