//! How `build --out OUT` replaces its target folders, all or none. Under a
//! lock (`OUT/.tripline.lock`, so concurrent builds take turns), every
//! target is written into `OUT/.tripline-staging-PID/`; only when all of it
//! is written does a `.complete` marker go in, and then each staged folder
//! is renamed over its target (the old one moved aside, then removed).
//! The staging folder is its own journal: a build killed before the marker
//! leaves one the next build deletes, and a build killed during the swap
//! leaves one with the marker whose remaining folders the next build swaps
//! in (rolls forward). The only moment a reader can see a mix of old and
//! new targets is during those few renames, or after a kill during them
//! until the next build.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Component, Path, PathBuf};

use super::write::WriteError;
use crate::emit::TargetName;

const LOCK: &str = ".tripline.lock";
const STAGING: &str = ".tripline-staging-";
const OLD: &str = ".tripline-old-";
const COMPLETE: &str = ".complete";

/// One target's files: its folder name under `OUT` and `(relative path, bytes)`.
pub struct TargetFiles<'a> {
    pub name: &'a str,
    pub files: Vec<(&'a str, &'a [u8])>,
}

/// Replaces `out/<name>` for each target, as described above.
pub fn replace_targets(out: &Path, targets: &[TargetFiles]) -> Result<(), WriteError> {
    fs::create_dir_all(out).map_err(at(out))?;
    let _lock = lock(out)?;
    recover(out)?;
    let staging = out.join(format!("{STAGING}{}", std::process::id()));
    remove_folder(&staging)?;
    let staged = stage(out, &staging, targets);
    if staged.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    staged?;
    swap_in(out, &staging)
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// Takes the lock, waiting (and saying so) while another build holds it.
/// The lock is the file's advisory lock, released when the process ends.
fn lock(out: &Path) -> Result<File, WriteError> {
    let path = out.join(LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(at(&path))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(TryLockError::WouldBlock) => {
            eprintln!("waiting for another build into {}", out.display());
        }
        Err(TryLockError::Error(err)) => return Err(at(&path)(err)),
    }
    file.lock().map_err(at(&path))?;
    Ok(file)
}

/// Cleans what killed builds left: staging folders (swapped in when
/// complete, else removed), old folders, and the `.X.new-PID` /
/// `.X.old-PID` folders of versions before the lock whose process is gone.
fn recover(out: &Path) -> Result<(), WriteError> {
    for entry in fs::read_dir(out).map_err(at(out))? {
        let path = entry.map_err(at(out))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with(STAGING) {
            if path.join(COMPLETE).exists() {
                swap_in(out, &path)?;
            } else {
                remove_folder(&path)?;
            }
        } else if name.starts_with(OLD) || legacy_of_dead_process(&name) {
            remove_folder(&path)?;
        }
    }
    Ok(())
}

/// `.sigma.new-1234`: left by a build before the lock, if 1234 is gone.
fn legacy_of_dead_process(name: &str) -> bool {
    let pid = TargetName::ALL.iter().find_map(|target| {
        let rest = name.strip_prefix('.')?.strip_prefix(target.as_str())?;
        rest.strip_prefix(".new-")
            .or_else(|| rest.strip_prefix(".old-"))
    });
    match pid.and_then(|pid| pid.parse::<u32>().ok()) {
        Some(pid) => !Path::new("/proc").join(pid.to_string()).exists(),
        None => false,
    }
}

fn remove_folder(path: &Path) -> Result<(), WriteError> {
    match fs::remove_dir_all(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(at(path)(err)),
        _ => Ok(()),
    }
}

/// Writes every target under `staging`, then the marker. Errors name the
/// path the file would have had under `out`.
fn stage(out: &Path, staging: &Path, targets: &[TargetFiles]) -> Result<(), WriteError> {
    for target in targets {
        let folder = staging.join(target.name);
        fs::create_dir_all(&folder).map_err(at(&folder))?;
        for &(relative, bytes) in &target.files {
            let shown = out.join(target.name).join(relative);
            if !stays_inside(relative) {
                return Err(at(&shown)(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the path leaves the output folder",
                )));
            }
            let path = folder.join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(at(&shown))?;
            }
            fs::write(&path, bytes).map_err(at(&shown))?;
        }
    }
    let marker = staging.join(COMPLETE);
    fs::write(&marker, b"").map_err(at(&marker))
}

/// A relative path made only of names: no root, no `..`, no `.`.
fn stays_inside(relative: &str) -> bool {
    let path = Path::new(relative);
    !relative.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Renames each folder of a complete staging folder over its target, then
/// removes the staging folder and the replaced folders.
fn swap_in(out: &Path, staging: &Path) -> Result<(), WriteError> {
    let old = out.join(format!("{OLD}{}", std::process::id()));
    let mut names: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(staging).map_err(at(staging))? {
        let path = entry.map_err(at(staging))?.path();
        if path.is_dir() {
            names.push(path);
        }
    }
    names.sort();
    for staged in names {
        let Some(name) = staged.file_name() else {
            continue;
        };
        let target = out.join(name);
        if fs::symlink_metadata(&target).is_ok() {
            fs::create_dir_all(&old).map_err(at(&old))?;
            fs::rename(&target, old.join(name)).map_err(at(&target))?;
        }
        fs::rename(&staged, &target).map_err(at(&target))?;
    }
    remove_folder(staging)?;
    remove_folder(&old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_stay_inside() {
        for inside in ["a.yml", "queries/a.kql", "app/default/app.conf"] {
            assert!(stays_inside(inside), "{inside}");
        }
        for outside in ["", "/etc/passwd", "../evil", "app/../../evil", "./a"] {
            assert!(!stays_inside(outside), "{outside}");
        }
    }

    #[test]
    fn legacy_leftovers_are_recognised_by_a_dead_pid() {
        assert!(legacy_of_dead_process(".sigma.new-999999999"));
        assert!(legacy_of_dead_process(".kql.old-999999999"));
        let alive = format!(".sigma.new-{}", std::process::id());
        assert!(!legacy_of_dead_process(&alive));
        assert!(!legacy_of_dead_process("sigma"));
        assert!(!legacy_of_dead_process(".git"));
        assert!(!legacy_of_dead_process(".notes.new-999999999"));
    }
}
