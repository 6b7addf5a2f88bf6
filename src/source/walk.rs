//! Finding the rule files of a run. A file given by name is taken whatever
//! its extension; a folder is searched for `*.trip`, in path order,
//! following symlinks. Each folder and file is visited once by its
//! canonical path: a folder reached again through another link is skipped,
//! and a link back to a folder being walked (a loop) is skipped and
//! reported, so a self-link costs one warning, not an exponential walk or
//! every file loaded twice.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::LoadError;

/// The files to read, and the symlink loops skipped on the way.
#[derive(Debug, Default)]
pub struct Found {
    pub files: Vec<PathBuf>,
    pub loops: Vec<Loop>,
}

/// A folder reached through a symlink that leads back to a folder that
/// contains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loop {
    /// The path as walked (`rules/self`).
    pub path: PathBuf,
    /// The canonical path of the folder it leads back to.
    pub target: PathBuf,
}

impl std::fmt::Display for Loop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: a symlink loop back to {} (skipped)",
            self.path.display(),
            self.target.display()
        )
    }
}

#[derive(Default)]
struct Walk {
    found: Found,
    files: HashSet<PathBuf>,
    folders: HashSet<PathBuf>,
    /// Canonical paths of the folders being walked, outermost first.
    open: Vec<PathBuf>,
    /// The extensions searched for in folders.
    extensions: Vec<String>,
}

/// The files named by `paths`, each once.
pub fn find(paths: &[PathBuf]) -> Result<Found, LoadError> {
    find_with(paths, &["trip"])
}

/// `find` for files of other kinds: folders are searched for names
/// ending in one of `extensions` (`import sigma` reads `yml` and `yaml`).
pub fn find_with(paths: &[PathBuf], extensions: &[&str]) -> Result<Found, LoadError> {
    let mut walk = Walk {
        extensions: extensions.iter().map(|e| e.to_string()).collect(),
        ..Walk::default()
    };
    for path in paths {
        let meta = std::fs::metadata(path).map_err(io(path))?;
        if meta.is_dir() {
            walk.folder(path)?;
        } else {
            walk.file(path)?;
        }
    }
    Ok(walk.found)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Walk {
    fn file(&mut self, path: &Path) -> Result<(), LoadError> {
        let canonical = std::fs::canonicalize(path).map_err(io(path))?;
        if self.files.insert(canonical) {
            self.found.files.push(path.to_path_buf());
        }
        Ok(())
    }

    fn folder(&mut self, dir: &Path) -> Result<(), LoadError> {
        let canonical = std::fs::canonicalize(dir).map_err(io(dir))?;
        if self.open.contains(&canonical) {
            self.found.loops.push(Loop {
                path: dir.to_path_buf(),
                target: canonical,
            });
            return Ok(());
        }
        if !self.folders.insert(canonical.clone()) {
            return Ok(());
        }
        let mut entries = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io(dir))?;
        entries.sort();
        self.open.push(canonical);
        for path in entries {
            // Links are followed; a dangling `*.trip` link is an error naming
            // it, and a FIFO or device named `*.trip` is left out (reading
            // it could block or never end).
            let meta = std::fs::metadata(&path);
            if meta.as_ref().is_ok_and(std::fs::Metadata::is_dir) {
                self.folder(&path)?;
            } else if path
                .extension()
                .is_some_and(|ext| self.extensions.iter().any(|e| ext == e.as_str()))
            {
                match meta {
                    Ok(meta) if !meta.is_file() => {}
                    Ok(_) => self.file(&path)?,
                    Err(err) => return Err(io(&path)(err)),
                }
            }
        }
        self.open.pop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tripline-walk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.trip"), "").unwrap();
        std::fs::write(dir.join("sub/b.trip"), "").unwrap();
        dir
    }

    #[test]
    fn self_links_are_loops_walked_once() {
        let dir = scratch("loops");
        symlink(".", dir.join("self")).unwrap();
        symlink("..", dir.join("sub/up")).unwrap();
        let found = find(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(
            found.files,
            vec![dir.join("a.trip"), dir.join("sub/b.trip")]
        );
        let loops: Vec<PathBuf> = found.loops.iter().map(|l| l.path.clone()).collect();
        assert_eq!(loops, vec![dir.join("self"), dir.join("sub/up")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dangling_rule_link_is_an_error_naming_it() {
        let dir = scratch("dangling");
        symlink("gone.trip", dir.join("z.trip")).unwrap();
        let err = find(std::slice::from_ref(&dir)).unwrap_err().to_string();
        assert!(
            err.starts_with(&dir.join("z.trip").display().to_string()),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_reached_twice_is_found_once() {
        let dir = scratch("twice");
        symlink("sub", dir.join("again")).unwrap();
        symlink("a.trip", dir.join("z.trip")).unwrap();
        let found = find(&[dir.clone(), dir.join("a.trip")]).unwrap();
        assert_eq!(
            found.files,
            vec![dir.join("a.trip"), dir.join("again/b.trip")]
        );
        assert!(found.loops.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
