//! `tripline new pack PATH` and `tripline new rule NAME`: a starting point
//! that checks, tests and builds as written. The files come from
//! `scaffold/`, with `{{pack}}`, `{{id}}` and the rule's parts filled in;
//! ids are fresh random UUIDs. Nothing existing is overwritten.

use std::path::{Path, PathBuf};

use super::{NewArgs, NewCommand};
use crate::check::Taxonomy;
use crate::diag::nearest;
use crate::ir::FieldType;

const MANIFEST: &str = include_str!("scaffold/tripline.toml");
const LISTS: &str = include_str!("scaffold/lists.trip");
const EXAMPLE: &str = include_str!("scaffold/example.trip");
const RULE: &str = include_str!("scaffold/rule.trip");

pub fn run(args: &NewArgs) -> u8 {
    let written = match &args.what {
        NewCommand::Pack { path } => new_pack(path),
        NewCommand::Rule { name, source, dir } => new_rule(name, source, dir),
    };
    match written {
        Ok(paths) => {
            for path in paths {
                eprintln!("created {}", path.display());
            }
            0
        }
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    }
}

fn new_pack(path: &Path) -> Result<Vec<PathBuf>, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .ok_or_else(|| format!("{}: name the pack's new folder", path.display()))?;
    if std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{}: the folder exists and is not empty",
            path.display()
        ));
    }
    let manifest = MANIFEST.replace("{{pack}}", &name.replace(['"', '\\'], ""));
    let example = EXAMPLE.replace("{{id}}", &fresh_id());
    let files = [
        (path.join(crate::pack::MANIFEST), manifest),
        (path.join("lists.trip"), LISTS.to_string()),
        (path.join("dns_zone_transfer_from_outside.trip"), example),
    ];
    write_new(&files)
}

fn new_rule(name: &str, source: &str, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a rule name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    let taxonomy = Taxonomy::bundled();
    let Some(found) = taxonomy.source(source) else {
        let names = taxonomy.sources().iter().map(|s| s.name.as_str());
        let hint = match nearest(source, names) {
            Some(near) => format!("; did you mean `{near}`?"),
            None => String::new(),
        };
        return Err(format!("unknown source `{source}`{hint}"));
    };
    let field = found
        .fields
        .iter()
        .find(|field| field.ty == FieldType::String)
        .map(|field| field.name.as_str())
        .ok_or_else(|| format!("source `{source}` has no string field to start from"))?;
    let title = name.replace('_', " ");
    let title = match title.chars().next() {
        Some(first) => first.to_uppercase().chain(title.chars().skip(1)).collect(),
        None => title,
    };
    let text = RULE
        .replace("{{fields}}", &field_comments(found))
        .replace("{{name}}", name)
        .replace("{{title}}", &title)
        .replace("{{id}}", &fresh_id())
        .replace("{{source}}", source)
        .replace("{{field}}", field)
        .replace("{{value}}", "example");
    let file = format!("{name}.trip");
    let path = if dir == Path::new(".") {
        PathBuf::from(file)
    } else {
        dir.join(file)
    };
    write_new(&[(path, text)])
}

/// The source's fields as comments, one a line with type and description,
/// so the rule's author sees what `where` can test without leaving the file.
fn field_comments(source: &crate::check::Source) -> String {
    let width = source
        .fields
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "  # Fields of `{}` (all sources: `tripline taxonomy`):\n",
        source.name
    );
    for field in &source.fields {
        let line = format!(
            "  #   {:<width$}  {:<6}  {}",
            field.name,
            super::taxonomy::type_name(field.ty),
            field.description
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.trim_end().to_string()
}

fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Writes each file, refusing any that exists already (checked first, so
/// that a refusal writes nothing).
fn write_new(files: &[(PathBuf, String)]) -> Result<Vec<PathBuf>, String> {
    if let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(format!(
            "{}: exists already; nothing was written",
            path.display()
        ));
    }
    for (path, text) in files {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        super::write::write_file(path, text.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(files.iter().map(|(path, _)| path.clone()).collect())
}
