//! `tripline.lock`: the content version of what each SIEM loads. For every
//! rule (its Sentinel analytics rule) and for the Splunk app it records a
//! hash of the generated content and the version that content shipped as.
//! A build that generates different content moves the version (the patch
//! number, or to the manifest's version when that is higher); the same
//! content keeps it. So a version changes whenever what the SIEM loads
//! changes, and never otherwise, and the lock, committed with the pack,
//! carries that history from build to build and machine to machine.
//!
//! Builds with other target settings (`--mapping native`, `--targets-dir`)
//! load different content into the SIEM: each set of settings keeps its own
//! versions, in its own table (`[default]`, `[native]`, `[custom-default]`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The lock's file name, beside `tripline.toml`.
pub const LOCK: &str = "tripline.lock";
/// The version of content never built before.
pub const FIRST_VERSION: &str = "1.0.0";

const HEADER: &str = "# Written by `tripline build`: the hash of what each SIEM loads and the\n\
# version it shipped as. Commit it with the pack; do not edit it.\n\n";

/// The whole file: one [`Lock`] per set of target settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LockFile {
    pub builds: BTreeMap<String, Lock>,
}

/// The name of a build's table: its mapping, `custom-` before it when the
/// targets come from `--targets-dir`.
pub fn build_key(mapping: &str, custom_targets: bool) -> String {
    if custom_targets {
        format!("custom-{mapping}")
    } else {
        mapping.to_string()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// The Splunk app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splunk: Option<Entry>,
    /// Each rule's Sentinel analytics rule, by rule name.
    #[serde(default)]
    pub rules: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub version: String,
    pub hash: String,
}

impl LockFile {
    /// Reads the lock at `path`; a missing file is an empty lock.
    pub fn read(path: &Path) -> Result<LockFile, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LockFile::default());
            }
            Err(err) => return Err(format!("{}: {err}", path.display())),
        };
        toml::from_str(&text).map_err(|err| {
            format!(
                "{}: {} (delete the file to start the versions afresh)",
                path.display(),
                err.message()
            )
        })
    }

    /// The lock as written to disk.
    pub fn render(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("{HEADER}{body}")
    }
}

/// A stable hash of a sequence of texts (64-bit FNV-1a over each text's
/// length and bytes), as 16 hex digits. Only equality matters: it tells
/// whether generated content changed between builds of any tripline.
pub fn content_hash<'a>(texts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for text in texts {
        eat(&(text.len() as u64).to_le_bytes());
        eat(text);
    }
    format!("{hash:016x}")
}

/// The version content with `hash` ships as, given the version the pack
/// asks for at least (`base`, `X.Y.Z`) and what the lock recorded.
pub fn next_version(base: &str, locked: Option<&Entry>, hash: &str) -> String {
    let Some(locked) = locked else {
        return base.to_string();
    };
    let (Some(asked), Some(had)) = (parse(base), parse(&locked.version)) else {
        return base.to_string();
    };
    if asked > had {
        return base.to_string();
    }
    if locked.hash == hash {
        return locked.version.clone();
    }
    let (major, minor, patch) = had;
    format!("{major}.{minor}.{}", patch.saturating_add(1))
}

fn parse(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    let triple = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(triple)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: &str, hash: &str) -> Entry {
        Entry {
            version: version.to_string(),
            hash: hash.to_string(),
        }
    }

    #[test]
    fn versions_move_with_the_content_and_only_then() {
        let cases = [
            // (base, locked, hash, expected)
            ("1.0.0", None, "a", "1.0.0"),
            ("1.0.0", Some(entry("1.0.0", "a")), "a", "1.0.0"),
            ("1.0.0", Some(entry("1.0.0", "a")), "b", "1.0.1"),
            ("1.0.0", Some(entry("1.0.7", "a")), "a", "1.0.7"),
            ("1.0.0", Some(entry("1.0.7", "a")), "b", "1.0.8"),
            ("2.0.0", Some(entry("1.0.7", "a")), "b", "2.0.0"),
            ("2.0.0", Some(entry("1.0.7", "a")), "a", "2.0.0"),
            ("1.1.0", Some(entry("1.1.0", "a")), "b", "1.1.1"),
        ];
        for (base, locked, hash, expected) in cases {
            assert_eq!(
                next_version(base, locked.as_ref(), hash),
                expected,
                "{base} {locked:?} {hash}"
            );
        }
    }

    #[test]
    fn the_hash_separates_texts_and_is_stable() {
        let one = content_hash([b"ab".as_slice(), b"c"]);
        let two = content_hash([b"a".as_slice(), b"bc"]);
        assert_ne!(one, two);
        assert_eq!(
            content_hash([b"".as_slice()]),
            content_hash([b"".as_slice()])
        );
        assert_eq!(content_hash(std::iter::empty()), "cbf29ce484222325");
    }

    #[test]
    fn a_lock_reads_back_what_it_wrote() {
        let mut lock = Lock::default();
        lock.rules.insert("a".to_string(), entry("1.0.2", "00ff"));
        lock.splunk = Some(entry("1.2.0", "abcd"));
        let mut file = LockFile::default();
        file.builds
            .insert(build_key("default", false), lock.clone());
        file.builds.insert(build_key("native", true), lock);
        let text = file.render();
        assert!(text.starts_with("# Written by"));
        assert!(text.contains("[custom-native.splunk]"), "{text}");
        assert_eq!(toml::from_str::<LockFile>(&text).ok(), Some(file));
    }
}
