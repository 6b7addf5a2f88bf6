//! `tripline taxonomy`: the sources and fields a rule may read (bundled,
//! plus `--taxonomy` extensions), each field's type and description and its
//! name on each target's mapping (`-`: not mapped, so rules reading it are
//! refused there), as tables or as one JSON document.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::{TaxonomyArgs, TaxonomyFormat};
use crate::check::{Source, Taxonomy};
use crate::emit::TargetName;
use crate::emit::folder::{Mapping, TargetFolder};
use crate::ir::FieldType;
use crate::source::SourceMap;

/// The targets that map fields (the runbook has no mapping).
const TARGETS: [TargetName; 4] = [
    TargetName::Sigma,
    TargetName::Splunk,
    TargetName::Kql,
    TargetName::Sql,
];

pub fn run(args: &TaxonomyArgs) -> u8 {
    let mut map = SourceMap::default();
    let taxonomy = match Taxonomy::bundled().extended(&mut map, &args.taxonomy) {
        Ok(taxonomy) => taxonomy,
        Err(crate::check::ExtendError::Load(err)) => {
            eprintln!("error: {err}");
            return 2;
        }
        Err(crate::check::ExtendError::Invalid(mut diagnostics)) => {
            let files = map.ids().count();
            super::report(&map, &mut diagnostics, files);
            return 1;
        }
    };
    let mut mappings = Vec::new();
    for target in TARGETS {
        match mapping(target, &args.mapping, &taxonomy) {
            Ok(found) => mappings.push((target, found)),
            Err(message) => {
                eprintln!("error: {message}");
                return 2;
            }
        }
    }
    let written = match args.format {
        TaxonomyFormat::Table => {
            super::write::print_with(|out| out.write_all(table(&taxonomy, &mappings).as_bytes()))
        }
        TaxonomyFormat::Json => super::print_json(&document(&taxonomy, &mappings)),
    };
    match written {
        Ok(()) => 0,
        Err(code) => code,
    }
}

/// The target's mapping named `name`, or its `default` when it has none by
/// that name, with the extensions' names.
fn mapping(target: TargetName, name: &str, taxonomy: &Taxonomy) -> Result<Mapping, String> {
    let folder = TargetFolder::load(target.as_str(), None).map_err(|e| e.to_string())?;
    let name = if folder.mapping_names().contains(&name) {
        name
    } else {
        "default"
    };
    let mapping = folder.mapping(name).map_err(|e| e.to_string())?;
    Ok(mapping.overlaid(taxonomy, target.as_str(), name))
}

fn table(taxonomy: &Taxonomy, mappings: &[(TargetName, Mapping)]) -> String {
    let mut out = format!("taxonomy {}\n", taxonomy.version());
    for source in taxonomy.sources() {
        let _ = write!(out, "\n{}: {}", source.name, source.description);
        if let Some(path) = &source.defined_in {
            let _ = write!(out, " (from {path})");
        }
        out.push('\n');
        let mut rows = vec![
            [
                "field",
                "type",
                "sigma",
                "splunk",
                "kql",
                "sql",
                "description",
            ]
            .map(str::to_string),
        ];
        for field in &source.fields {
            let name = |i: usize| {
                let (_, mapping) = &mappings[i];
                mapping
                    .field(&source.name, &field.name)
                    .unwrap_or("-")
                    .to_string()
            };
            rows.push([
                field.name.clone(),
                type_name(field.ty).to_string(),
                name(0),
                name(1),
                name(2),
                name(3),
                field.description.clone(),
            ]);
        }
        let widths: Vec<usize> = (0..6)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let mut line = String::from(" ");
            for (i, cell) in row.iter().enumerate() {
                line.push(' ');
                line.push_str(cell);
                if let Some(width) = widths.get(i) {
                    line.push_str(&" ".repeat(width - cell.chars().count()));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

fn document(taxonomy: &Taxonomy, mappings: &[(TargetName, Mapping)]) -> Value {
    let sources: Vec<Value> = taxonomy
        .sources()
        .iter()
        .map(|source| source_json(source, mappings))
        .collect();
    json!({ "version": taxonomy.version(), "sources": sources })
}

fn source_json(source: &Source, mappings: &[(TargetName, Mapping)]) -> Value {
    let fields: Vec<Value> = source
        .fields
        .iter()
        .map(|field| {
            let mut targets = Map::new();
            for (target, mapping) in mappings {
                let name = mapping.field(&source.name, &field.name);
                targets.insert(target.as_str().to_string(), json!(name));
            }
            json!({
                "name": field.name,
                "type": type_name(field.ty).to_string(),
                "description": field.description,
                "targets": targets,
            })
        })
        .collect();
    let mapped_on: Vec<&str> = mappings
        .iter()
        .filter(|(_, m)| m.sources.contains_key(&source.name))
        .map(|(t, _)| t.as_str())
        .collect();
    let mut value = json!({
        "name": source.name,
        "description": source.description,
        "targets": mapped_on,
        "fields": fields,
    });
    if let (Some(path), Some(object)) = (&source.defined_in, value.as_object_mut()) {
        object.insert("defined_in".to_string(), json!(path));
    }
    value
}

pub(super) fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "string",
        FieldType::Int => "int",
        FieldType::Ip => "ip",
        FieldType::Time => "time",
    }
}
