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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use clap::ValueEnum;
use crossbeam_channel::Sender;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::pairs::WhenAhead;
use super::{event_channel, render_events, renderer, AppError, Feeds, View};
use crate::cli::plan::{node_uses, DemoPlan, IpcMode, NodeName, Plan, QosPlan};
use crate::engine::trace::TraceEvent;
use crate::engine::transport::{discovery, domain_after, runtime_dir, TransportError};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::render::json::from_json;
use crate::render::Columns;

/// A child to start.
struct ChildSpec {
    /// What the learner calls it: the node's name (`--split`) or the run (`--ipc both`).
    name: String,
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
    if node.is_none_or(|n| node_uses(n, "period")) {
        args.extend(["--period".into(), format!("{}ns", demo.period.as_nanos())]);
    }
    // The QoS options only where they differ from upstream's, as a learner would type them.
    if demo.qos != QosPlan::upstream() {
        args.extend(demo.qos.args());
    }
    if demo.loan {
        args.push("--loan".into());
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
                name: node.name.to_string(),
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
            name: format!("{} --ipc {ipc}", demo.demo.command),
            args: child_args(&[demo.demo.command], ipc, demo, domain_after(plan.domain, run as u32), demo.count),
            run,
            counted: demo.count.is_some(),
        })
        .collect()
}

/// The pids of the children not reaped yet, for the Ctrl-C handler (a reaped pid may be
/// another process's soon).
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Whether Ctrl-C reached this process (rather than the children ending on their own).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether the user pressed Ctrl-C during `--split` or `--ipc both`.
pub(super) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn interrupt_children() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    for &pid in CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
}

/// Takes a reaped child off the list the Ctrl-C handler signals.
fn forget(child: &Child) {
    let pid = child.id() as i32;
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).retain(|&p| p != pid);
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

/// A started child.
struct Started {
    child: Child,
    name: String,
    /// It stops by itself (it was given a `--count`).
    counted: bool,
}

/// The first child that ended badly, as the supervisor saw it.
type Failure = Arc<Mutex<Option<ChildFailure>>>;

/// How often the supervisor looks at its children: a dead one is noticed within this.
const SUPERVISE_PERIOD: Duration = Duration::from_millis(100);
/// How long a node of `--split` may run on after another ended cleanly (to receive the last
/// messages of its own count) before it is stopped.
const PEER_GRACE: Duration = Duration::from_secs(2);

fn run(plan: &Plan, view: View, specs: Vec<ChildSpec>, out: &mut dyn Write) -> Result<(), AppError> {
    let runs = view.runs.len();
    let dependent = view.split;
    let labels = Labels::new(view.output.stable);
    let mut renderer = renderer(plan, view, labels);
    // The first Ctrl-C reaches only us (the children have their own process group).
    let _ = ctrlc::set_handler(interrupt_children);

    let (senders, channels): (Vec<_>, Vec<_>) = (0..runs).map(|_| event_channel()).unzip();
    let (children, readers) = start(&specs, &senders)?;
    drop(senders);
    let failure = Failure::default();
    let supervisor = supervise(children, failure.clone(), dependent);

    // A run has ended when the readers of its children have (they end at the child's exit).
    let ended = |run: usize| readers.iter().filter(|r| r.run == run).all(|r| r.thread.is_finished());
    let feeds = Feeds { channels, ended: &ended, when_ahead: WhenAhead::Wait };
    let rendered = render_events(&feeds, renderer.as_mut(), plan.lang, &mut || {}, out)
        .and_then(|()| super::after_ctrl_c(out))
        .and_then(|()| renderer.finish(out))
        .and_then(|()| out.flush());
    if rendered.is_err() {
        interrupt_children();
    }
    drop(feeds);
    let _ = supervisor.join();
    for reader in readers {
        let _ = reader.thread.join();
    }
    rendered.map_err(AppError::Output)?;
    // A child killed from outside could not remove its own files: read once more, which
    // removes those of every process that is gone.
    let _ = discovery::read_all(&runtime_dir::location());
    let failed = failure.lock().unwrap_or_else(|e| e.into_inner()).take();
    failed.map_or(Ok(()), |f| Err(AppError::ChildFailed(f)))
}

/// The thread that reads a child's events back.
struct Reader {
    /// The run of the view the child's events belong to.
    run: usize,
    thread: JoinHandle<()>,
}

