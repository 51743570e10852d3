//! How pids and addresses are written: raw, or as `--stable` labels in order of first
//! appearance, so that equal stays equal and different stays different.
//!
//! ```
//! use ipc_lab::render::labels::Labels;
//!
//! let mut labels = Labels::new(true);
//! assert_eq!(labels.addr(7, 0x5556A69CAC10), "@1");
//! assert_eq!(labels.addr(7, 0x5556A69CAC40), "@2");
//! assert_eq!(labels.addr(7, 0x5556A69CAC10), "@1");
//! // An address belongs to a process: the same number in another one is another place.
//! assert_eq!(labels.addr(8, 0x5556A69CAC10), "@3");
//! assert_eq!(labels.pid(4242), "pid#1");
//! assert_eq!(labels.relabel(7, "address: 0x5556A69CAC40"), "address: @2");
//! assert_eq!(Labels::new(false).addr(7, 0x5556A69CAC10), "0x5556A69CAC10");
//! ```

use std::collections::HashMap;

/// Assigns labels; one instance per output stream, so labels agree across all its lines.
#[derive(Debug, Default)]
pub struct Labels {
    /// `--stable`: labels instead of raw numbers.
    stable: bool,
    pids: HashMap<u32, usize>,
    /// Keyed by process too: virtual addresses are per process.
    addrs: HashMap<(u32, usize), usize>,
}

impl Labels {
    pub fn new(stable: bool) -> Self {
        Self { stable, ..Self::default() }
    }

    fn label<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) -> usize {
        let next = map.len() + 1;
        *map.entry(key).or_insert(next)
    }

    /// Whether addresses come out as short labels.
    pub fn addr_is_label(&self) -> bool {
        self.stable
    }

    pub fn pid(&mut self, pid: u32) -> String {
        if self.stable {
            format!("pid#{}", Self::label(&mut self.pids, pid))
        } else {
            pid.to_string()
        }
    }

    /// An address in process `pid` as upstream prints it (`0x` and uppercase hex), or its
    /// label.
    pub fn addr(&mut self, pid: u32, addr: usize) -> String {
        if self.stable {
            format!("@{}", Self::label(&mut self.addrs, (pid, addr)))
        } else {
            format!("{addr:#X}")
        }
    }

    /// Replaces every `0x...` hex number in a line printed by process `pid` with its label
    /// (with `--stable`).
    pub fn relabel(&mut self, pid: u32, line: &str) -> String {
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
