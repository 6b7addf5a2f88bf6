//! The files of one run: finding them (folders searched recursively for
//! `*.trip`, sorted by path), reading them (BOM skipped, invalid UTF-8
//! reported at its line and column) and turning byte offsets into the
//! 1-based line and character column that every diagnostic shows.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::diag::{Diagnostic, codes};
use crate::syntax::Span;

mod walk;
pub use walk::{Found, Loop, find, find_with};

/// Index of a file in its `SourceMap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub usize);

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (or as found under a folder they gave).
    pub path: PathBuf,
    /// The text without its byte-order mark. For a file that is not valid
    /// UTF-8, the lossy decoding (so the bad byte can still be shown).
    pub text: String,
    /// Byte offset of the start of each line (lines end at LF only).
    line_starts: Vec<usize>,
}

/// A 1-based line and column (columns count Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// The line and column of a byte offset (clamped to the text; an offset
    /// inside a character counts as that character).
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..]
            .char_indices()
            .take_while(|(i, _)| start + i < offset)
            .count();
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    /// The text of 1-based line `line`, without its LF.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        &self.text[start..end.max(start)]
    }

    /// The whole lines that hold bytes `start..end` (clamped to the text):
    /// their byte range and the 1-based number of the first one.
    pub fn lines_around(&self, start: usize, end: usize) -> (std::ops::Range<usize>, usize) {
        let start = start.min(self.text.len());
        let end = end.clamp(start, self.text.len());
        let first = self.line_starts.partition_point(|&s| s <= start) - 1;
        let last = self.line_starts.partition_point(|&s| s <= end) - 1;
        let to = self
            .line_starts
            .get(last + 1)
            .map_or(self.text.len(), |next| next - 1);
        (self.line_starts[first]..to.max(end), first + 1)
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// All files of a run, addressed by `FileId`.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len()).map(FileId)
    }
}

/// The largest rule file read unless `--max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// Sets the largest file `read` accepts, for the whole run (`--max-file-size`).
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes, Ordering::Relaxed);
}

/// Why a path could not be read: a usage or I/O error (exit 2), not a rule error.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: larger than the limit of {limit} bytes for one file (raise it with --max-file-size)",
        path = path.display()
    )]
    TooLarge { path: PathBuf, limit: u64 },
    #[error(
        "{first} and {second} belong to different packs: give the paths of one pack per run",
        first = first.display(),
        second = second.display()
    )]
    TwoPacks { first: PathBuf, second: PathBuf },
}

/// The files named by `paths` (see `find`), without the loops found.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    Ok(find(paths)?.files)
}

thread_local! {
    /// Texts that stand in for files on disk: the editor's unsaved buffers
    /// while `tripline lsp` checks a pack (`with_overlay`).
    static OVERLAY: std::cell::RefCell<std::collections::HashMap<PathBuf, String>> =
        std::cell::RefCell::default();
}

/// Runs `f` with `texts` (keyed by canonical path) read in place of the
/// files on disk.
pub fn with_overlay<T>(
    texts: std::collections::HashMap<PathBuf, String>,
    f: impl FnOnce() -> T,
) -> T {
    OVERLAY.with(|overlay| *overlay.borrow_mut() = texts);
    let result = f();
    OVERLAY.with(|overlay| overlay.borrow_mut().clear());
    result
}