/// Starts the children, each with a thread that reads its events back and sends them on
/// its run's channel (`senders[run]`). If one cannot start, those already started are
/// stopped.
fn start(specs: &[ChildSpec], senders: &[Sender<TraceEvent>]) -> Result<(Vec<Started>, Vec<Reader>), AppError> {
    let mut children = Vec::new();
    let mut readers = Vec::new();
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
        let tx = senders[spec.run].clone();
        let thread = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(event) = from_json(&line) {
                    if tx.send(event).is_err() {
                        break;
                    }
                }
            }
        });
        readers.push(Reader { run: spec.run, thread });
        children.push(Started { child, name: spec.name.clone(), counted: spec.counted });
    }
    Ok((children, readers))
}

/// Watches the children until all have ended, and records the first that ended badly in
/// `failure`. The run ends for everyone when the counted children are all done, or as soon
/// as any child ends otherwise (killed, failed, or stopped without being asked): the others
/// would wait for it forever. `dependent` children (the nodes of `--split`) need each
/// other: one that ended cleanly (its count reached, or a SIGTERM, which looks the same)
/// leaves the others [`PEER_GRACE`] to finish their own count before they are stopped.
fn supervise(mut children: Vec<Started>, failure: Failure, dependent: bool) -> JoinHandle<()> {
    let any_counted = children.iter().any(|c| c.counted);
    thread::spawn(move || {
        let mut stopping = false;
        let mut alone_since: Option<std::time::Instant> = None;
        while !children.is_empty() {
            let mut ended_early = false;
            children.retain_mut(|started| {
                let outcome = match started.child.try_wait() {
                    Ok(None) => return true,
                    Ok(Some(status)) => Some(status),
                    Err(_) => None,
                };
                forget(&started.child);
                let clean = outcome.is_some_and(|s| matches!(s.code(), Some(0 | 130)));
                if !clean {
                    let mut first = failure.lock().unwrap_or_else(|e| e.into_inner());
                    first.get_or_insert_with(|| ChildFailure::of(started, outcome));
                }
                // Stopped from outside (SIGTERM or SIGINT to it alone, code 130) before we
                // asked: the others would wait for it.
                let interrupted = outcome.is_some_and(|s| s.code() == Some(130)) && !stopping;
                ended_early |= !clean || !started.counted || interrupted;
                if dependent {
                    alone_since.get_or_insert_with(std::time::Instant::now);
                }
                false
            });
            let counted_done = any_counted && !children.iter().any(|c| c.counted);
            let deserted = alone_since.is_some_and(|t| t.elapsed() >= PEER_GRACE);
            if !stopping && (ended_early || counted_done || deserted) {
                stopping = true;
                for started in &children {
                    let _ = kill(Pid::from_raw(started.child.id() as i32), Signal::SIGINT);
                }
            }
            if !children.is_empty() {
                thread::sleep(SUPERVISE_PERIOD);
            }
        }
    })
}

/// A child that ended badly: which, and how.
#[derive(Debug)]
pub struct ChildFailure {
    /// The node (`--split`) or the run (`--ipc both`).
    pub name: String,
    pub pid: u32,
    /// How it ended; `None` if even that could not be learned.
    pub status: Option<std::process::ExitStatus>,
}

impl ChildFailure {
    fn of(started: &Started, status: Option<std::process::ExitStatus>) -> ChildFailure {
        ChildFailure { name: started.name.clone(), pid: started.child.id(), status }
    }

    /// "producer (pid 42) was killed by SIGKILL", in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use std::os::unix::process::ExitStatusExt;
        let (name, pid) = (&self.name, self.pid);
        let ga = particle(name, Particle::Subject);
        let signal = self
            .status
            .and_then(|s| s.signal())
            .map(|n| Signal::try_from(n).map_or_else(|_| format!("signal {n}"), |s| s.as_str().to_string()));
        match (lang, signal, self.status.and_then(|s| s.code())) {
            (Lang::Ko, Some(signal), _) => format!("pid {pid}의 노드 프로세스 {name}{ga} {signal} 시그널로 죽었습니다"),
            (Lang::En, Some(signal), _) => format!("the node process {name} (pid {pid}) was killed by {signal}"),
            (Lang::Ko, None, Some(code)) => {
                format!(
                    "pid {pid}의 노드 프로세스 {name}{ga} 종료 코드 {code}{} 끝났습니다 (위의 메시지를 보세요)",
                    particle(&code.to_string(), Particle::Direction)
                )
            }
            (Lang::En, None, Some(code)) => {
                format!("the node process {name} (pid {pid}) exited with code {code} (see its message above)")
            }
            (Lang::Ko, None, None) => format!("pid {pid}의 노드 프로세스 {name}{ga} 어떻게 끝났는지 알 수 없습니다"),
            (Lang::En, None, None) => format!("the node process {name} (pid {pid}) ended in a way that cannot be told"),
        }
    }
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
            qos: QosPlan::upstream(),
            loan: false,
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
