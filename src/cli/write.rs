//! Every file a command writes goes through here (`test --junit`, `coverage
//! --layer/--svg`, `fmt`), and every command's main output goes to stdout
//! through `print`. What a path names decides how it is written: a regular
//! file (or a new one) is replaced by a temporary file in the same folder
//! and a rename, so a reader never sees half a file; a device or FIFO is
//! written in place (`/dev/null` stays a device); a symlink is followed and
//! its target written the same way, the link kept; a read-only file is
//! refused rather than replaced. Every error names the path.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The most symlinks followed from one path (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A file that could not be written, and why; shown as `cannot write PATH: ...`.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Writes `bytes` to `path` as described in the module comment.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let target = follow_links(path).map_err(at(path))?;
    match fs::metadata(&target) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            replace(&target, bytes, None).map_err(at(&target))
        }
        Err(err) => Err(at(&target)(err)),
        Ok(meta) if meta.is_dir() => Err(at(&target)(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a folder",
        ))),
        Ok(meta) if meta.is_file() && meta.permissions().readonly() => Err(at(&target)(
            io::Error::new(io::ErrorKind::PermissionDenied, "the file is read-only"),
        )),
        Ok(meta) if meta.is_file() => {
            replace(&target, bytes, Some(meta.permissions())).map_err(at(&target))
        }
        Ok(_) => in_place(&target, bytes).map_err(at(&target)),
    }
}

/// The path at the end of `path`'s chain of symlinks (which need not exist).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(folder) => folder.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symlinks to follow (a loop?)"
    )))
}

/// A device, FIFO or socket: opened for writing, never created or replaced.
fn in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

/// A regular file: a new temporary file beside it, then a rename over it.
/// The temporary name is short so a long target name still fits.
fn replace(path: &Path, bytes: &[u8], permissions: Option<fs::Permissions>) -> io::Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (temporary, mut file) = create_temporary(folder)?;
    let written = (|| {
        file.write_all(bytes)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// `create_new` refuses a name that exists, a planted symlink included.
fn create_temporary(folder: &Path) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut attempt = 0;
    loop {
        let temporary = folder.join(format!(".tripline-{pid}-{attempt}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Writes a command's main output to stdout and flushes it. On failure (a
/// full device, a closed pipe) says so on stderr and gives exit code 2.
pub fn print(text: &str) -> Result<(), u8> {
    print_with(|out| out.write_all(text.as_bytes()))
}

/// `print` for output produced piecewise.
pub fn print_with(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), u8> {
    let mut out = io::stdout().lock();
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(stdout_failed)
}

/// Reports a failed write to stdout; the exit code to return.
pub fn stdout_failed(err: io::Error) -> u8 {
    eprintln!("error: cannot write to standard output: {err}");
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tripline-write-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_is_replaced_and_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("regular");
        let path = dir.join("a.txt");
        write_file(&path, b"one").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_file(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temporary left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_is_kept_and_its_target_written() {
        let dir = scratch("link");
        fs::create_dir_all(dir.join("real")).unwrap();
        fs::write(dir.join("real/target.txt"), "old").unwrap();
        std::os::unix::fs::symlink("real/target.txt", dir.join("link.txt")).unwrap();
        write_file(&dir.join("link.txt"), b"new").unwrap();
        assert!(
            fs::symlink_metadata(dir.join("link.txt"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(dir.join("real/target.txt")).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_read_only_file_is_refused_not_replaced() {
        let dir = scratch("readonly");
        let path = dir.join("locked.txt");
        fs::write(&path, "kept").unwrap();
        let mut permissions = fs::metadata(&path).unwrap().permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&path, permissions).unwrap();
        let message = write_file(&path, b"lost").unwrap_err().to_string();
        assert!(
            message.contains("locked.txt") && message.contains("read-only"),
            "{message}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"kept");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_full_device_is_written_in_place_and_fails() {
        // (A FIFO written in place: tests/integration/hostile_io.rs.)
        let full = write_file(Path::new("/dev/full"), b"x").unwrap_err();
        assert!(
            full.to_string().starts_with("cannot write /dev/full: "),
            "{full}"
        );
        assert!(!fs::metadata("/dev/full").unwrap().is_file());
    }

    #[test]
    fn errors_name_the_path() {
        let dir = scratch("errors");
        let folder = write_file(&dir, b"x").unwrap_err().to_string();
        assert!(folder.contains(&dir.display().to_string()), "{folder}");
        let long = dir.join("x".repeat(300));
        let too_long = write_file(&long, b"x").unwrap_err().to_string();
        assert!(too_long.contains(&"x".repeat(300)), "{too_long}");
        let missing = dir.join("no/such/folder.txt");
        let message = write_file(&missing, b"x").unwrap_err().to_string();
        assert!(message.contains("no/such/folder.txt"), "{message}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
