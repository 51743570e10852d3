//! `--split`: every node of a demo in its own child process of ipc-lab, as in the chapter's
//! two terminals. The children print their trace events as JSON lines; this process reads
//! them back and shows them in one view, so two pids appear side by side.
//!
//! Children get their own process group (a Ctrl-C in the terminal reaches only this
//! process, which passes it on once) and die with this process if it is killed
//! (`PR_SET_PDEATHSIG`): no orphans are left behind.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crossbeam_channel::bounded;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{render_events, renderer, AppError, View};
use crate::cli::plan::{Demo, DemoPlan, IpcMode, Plan};
use crate::render::json::from_json;

/// A child and whether it stops by itself (it was given a `--count`).
struct Node {
    name: &'static str,
    count: Option<u64>,
}

/// Which nodes to start, in order, with their share of `--count`.
fn nodes(demo: &DemoPlan) -> Vec<Node> {
    match demo.demo {
        // The consumer counts the received messages; the producer is stopped after it.
        Demo::TwoNode => vec![Node { name: "consumer", count: demo.count }, Node { name: "producer", count: None }],
        // The message alternates: pipe2 receives first, so it gets the larger half.
        Demo::Cyclic => {
            let half = |n: u64| (n > 0).then_some(n);
            vec![
                Node { name: "pipe2", count: demo.count.map(|n| n.div_ceil(2)) },
                Node { name: "pipe1", count: demo.count.and_then(|n| half(n / 2)) },
            ]
        }
    }
}

/// The pids of the children not reaped yet, for the Ctrl-C handler (a reaped pid may be
/// another process's soon).
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Waits for a child, first taking it off the list the Ctrl-C handler signals.
fn reap(mut child: Child) -> std::io::Result<std::process::ExitStatus> {
    let pid = child.id() as i32;
    let status = child.wait();
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
    status
}

fn interrupt_children() {
    for &pid in CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
}

fn spawn(plan: &Plan, demo: &DemoPlan, node: &Node) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let ipc = if demo.ipc == IpcMode::Off { "off" } else { "on" };
    let mut command = Command::new(exe);
    command
        .args(["node", node.name, "--ipc", ipc, "--format", "json", "--color", "never"])
        .args(["--period", &format!("{}ns", demo.period.as_nanos())])
        .args(["--transport", demo.transport.name(), "--domain", &plan.domain.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if let Some(n) = node.count {
        command.args(["--count", &n.to_string()]);
    }
    // SAFETY: runs in the child between fork and exec, where only async-signal-safe calls
    // are allowed: setpgid and prctl are plain system calls.
    let parent = nix::unistd::getpid();
    unsafe {
        command.pre_exec(move || {
            nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // The parent may have died before the line above: then nobody would stop us.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the parent process is gone"));
            }
            Ok(())
        });
    }
    command.spawn()
}

pub(super) fn run(plan: &Plan, demo: &DemoPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let runs = vec![demo.ipc != IpcMode::Off];
    let view = View { format: demo.format, stable: demo.stable, title: demo.demo.upstream_name(), runs, split: true };
    let mut renderer = renderer(plan, view);
    // The first Ctrl-C reaches only us (the children have their own process group).
    let _ = ctrlc::set_handler(interrupt_children);

    let (tx, rx) = bounded(1024);
    let mut children = Vec::new();
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    for node in nodes(demo) {
        let mut child = match spawn(plan, demo, &node) {
            Ok(child) => child,
            Err(e) => {
                interrupt_children();
                return Err(AppError::Spawn(e));
            }
        };
        CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(child.id() as i32);
        let stdout = child.stdout.take().expect("stdout is piped");
        let tx = tx.clone();
        readers.push(thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(event) = from_json(&line) {
                    if tx.send((0, event)).is_err() {
                        break;
                    }
                }
            }
        }));
        children.push((child, node.count.is_some()));
    }
    drop(tx);

    // Waits for the children that stop by themselves, then stops the others.
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let supervisor = {
        let statuses = statuses.clone();
        thread::spawn(move || {
            let (counted, others): (Vec<_>, Vec<_>) = children.into_iter().partition(|(_, counted)| *counted);
            let stops_by_itself = !counted.is_empty();
            for (child, _) in counted {
                statuses.lock().unwrap_or_else(|e| e.into_inner()).push(reap(child));
            }
            if stops_by_itself {
                for (child, _) in &others {
                    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
                }
            }
            for (child, _) in others {
                statuses.lock().unwrap_or_else(|e| e.into_inner()).push(reap(child));
            }
        })
    };

    let done = || supervisor.is_finished() && readers.iter().all(|r| r.is_finished());
    let rendered = render_events(&rx, &done, renderer.as_mut(), 1, out);
    if rendered.is_err() {
        interrupt_children();
    }
    drop(rx);
    let _ = supervisor.join();
    for reader in readers {
        let _ = reader.join();
    }
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).clear();
    rendered.map_err(AppError::Output)?;
    // Children stop with 0 (or 130 after a second Ctrl-C). Anything else, a signal that
    // killed one included, is a failure: it said why on stderr, or the signal says it.
    let failed = statuses.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|s| match s {
        Ok(status) => !matches!(status.code(), Some(0 | 130)),
        Err(_) => true,
    });
    if failed {
        return Err(AppError::ChildFailed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn demo(which: Demo, count: Option<u64>) -> DemoPlan {
        DemoPlan {
            demo: which,
            ipc: IpcMode::Off,
            count,
            period: Duration::ZERO,
            format: crate::cli::plan::Format::Json,
            stable: false,
            split: true,
            transport: crate::engine::transport::TransportKind::Socket,
        }
    }

    /// `--count` is shared so that the total number of receipts is the one asked for.
    #[test]
    fn counts_are_shared_between_the_children() {
        let counts = |which, n| nodes(&demo(which, n)).iter().map(|n| (n.name, n.count)).collect::<Vec<_>>();
        assert_eq!(counts(Demo::TwoNode, Some(5)), [("consumer", Some(5)), ("producer", None)]);
        assert_eq!(counts(Demo::Cyclic, Some(5)), [("pipe2", Some(3)), ("pipe1", Some(2))]);
        assert_eq!(counts(Demo::Cyclic, Some(1)), [("pipe2", Some(1)), ("pipe1", None)]);
        assert_eq!(counts(Demo::Cyclic, None), [("pipe2", None), ("pipe1", None)]);
    }
}
