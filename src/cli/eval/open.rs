//! Opening `eval`'s input: a file or stdin, its format detected from its
//! first bytes unless `--format` names it, and an EVTX file turned into
//! one line per record (read by a thread of its own).

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use super::EvalOptions;
use crate::diag::codes;
use crate::eval::input::{Format, evtx};

/// How much of the input is looked at to detect its format.
const HEAD: usize = 64 << 10;

/// The input as a stream of lines; sets `options.format` (when detected),
/// `label` and `input_bytes`. An error is a usage or I/O error (exit 2).
pub fn open(
    path: Option<&Path>,
    options: &mut EvalOptions,
) -> Result<Box<dyn Read + Send>, String> {
    match path {
        Some(path) if path.as_os_str() != "-" => open_file(path, options),
        _ => open_stdin(options),
    }
}

fn open_file(path: &Path, options: &mut EvalOptions) -> Result<Box<dyn Read + Send>, String> {
    let failed = |error: io::Error| format!("{}: {error}", path.display());
    let mut file = File::open(path).map_err(failed)?;
    options.label = path.display().to_string();
    options.input_bytes = file.metadata().ok().map(|m| m.len());
    if options.detect {
        let mut head = Vec::new();
        (&mut file)
            .take(HEAD as u64)
            .read_to_end(&mut head)
            .map_err(failed)?;
        file.seek(SeekFrom::Start(0)).map_err(failed)?;
        options.format = Format::detect(&head);
    }
    if options.format == Format::Evtx {
        // The bar counts the bytes of the records' lines, not of the file.
        options.input_bytes = None;
        let records = evtx::records(file).map_err(failed)?;
        return Ok(Box::new(records));
    }
    Ok(Box::new(file))
}

fn open_stdin(options: &mut EvalOptions) -> Result<Box<dyn Read + Send>, String> {
    let failed = |error: io::Error| format!("reading stdin: {error}");
    let mut stdin = io::stdin();
    let mut head = Vec::new();
    if options.detect {
        head = read_head(&mut stdin).map_err(failed)?;
        options.format = Format::detect(&head);
    }
    if options.format != Format::Evtx {
        return Ok(Box::new(Cursor::new(head).chain(stdin)));
    }
    // The EVTX reader seeks: stdin is held whole, within the limit.
    let limit = options.max_evtx;
    let mut all = head;
    let wanted = limit.saturating_add(1).saturating_sub(all.len() as u64);
    (&mut stdin)
        .take(wanted)
        .read_to_end(&mut all)
        .map_err(failed)?;
    if all.len() as u64 > limit {
        return Err(format!(
            "error[{}]: <stdin>: EVTX input larger than the limit of {limit} bytes \
             (raise it with --max-evtx-size, or give the file's path)",
            codes::EVTX_INPUT_TOO_LARGE.id
        ));
    }
    let records = evtx::records(Cursor::new(all)).map_err(|e| format!("<stdin>: {e}"))?;
    Ok(Box::new(records))
}

/// The first bytes of a stream, enough to tell its format: up to the end
/// of its first line that is not blank (at most `HEAD` bytes), or its end.
fn read_head(stdin: &mut io::Stdin) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while head.len() < HEAD {
        let read = match stdin.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        head.extend_from_slice(chunk.get(..read).unwrap_or_default());
        if head.starts_with(evtx::MAGIC) {
            break;
        }
        // A whole line that is not blank has been read.
        let complete = match head.iter().rposition(|b| *b == b'\n') {
            Some(end) => head.get(..end).unwrap_or_default(),
            None => &[],
        };
        if head.len() >= evtx::MAGIC.len() && !complete.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    Ok(head)
}
