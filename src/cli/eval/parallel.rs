//! `eval --threads N`: lines are read in batches; the threads parse and
//! match a batch's lines (each thread a contiguous share, `Matcher` being
//! read-only) while the main thread runs the previous batch through the
//! engine in input order (`Engine::process_prepared`: windows, sequences,
//! output). Matching is a pure function of the line, so the output is the
//! same, byte for byte, as one thread's.

use std::io;
use std::ops::Range;
use std::thread;

use super::input::{Input, LineRead, read_line};
use super::{Line, Run, Stop};
use crate::eval::{Matcher, Prepared, Scratch};

/// Lines a batch holds at most, and bytes (lines are not cut).
const BATCH_LINES: usize = 1024;
const BATCH_BYTES: usize = 4 << 20;

/// One batch: the lines' bytes end to end, where each line is, what
/// matching found for each, and why reading stopped after them, if it did.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    lines: Vec<Entry>,
    prepared: Vec<Prepared>,
    /// The input ended (`Some(None)`) or failed (`Some(Some)`) after these lines.
    end: Option<Option<Stop>>,
}

enum Entry {
    TooLong(u64),
    Read(Range<usize>),
}

fn line_of<'b>(bytes: &'b [u8], lines: &[Entry], index: usize) -> Option<Line<'b>> {
    Some(match lines.get(index)? {
        Entry::TooLong(length) => Line::TooLong(*length),
        Entry::Read(range) => Line::Read(bytes.get(range.clone())?),
    })
}

/// The line's text as the engine would run it (`None`: it would not).
fn text_of<'b>(bytes: &'b [u8], lines: &[Entry], index: usize) -> Option<&'b str> {
    match line_of(bytes, lines, index)? {
        Line::Read(bytes) => super::event_text(bytes).filter(|t| !t.trim().is_empty()),
        Line::TooLong(_) => None,
    }
}

/// Runs the input through `run` with `threads` matching threads.
pub(super) fn lines(
    run: &mut Run<'_>,
    input: &mut dyn Input,
    threads: usize,
) -> io::Result<Option<Stop>> {
    let matcher = run.engine.matcher();
    let matcher: &Matcher = &matcher;
    let mut scratches: Vec<Scratch> = (0..threads).map(|_| Scratch::default()).collect();
    let mut ready = Batch::default();
    let mut next = Batch::default();
    let mut line = Vec::new();
    loop {
        clear(&mut next);
        if ready.end.is_none()
            && let Some(stop) = read(run, input, &mut next, &mut line, !ready.lines.is_empty())?
        {
            return Ok(Some(stop));
        }
        // The threads match the next batch while this one runs the ready one.
        let Batch {
            bytes,
            lines,
            prepared,
            ..
        } = &mut next;
        let (bytes, lines) = (&*bytes, &*lines);
        prepared.resize_with(lines.len(), Prepared::default);
        let share = lines.len().div_ceil(threads.max(1)).max(1);
        let stop = thread::scope(|scope| {
            for ((chunk, out), scratch) in prepared
                .chunks_mut(share)
                .enumerate()
                .zip(scratches.iter_mut())
            {
                scope.spawn(move || {
                    for (k, slot) in out.iter_mut().enumerate() {
                        if let Some(text) = text_of(bytes, lines, chunk * share + k) {
                            matcher.prepare(text, scratch, slot);
                        }
                    }
                });
            }
            apply(run, &ready)
        })?;
        if let Some(stop) = stop {
            return Ok(Some(stop));
        }
        if let Some(end) = ready.end.take() {
            return Ok(end);
        }
        std::mem::swap(&mut ready, &mut next);
    }
}

fn clear(batch: &mut Batch) {
    batch.bytes.clear();
    batch.lines.clear();
    batch.prepared.clear();
    batch.end = None;
}

/// Fills `batch` from the input: up to a batch's size, or what is ready
/// when the input would wait and lines are pending (`pending`, or some
/// already in the batch); with nothing pending, the output is flushed
/// before waiting.
fn read(
    run: &mut Run<'_>,
    input: &mut dyn Input,
    batch: &mut Batch,
    line: &mut Vec<u8>,
    pending: bool,
) -> io::Result<Option<Stop>> {
    while batch.lines.len() < BATCH_LINES && batch.bytes.len() < BATCH_BYTES {
        if input.idle() {
            if pending || !batch.lines.is_empty() {
                break;
            }
            if let Err(error) = run.out.flush() {
                return Ok(Some(Stop::Write(error)));
            }
        }
        match read_line(input, line, run.options.max_line) {
            Ok(LineRead::End) => {
                batch.end = Some(None);
                break;
            }
            Ok(LineRead::TooLong(length)) => batch.lines.push(Entry::TooLong(length)),
            Ok(LineRead::Line) => {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(line);
                batch.lines.push(Entry::Read(start..batch.bytes.len()));
            }
            Err(error) => {
                batch.end = Some(Some(Stop::of_read(error)));
                break;
            }
        }
    }
    Ok(None)
}

/// Runs a matched batch through the engine, line by line in order.
fn apply(run: &mut Run<'_>, batch: &Batch) -> io::Result<Option<Stop>> {
    for index in 0..batch.lines.len() {
        let Some(line) = line_of(&batch.bytes, &batch.lines, index) else {
            continue;
        };
        if let Some(stop) = run.line(line, batch.prepared.get(index))? {
            return Ok(Some(stop));
        }
    }
    Ok(None)
}