/// The overlay's text for `path`, if it has one.
fn overlaid(path: &Path) -> Option<Vec<u8>> {
    OVERLAY.with(|overlay| {
        let overlay = overlay.borrow();
        if overlay.is_empty() {
            return None;
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        overlay
            .get(&canonical)
            .or_else(|| overlay.get(path))
            .map(|text| text.as_bytes().to_vec())
    })
}

/// Reads a whole file, refusing one larger than the limit while reading (so
/// `/dev/zero` or a growing file stops at the limit, not at memory's end).
pub fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    if let Some(bytes) = overlaid(path) {
        return Ok(bytes);
    }
    let limit = MAX_FILE_SIZE.load(Ordering::Relaxed);
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads one file into the map. Invalid UTF-8 still adds the file (decoded
/// lossily) and returns the diagnostic at the first bad byte.
pub fn load(map: &mut SourceMap, path: &Path) -> Result<(FileId, Option<Diagnostic>), LoadError> {
    let bytes = read(path)?;
    Ok(add_bytes(map, path, &bytes))
}

/// Adds a file from its bytes (see `load`).
pub fn add_bytes(map: &mut SourceMap, path: &Path, bytes: &[u8]) -> (FileId, Option<Diagnostic>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (map.add(SourceFile::new(path, text)), None),
        Err(err) => {
            let bad = err.valid_up_to();
            let id = map.add(SourceFile::new(
                path,
                String::from_utf8_lossy(bytes).into_owned(),
            ));
            // The valid prefix decodes unchanged, so `bad` is also the offset
            // of the replacement character in the lossy text.
            let span = Span::new(bad, bad + '\u{FFFD}'.len_utf8());
            let diagnostic = Diagnostic::error(
                codes::INVALID_UTF8,
                id,
                span,
                format!(
                    "invalid UTF-8: byte 0x{:02X} at byte offset {bad}",
                    bytes[bad]
                ),
            )
            .with_label("not UTF-8")
            .with_help("save the file as UTF-8");
            (id, Some(diagnostic))
        }
    }
}

/// W0010: a file whose lines end with CR alone is all on line 1 (only LF
/// ends a line), which makes its positions hard to read; say so once.
pub fn lone_cr_warning(map: &SourceMap, id: FileId) -> Option<Diagnostic> {
    let text = &map.get(id).text;
    let at = memchr::memchr_iter(b'\r', text.as_bytes())
        .find(|&i| text.as_bytes().get(i + 1) != Some(&b'\n'))?;
    Some(
        Diagnostic::warning(
            codes::LONE_CR,
            id,
            Span::new(at, at + 1),
            "this line ends with CR alone; only LF ends a line, so what follows is still this line",
        )
        .with_label("CR")
        .with_help("save the file with LF line endings"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_only_lf_ends_a_line() {
        let file = SourceFile::new("x.trip", "ab\r\nçd\tx\n\nend");
        assert_eq!(file.position(0), Position { line: 1, column: 1 });
        assert_eq!(file.position(3), Position { line: 1, column: 4 }); // the CR
        let x = file.text.find('x').unwrap_or_default();
        assert_eq!(file.position(x), Position { line: 2, column: 4 });
        assert_eq!(
            file.position(file.text.len()),
            Position { line: 4, column: 4 }
        );
        assert_eq!(file.line_text(2), "çd\tx");
        assert_eq!(file.line_text(3), "");
    }

    #[test]
    fn only_a_cr_without_lf_is_reported() {
        let mut map = SourceMap::default();
        let crlf = map.add(SourceFile::new("a.trip", "a\r\nb\r\n"));
        assert!(lone_cr_warning(&map, crlf).is_none());
        let lone = map.add(SourceFile::new("b.trip", "a\r\nb\rc\rd"));
        let warning = lone_cr_warning(&map, lone).expect("a lone CR is reported");
        assert_eq!(warning.primary.span, Span::new(4, 5));
    }

    #[test]
    fn end_of_input_after_final_newline_is_next_line_column_one() {
        let file = SourceFile::new("x.trip", "rule a {\n");
        assert_eq!(
            file.position(file.text.len()),
            Position { line: 2, column: 1 }
        );
    }

    #[test]
    fn bom_is_skipped_and_invalid_utf8_is_located() {
        let mut map = SourceMap::default();
        let (id, diag) = add_bytes(&mut map, Path::new("a.trip"), b"\xEF\xBB\xBFrule");
        assert!(diag.is_none());
        assert_eq!(map.get(id).text, "rule");

        let (id, diag) = add_bytes(&mut map, Path::new("b.trip"), b"list x\n  \xC3\xA9\xFF");
        let diag = diag.expect("invalid UTF-8 is reported");
        let pos = map.get(id).position(diag.primary.span.start);
        assert_eq!(pos, Position { line: 2, column: 4 });
    }
}
