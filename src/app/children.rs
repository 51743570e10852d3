//! Runs that use child processes of ipc-lab, which print their trace events as JSON lines
//! for this process to read back and show in one view:
//! - `--split`: every node of a demo in its own process, as in the chapter's two
//!   terminals, so two pids appear side by side;
//! - `--ipc both`: the IPC-on and the IPC-off variant, each in its own process, so that
//!   neither disturbs the other (two variants on two threads of one process share the
//!   allocator, and then even the addresses a run shows would depend on timing).
//!
//! The children never outlive this process ([`crate::child_process`]); a Ctrl-C reaches
//! only this process, which passes it on once.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use clap::ValueEnum;
use crossbeam_channel::{bounded, Sender};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{render_events, renderer, AppError, Tagged, View};
use crate::cli::plan::{node_uses, DemoPlan, IpcMode, NodeName, Plan};
use crate::engine::transport::{domain_after, runtime_dir, TransportError};
use crate::labels::Labels;
use crate::render::json::from_json;
use crate::render::Columns;

/// A child to start.
struct ChildSpec {
    /// The arguments after the program name.
    args: Vec<String>,
    /// Which run of the view its events belong to.
    run: usize,
    /// It stops by itself (it was given a `--count`).
    counted: bool,
}

/// `ipc-lab WHAT… --ipc … --transport … [--period …] --domain … [--count …]`: a child with
/// the demo's settings (`--period` only where it is used: a node refuses options it ignores).
fn child_args(what: &[&str], ipc: &str, demo: &DemoPlan, domain: u32, count: Option<u64>) -> Vec<String> {
    let mut args: Vec<String> = what.iter().map(|s| s.to_string()).collect();
    args.extend(["--ipc", ipc, "--transport", demo.transport.name()].map(String::from));
    let node = match what {
        ["node", name] => NodeName::from_str(name, false).ok(),
        _ => None,
    };
    if node.map_or(true, |n| node_uses(n, "period")) {
        args.extend(["--period".into(), format!("{}ns", demo.period.as_nanos())]);
    }
    args.extend(["--domain".into(), domain.to_string()]);
    args.extend(count.map(|n| ["--count".to_string(), n.to_string()]).into_iter().flatten());
    args
}

/// `--split`: one child per node, with its share of `--count`.
fn split_children(plan: &Plan, demo: &DemoPlan) -> Vec<ChildSpec> {
    let ipc = if demo.ipc == IpcMode::Off { "off" } else { "on" };
    demo.demo
        .nodes
        .iter()
        .map(|node| {
            let count = node.count.of(demo.count);
            ChildSpec {
                args: child_args(&["node", node.name], ipc, demo, plan.domain, count),
                run: 0,
                counted: count.is_some(),
            }
        })
        .collect()
}

/// `--ipc both`: the demo once with IPC on and once with it off, in domains of their own
/// (the two runs must not hear each other).
fn both_children(plan: &Plan, demo: &DemoPlan) -> Vec<ChildSpec> {
    ["on", "off"]
        .into_iter()
        .enumerate()
        .map(|(run, ipc)| ChildSpec {
            args: child_args(&[demo.demo.command], ipc, demo, domain_after(plan.domain, run as u32), demo.count),
            run,
            counted: demo.count.is_some(),
        })
        .collect()
}

/// The pids of the children not reaped yet, for the Ctrl-C handler (a reaped pid may be
/// another process's soon).
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn interrupt_children() {
    for &pid in CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
}

/// Waits for a child, then takes it off the list the Ctrl-C handler signals.
fn reap(mut child: Child) -> std::io::Result<std::process::ExitStatus> {
    let pid = child.id() as i32;
    let status = child.wait();
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
    status
}

