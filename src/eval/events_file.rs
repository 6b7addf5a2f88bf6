//! Reading a test's `events` file within a size limit (`--max-events-size`):
//! the test runner holds every event of a test at once, so a large or
//! endless file (`/dev/zero`, a FIFO) stops at the limit instead of at
//! memory's end.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::diag::codes;

/// The largest events file read unless `--max-events-size` says otherwise.
pub const DEFAULT_MAX_EVENTS_SIZE: u64 = 64 * 1024 * 1024;

static MAX_EVENTS_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_EVENTS_SIZE);

/// Sets the largest events file `read` accepts, for the whole run.
pub fn set_max_events_size(bytes: u64) {
    MAX_EVENTS_SIZE.store(bytes, Ordering::Relaxed);
}

/// The text of the events file `path`, named by the `events` statement at
/// `at` (`FILE:LINE:COLUMN`), or the test's failure line saying why not.
pub fn read(path: &Path, at: &str) -> Result<String, String> {
    let limit = MAX_EVENTS_SIZE.load(Ordering::Relaxed);
    let failed = |error: std::io::Error| format!("{at}: {}: {error}", path.display());
    let file = std::fs::File::open(path).map_err(failed)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{at}: error[{}]: {}: larger than the limit of {limit} bytes for an events file \
             (raise it with --max-events-size)",
            codes::EVENTS_FILE_TOO_LARGE.id,
            path.display()
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        let at_byte = error.utf8_error().valid_up_to();
        format!("{at}: {}: invalid UTF-8 at byte {at_byte}", path.display())
    })
}
