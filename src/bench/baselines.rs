//! The limits beside the engine's paths, on the same bytes in the same run:
//! - [`Channel`]: handing a `Box` of the same size to a crossbeam channel and taking it
//!   out again, on one thread: ownership moving with no engine at all (`ipc-on`'s limit);
//! - [`Memcpy`]: one copy of the same bytes into a buffer that already exists (what every
//!   copy of a path costs at the least);
//! - [`Socketpair`]: the same bytes written into a Unix socketpair on this thread and read
//!   out by another thread, which is woken for each message as a peer process is (the
//!   socket path's limit, before its two CDR copies).

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::clock::now_ns;
use super::remote::PEER_TIMEOUT;
use super::{BenchError, Path, PathKind, Pool};
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::transport::write_frame;

/// Waits for `n` receipts: nanoseconds from `start` to the last.
fn since_last(start: u64, n: usize, mut receipt: impl FnMut() -> Result<u64, BenchError>) -> Result<u64, BenchError> {
    let mut last = start;
    for _ in 0..n {
        last = receipt()?;
    }
    Ok(last - start)
}

/// A `Box<Image>` through a crossbeam channel.
pub struct Channel {
    tx: Sender<Box<Image>>,
    rx: Receiver<Box<Image>>,
    pool: Pool,
}

impl Default for Channel {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Self { tx, rx, pool: Pool::default() }
    }
}

impl Channel {
    fn receive(&mut self) -> Result<u64, BenchError> {
        // Both ends are ours: the channel cannot be empty or closed here.
        let msg = self.rx.try_recv().map_err(|_| BenchError::Lost { path: PathKind::ChannelBaseline })?;
        let at = now_ns();
        self.pool.give(msg);
        Ok(at)
    }
}

impl Path for Channel {
    fn kind(&self) -> PathKind {
        PathKind::ChannelBaseline
    }

    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError> {
        let msg = self.pool.take(bytes);
        let start = now_ns();
        let _ = self.tx.send(msg);
        Ok(self.receive()? - start)
    }

    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError> {
        let msgs: Vec<_> = (0..n).map(|_| self.pool.take(bytes)).collect();
        let start = now_ns();
        for msg in msgs {
            let _ = self.tx.send(msg);
        }
        since_last(start, n, || self.receive())
    }

    fn copies(&mut self, _bytes: usize) -> Result<f64, BenchError> {
        Ok(0.0)
    }
}

/// One copy of the bytes.
#[derive(Default)]
pub struct Memcpy {
    src: Vec<u8>,
    dst: Vec<u8>,
}

impl Memcpy {
    fn copy(&mut self) {
        self.dst.copy_from_slice(&self.src);
        // Keep the optimizer from dropping a copy nobody reads.
        std::hint::black_box(&mut self.dst);
    }

    fn size(&mut self, bytes: usize) {
        self.src.resize(bytes, 0xA5);
        self.dst.resize(bytes, 0);
    }
}

impl Path for Memcpy {
    fn kind(&self) -> PathKind {
        PathKind::MemcpyBaseline
    }

    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError> {
        self.size(bytes);
        let start = now_ns();
        self.copy();
        Ok(now_ns() - start)
    }

    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError> {
        self.size(bytes);
        let start = now_ns();
        for _ in 0..n {
            self.copy();
        }
        Ok(now_ns() - start)
    }

    fn copies(&mut self, _bytes: usize) -> Result<f64, BenchError> {
        Ok(1.0)
    }
}

/// The bytes through a socketpair to a reader thread. Each message goes as a length and
/// the bytes, in one write when they fit, as the transport writes a frame's head and its
/// payload.
pub struct Socketpair {
    /// `None` once closed, which ends the reader.
    writer: Option<UnixStream>,
    /// When the reader had each message complete.
    receipts: Receiver<u64>,
    reader: Option<JoinHandle<()>>,
    payload: Vec<u8>,
}

impl Socketpair {
    pub fn open() -> Result<Self, BenchError> {
        let (writer, mut reader) = UnixStream::pair().map_err(BenchError::Io)?;
        let (tx, receipts) = unbounded();
        let reader = std::thread::Builder::new()
            .name("socketpair-baseline".into())
            .spawn(move || {
                let mut buf = Vec::new();
                let mut len = [0u8; 8];
                while reader.read_exact(&mut len).is_ok() {
                    buf.resize(u64::from_le_bytes(len) as usize, 0);
                    if reader.read_exact(&mut buf).is_err() || tx.send(now_ns()).is_err() {
                        break;
                    }
                }
            })
            .map_err(BenchError::Io)?;
        Ok(Self { writer: Some(writer), receipts, reader: Some(reader), payload: Vec::new() })
    }

    fn send(&mut self) -> Result<(), BenchError> {
        let writer = self.writer.as_mut().ok_or_else(|| BenchError::Io(std::io::ErrorKind::BrokenPipe.into()))?;
        let len = (self.payload.len() as u64).to_le_bytes();
        write_frame(writer, &len, &self.payload).map_err(BenchError::Io)
    }

    fn receipt(&self) -> Result<u64, BenchError> {
        self.receipts.recv_timeout(PEER_TIMEOUT).map_err(|_| BenchError::Lost { path: PathKind::SocketpairBaseline })
    }
}

impl Path for Socketpair {
    fn kind(&self) -> PathKind {
        PathKind::SocketpairBaseline
    }

    fn hop(&mut self, bytes: usize) -> Result<u64, BenchError> {
        self.payload.resize(bytes, 0xA5);
        let start = now_ns();
        self.send()?;
        Ok(self.receipt()? - start)
    }

    fn burst(&mut self, bytes: usize, n: usize) -> Result<u64, BenchError> {
        self.payload.resize(bytes, 0xA5);
        let start = now_ns();
        for _ in 0..n {
            self.send()?;
        }
        since_last(start, n, || self.receipt())
    }

    fn copies(&mut self, _bytes: usize) -> Result<f64, BenchError> {
        // Into the kernel, and out of it.
        Ok(2.0)
    }
}

impl Drop for Socketpair {
    fn drop(&mut self) {
        // Closing our end ends the reader's loop.
        self.writer = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
