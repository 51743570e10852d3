//! How pids and addresses are written: raw, or as `--stable` labels in order of first
//! appearance, so that equal stays equal and different stays different.
//!
//! ```
//! use ipc_lab::engine::trace::SegmentId;
//! use ipc_lab::labels::Labels;
//!
//! let labels = Labels::new(true);
//! assert_eq!(labels.addr(7, 0x5556A69CAC10), "@1");
//! assert_eq!(labels.addr(7, 0x5556A69CAC40), "@2");
//! assert_eq!(labels.addr(7, 0x5556A69CAC10), "@1");
//! // An address belongs to a process: the same number in another one is another place.
//! assert_eq!(labels.addr(8, 0x5556A69CAC10), "@3");
//! assert_eq!(labels.pid(4242), "pid#1");
//! assert_eq!(labels.relabel(7, "address: 0x5556A69CAC40"), "address: @2");
//! assert_eq!(Labels::new(false).addr(7, 0x5556A69CAC10), "0x5556A69CAC10");
//! // A pointer as a C++ stream prints it (the image pipeline's frames), or its label.
//! assert_eq!(Labels::new(false).ptr(7, 0x55d3c0a0), "0x55d3c0a0");
//! assert_eq!(labels.ptr(7, 0x5556A69CAC40), "@2");
//! // Shared memory has one name in every process: its memfd's inode and the offset.
//! let slot = SegmentId { inode: 185361, offset: 0 };
//! assert_eq!(Labels::new(false).segment(slot), "memfd:185361+0");
//! assert_eq!(labels.segment(slot), "memfd#1+0");
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::engine::trace::{EventKind, SegmentId, TraceEvent};

/// Assigns labels; one set per output stream, so labels agree across all its lines.
///
/// Clones share the set: the image pipeline writes labels on its frames while it runs, and
/// the renderer must then print the same label for the same address.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// `--stable`: labels instead of raw numbers.
    stable: bool,
    assigned: Arc<Mutex<Assigned>>,
}

/// The labels given so far. Addresses are keyed by process too: virtual addresses are per
/// process, and the same number in two processes is two places.
#[derive(Debug, Default)]
struct Assigned {
    pids: HashMap<u32, usize>,
    addrs: HashMap<(u32, usize), usize>,
    /// Payload buffers (an image's pixels) count apart from messages: large buffers come
    /// from the system in an order that can differ from run to run, and that must not shift
    /// the labels of the messages.
    buffers: HashMap<(u32, usize), usize>,
    /// Shared-memory slots by memfd inode: one name in every process.
    segments: HashMap<u64, usize>,
}

impl Labels {
    pub fn new(stable: bool) -> Self {
        Self { stable, ..Self::default() }
    }

    fn assigned(&self) -> MutexGuard<'_, Assigned> {
        self.assigned.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn label<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) -> usize {
        // Looked up before inserting: `entry` may grow the table even for a known key, and a
        // renderer must not reallocate what the image pipeline's threads allocated (their
        // addresses would then depend on timing).
        if let Some(&label) = map.get(&key) {
            return label;
        }
        let next = map.len() + 1;
        map.insert(key, next);
        next
    }

    /// Whether addresses come out as short labels.
    pub fn addr_is_label(&self) -> bool {
        self.stable
    }

    pub fn pid(&self, pid: u32) -> String {
        if self.stable {
            format!("pid#{}", Self::label(&mut self.assigned().pids, pid))
        } else {
            pid.to_string()
        }
    }

    /// An address in process `pid` as upstream prints it (`0x` and uppercase hex), or its
    /// label.
    pub fn addr(&self, pid: u32, addr: usize) -> String {
        if self.stable {
            format!("@{}", Self::label(&mut self.assigned().addrs, (pid, addr)))
        } else {
            format!("{addr:#X}")
        }
    }

    /// The address of a message's payload buffer (an image's pixels), or its label `buf#N`.
    pub fn buffer(&self, pid: u32, addr: usize) -> String {
        if self.stable {
            format!("buf#{}", Self::label(&mut self.assigned().buffers, (pid, addr)))
        } else {
            format!("{addr:#X}")
        }
    }

    /// A place in shared memory as every process that maps it names it: `memfd:<inode>+<offset>`
    /// (the inode `/proc/<pid>/maps` shows), or `memfd#N+<offset>` in order of first
    /// appearance. Unlike an address it needs no pid: it is the same in every process.
    pub fn segment(&self, segment: SegmentId) -> String {
        if self.stable {
            format!("memfd#{}+{}", Self::label(&mut self.assigned().segments, segment.inode), segment.offset)
        } else {
            format!("memfd:{}+{}", segment.inode, segment.offset)
        }
    }

    /// A pointer as a C++ stream writes it (`0x` and lowercase hex, as the image pipeline
    /// draws it on its frames), or its label.
    pub fn ptr(&self, pid: u32, addr: usize) -> String {
        if self.stable {
            self.addr(pid, addr)
        } else {
            format!("{addr:#x}")
        }
    }

    /// Labels the pid and the message addresses of `event` now, in the order they appear,
    /// so that the labels follow the order in which things happened, not the order in which
    /// a renderer on another thread gets to them. (Payload buffers are labelled when shown.)
    pub fn learn(&self, event: &TraceEvent) {
        if !self.stable {
            return;
        }
        let pid = event.pid;
        self.pid(pid);
        let addrs = match &event.kind {
            EventKind::Copied { msg, from, .. } => [Some(msg.addr), Some(*from)],
            EventKind::Filled { addr, .. } | EventKind::Shown { addr } => [Some(*addr), None],
            EventKind::Printed { line } => {
                self.relabel(pid, line);
                [None; 2]
            }
            EventKind::LoanPublished { msg, segment, .. } | EventKind::Mapped { msg, segment, .. } => {
                self.segment(*segment);
                [Some(msg.addr), None]
            }
            kind => [kind.message().map(|m| m.addr), None],
        };
        for addr in addrs.into_iter().flatten() {
            self.addr(pid, addr);
        }
    }

    /// Replaces every `0x...` hex number in a line printed by process `pid` with its label
    /// (with `--stable`).
    pub fn relabel(&self, pid: u32, line: &str) -> String {
        if !self.stable {
            return line.to_string();
        }
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(at) = rest.find("0x") {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            let digits = from[2..].bytes().take_while(u8::is_ascii_hexdigit).count();
            match usize::from_str_radix(&from[2..2 + digits], 16) {
                Ok(addr) if digits > 0 => out.push_str(&self.addr(pid, addr)),
                _ => out.push_str(&from[..2 + digits]),
            }
            rest = &from[2 + digits..];
        }
        out.push_str(rest);
        out
    }
}
