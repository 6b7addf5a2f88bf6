//! `eval`'s input: lines read with a size cap (an over-long line is skipped
//! in chunks, never held whole), and, for the command, a reader thread that
//! feeds the lines through a channel so that SIGTERM or SIGINT can end a run
//! that is waiting for input, and so that output can be flushed whenever
//! the input has nothing more ready.

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

/// A source of lines that can say it has nothing ready (so the output is
/// flushed before waiting).
pub trait Input: BufRead {
    fn idle(&mut self) -> bool {
        false
    }
}

impl Input for &[u8] {}
impl<R: Read> Input for io::BufReader<R> {}
impl Input for io::StdinLock<'_> {}

/// The error a read returns once the run was interrupted by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {0}")]
pub struct Interrupted(pub &'static str);

impl Interrupted {
    pub fn error(name: &'static str) -> io::Error {
        io::Error::other(Interrupted(name))
    }

    /// The interruption an I/O error carries, if any.
    pub fn of(error: &io::Error) -> Option<Interrupted> {
        error.get_ref()?.downcast_ref::<Interrupted>().copied()
    }
}

/// What one read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    End,
    /// A line is in the buffer, with its newline if it had one.
    Line,
    /// A line longer than the maximum was skipped; its length in bytes
    /// (with its newline).
    TooLong(u64),
}

/// Reads one line into `buffer` (cleared first), holding at most
/// `max_line + 1` bytes of it: a longer line is skipped to its newline.
pub fn read_line(
    input: &mut dyn Input,
    buffer: &mut Vec<u8>,
    max_line: usize,
) -> io::Result<LineRead> {
    buffer.clear();
    let limit = (max_line as u64).saturating_add(1);
    let read = (&mut *input).take(limit).read_until(b'\n', buffer)?;
    if read == 0 {
        return Ok(LineRead::End);
    }
    if (read as u64) < limit || buffer.last() == Some(&b'\n') {
        return Ok(LineRead::Line);
    }
    buffer.clear();
    let rest = input.skip_until(b'\n')?;
    Ok(LineRead::TooLong((read + rest) as u64))
}

/// One line as `next_line` found it.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    End,
    /// Longer than the maximum: skipped; its length in bytes (with its
    /// newline).
    TooLong(u64),
    /// The line's bytes, with its newline if it had one, and how many
    /// bytes the caller must `consume` once done with them: the line's
    /// length when it lies in the input's buffer, 0 when it was copied
    /// into `buffer` (a line across two chunks, or the last one without a
    /// newline), where `read_line` consumed it already.
    Line(&'a [u8], usize),
}

/// Reads one line as `read_line` does, without copying it when it lies
/// whole in the input's buffer (most lines of a 64 KB chunk).
pub fn next_line<'a>(
    input: &'a mut dyn Input,
    buffer: &'a mut Vec<u8>,
    max_line: usize,
) -> io::Result<Next<'a>> {
    let length = {
        let available = input.fill_buf()?;
        memchr::memchr(b'\n', available).map(|newline| newline + 1)
    };
    if let Some(length) = length.filter(|&length| length <= max_line.saturating_add(1)) {
        // The same buffer again (borrowed apart from the test above).
        let available = input.fill_buf()?;
        let line = available.get(..length).unwrap_or(available);
        return Ok(Next::Line(line, line.len()));
    }
    Ok(match read_line(input, buffer, max_line)? {
        LineRead::End => Next::End,
        LineRead::TooLong(length) => Next::TooLong(length),
        LineRead::Line => Next::Line(buffer.as_slice(), 0),
    })
}

enum Chunk {
    Data(Vec<u8>),
    End,
    Failed(io::Error),
    Signal,
}

/// Input read by another thread in chunks; a signal (SIGTERM, SIGINT)
/// makes the next read fail with `Interrupted`, even while waiting.
pub struct ChannelInput {
    chunks: Receiver<Chunk>,
    /// Read chunks handed back to the reading thread to fill again (no
    /// fresh 64 KB zeroed, and freed on another thread, per chunk).
    spent: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
    /// The signal received (0: none).
    signal: Arc<AtomicI32>,
    /// A chunk taken by `idle` to see whether one was ready.
    ready: Option<Chunk>,
}