fn spawn(spec: &ChildSpec) -> std::io::Result<Child> {
    crate::child_process::ipc_lab()?
        .args(&spec.args)
        .args(["--format", "json", "--color", "never"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
}

/// `--split`.
pub(super) fn run_split(plan: &Plan, demo: &DemoPlan, out: &mut dyn Write) -> Result<(), AppError> {
    // Said once, before any table: otherwise every child would say it, after an empty one.
    runtime_dir::ensure().map_err(|e| AppError::Transport(TransportError::RuntimeDir(e)))?;
    let runs = vec![demo.ipc != IpcMode::Off];
    let title = demo.demo.upstream;
    let view = View { output: demo.output, title, runs, split: true, columns: Columns::default() };
    run(plan, view, split_children(plan, demo), out)
}

/// `--ipc both`.
pub(super) fn run_both(plan: &Plan, demo: &DemoPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let runs = vec![true, false];
    let title = demo.demo.upstream;
    let view = View { output: demo.output, title, runs, split: false, columns: Columns::default() };
    run(plan, view, both_children(plan, demo), out)
}

/// A started child, and whether it stops by itself (it was given a `--count`).
type Started = (Child, bool);
/// How each child ended, as the supervisor saw it.
type Statuses = Arc<Mutex<Vec<std::io::Result<std::process::ExitStatus>>>>;

fn run(plan: &Plan, view: View, specs: Vec<ChildSpec>, out: &mut dyn Write) -> Result<(), AppError> {
    let runs = view.runs.len();
    let labels = Labels::new(view.output.stable);
    let mut renderer = renderer(plan, view, labels);
    // The first Ctrl-C reaches only us (the children have their own process group).
    let _ = ctrlc::set_handler(interrupt_children);

    let (tx, rx) = bounded(1024);
    let (children, readers) = start(&specs, &tx)?;
    drop(tx);
    let statuses = Statuses::default();
    let supervisor = supervise(children, statuses.clone());

    let done = || supervisor.is_finished() && readers.iter().all(|r| r.is_finished());
    let rendered = render_events(&rx, &done, renderer.as_mut(), runs, &mut || {}, out)
        .and_then(|()| renderer.finish(out))
        .and_then(|()| out.flush());
    if rendered.is_err() {
        interrupt_children();
    }
    drop(rx);
    let _ = supervisor.join();
    for reader in readers {
        let _ = reader.join();
    }
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

/// Starts the children, each with a thread that reads its events back and sends them on
/// `tx`, tagged with its run. If one cannot start, those already started are stopped.
fn start(specs: &[ChildSpec], tx: &Sender<Tagged>) -> Result<(Vec<Started>, Vec<JoinHandle<()>>), AppError> {
    let mut children = Vec::new();
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    for spec in specs {
        let mut child = match spawn(spec) {
            Ok(child) => child,
            Err(e) => {
                interrupt_children();
                return Err(AppError::Spawn(e));
            }
        };
        CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(child.id() as i32);
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, run) = (tx.clone(), spec.run);
        readers.push(thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(event) = from_json(&line) {
                    if tx.send((run, event)).is_err() {
                        break;
                    }
                }
            }
        }));
        children.push((child, spec.counted));
    }
    Ok((children, readers))
}

/// Waits for the children that stop by themselves, then stops the others; records how
/// each ended in `statuses`.
fn supervise(children: Vec<Started>, statuses: Statuses) -> JoinHandle<()> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::plan::{Demo, Format, Output};
    use crate::demos;
    use crate::engine::transport::TransportKind;
    use std::time::Duration;

    fn demo(which: &'static Demo, count: Option<u64>) -> DemoPlan {
        DemoPlan {
            demo: which,
            ipc: IpcMode::Off,
            count,
            period: Duration::ZERO,
            output: Output { format: Format::Json, stable: false },
            split: true,
            transport: TransportKind::Socket,
        }
    }

    fn plan() -> Plan {
        crate::cli::parse(["ipc-lab", "ps"]).unwrap()
    }

    /// `--count` is shared so that the total number of receipts is the one asked for.
    #[test]
    fn counts_are_shared_between_the_children() {
        let counts = |which, n| {
            split_children(&plan(), &demo(which, n))
                .into_iter()
                .map(|c| (c.args[1].clone(), c.args.iter().position(|a| a == "--count").map(|i| c.args[i + 1].clone())))
                .collect::<Vec<_>>()
        };
        let s = |a: &str, n: Option<&str>| (a.to_string(), n.map(String::from));
        assert_eq!(counts(&demos::TWO_NODE, Some(5)), [s("consumer", Some("5")), s("producer", None)]);
        assert_eq!(counts(&demos::CYCLIC, Some(5)), [s("pipe2", Some("3")), s("pipe1", Some("2"))]);
        assert_eq!(counts(&demos::CYCLIC, Some(1)), [s("pipe2", Some("1")), s("pipe1", None)]);
        assert_eq!(counts(&demos::CYCLIC, None), [s("pipe2", None), s("pipe1", None)]);
    }

    /// `--ipc both` runs the two variants in two domains.
    #[test]
    fn both_variants_get_their_own_domain() {
        let children = both_children(&plan(), &demo(&demos::TWO_NODE, Some(3)));
        let domains: Vec<&str> = children
            .iter()
            .map(|c| c.args[c.args.iter().position(|a| a == "--domain").unwrap() + 1].as_str())
            .collect();
        assert_eq!(domains, ["0", "1"]);
        assert!(children.iter().all(|c| c.counted));
    }
}
