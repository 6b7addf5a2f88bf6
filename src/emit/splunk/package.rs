//! `build --package`: the app folder as a `.tgz` AppInspect and Splunk
//! install. Deterministic: entries sorted, fixed times, owners and modes.

use std::collections::BTreeSet;

use crate::emit::Document;

/// The documents under `app_id/` as a gzipped tar, folders included.
pub fn package(documents: &[Document], app_id: &str) -> std::io::Result<Vec<u8>> {
    let prefix = format!("{app_id}/");
    let mut files: Vec<&Document> = documents
        .iter()
        .filter(|d| d.path.starts_with(&prefix))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut folders = BTreeSet::new();
    for file in &files {
        let mut path = file.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            folders.insert(format!("{parent}/"));
            path = parent;
        }
    }
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut archive = tar::Builder::new(encoder);
    archive.mode(tar::HeaderMode::Deterministic);
    for folder in &folders {
        let mut header = header(tar::EntryType::Directory, 0o755, 0);
        archive.append_data(&mut header, folder, std::io::empty())?;
    }
    for file in files {
        let bytes = file.text.as_bytes();
        let mut header = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
        archive.append_data(&mut header, &file.path, bytes)?;
    }
    archive.into_inner()?.finish()
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header
}