const CHUNK: usize = 1 << 16;

impl ChannelInput {
    /// Reads `source` on a thread of its own; SIGTERM and SIGINT interrupt
    /// the run (a second signal ends the process at once, exit 2).
    pub fn spawn(mut source: Box<dyn Read + Send>) -> io::Result<ChannelInput> {
        let (sender, chunks) = sync_channel(16);
        let (spent, spare) = sync_channel::<Vec<u8>>(16);
        let signal = Arc::new(AtomicI32::new(0));
        watch_signals(sender.clone(), Arc::clone(&signal))?;
        std::thread::Builder::new()
            .name("eval-input".into())
            .spawn(move || {
                loop {
                    let mut chunk = spare.try_recv().unwrap_or_default();
                    chunk.resize(CHUNK, 0);
                    let message = match source.read(&mut chunk) {
                        Ok(0) => Chunk::End,
                        Ok(n) => {
                            chunk.truncate(n);
                            Chunk::Data(chunk)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => Chunk::Failed(e),
                    };
                    let last = !matches!(message, Chunk::Data(_));
                    if sender.send(message).is_err() || last {
                        break;
                    }
                }
            })?;
        Ok(ChannelInput {
            chunks,
            spent,
            chunk: Vec::new(),
            at: 0,
            ended: false,
            signal,
            ready: None,
        })
    }

    fn interrupted(&self) -> Option<io::Error> {
        match self.signal.load(Ordering::Relaxed) {
            0 => None,
            number => Some(Interrupted::error(signal_name(number))),
        }
    }
}

fn signal_name(number: i32) -> &'static str {
    match number {
        signal_hook::consts::SIGINT => "SIGINT",
        _ => "SIGTERM",
    }
}

/// Records the first SIGTERM or SIGINT in `signal` and wakes the reader;
/// exits at a second one.
fn watch_signals(sender: SyncSender<Chunk>, signal: Arc<AtomicI32>) -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("eval-signals".into())
        .spawn(move || {
            for number in signals.forever() {
                if signal.swap(number, Ordering::Relaxed) != 0 {
                    eprintln!("error: {} again: exiting at once", signal_name(number));
                    std::process::exit(2);
                }
                // The reader may be waiting on an empty channel; if the
                // channel is full it will see `signal` at its next read.
                let _ = sender.try_send(Chunk::Signal);
            }
        })?;
    Ok(())
}

impl Read for ChannelInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChannelInput {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let Some(error) = self.interrupted() {
            return Err(error);
        }
        while self.at >= self.chunk.len() && !self.ended {
            let next = match self.ready.take() {
                Some(chunk) => Ok(chunk),
                None => self.chunks.recv(),
            };
            match next {
                Ok(Chunk::Data(data)) => {
                    let spent = std::mem::replace(&mut self.chunk, data);
                    // The reader may be gone or have enough spares: then
                    // the chunk is simply dropped.
                    let _ = self.spent.try_send(spent);
                    self.at = 0;
                }
                Ok(Chunk::End) | Err(_) => self.ended = true,
                Ok(Chunk::Failed(error)) => {
                    self.ended = true;
                    return Err(error);
                }
                Ok(Chunk::Signal) => {
                    if let Some(error) = self.interrupted() {
                        return Err(error);
                    }
                }
            }
        }
        Ok(&self.chunk[self.at.min(self.chunk.len())..])
    }

    fn consume(&mut self, amount: usize) {
        self.at = (self.at + amount).min(self.chunk.len());
    }
}

impl Input for ChannelInput {
    /// Nothing buffered and no chunk waiting.
    fn idle(&mut self) -> bool {
        if self.at < self.chunk.len() || self.ended || self.ready.is_some() {
            return false;
        }
        match self.chunks.try_recv() {
            Ok(chunk) => {
                self.ready = Some(chunk);
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        }
    }
}
