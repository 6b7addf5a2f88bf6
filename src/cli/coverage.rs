//! `tripline coverage`: the ATT&CK coverage of the pack as a text table on
//! stdout, or as a Navigator layer (`--layer`) and an SVG matrix (`--svg`)
//! written to files. `--min-coverage` fails the run (exit 1) when a named
//! technique has no rule on itself or a sub-technique (the test that keeps
//! a technique from being drawn as a gap); `--tactic` picks the tactics
//! drawn. An unknown id is a usage error (exit 2), as is a file that cannot
//! be written.

use std::path::Path;

use super::{CoverageArgs, pipeline};
use crate::check::Catalogue;
use crate::coverage::{self, Coverage, layer, svg, table};

pub fn run(args: &CoverageArgs) -> u8 {
    let catalogue = Catalogue::bundled();
    let required = match args
        .min_coverage
        .as_deref()
        .map(|text| coverage::parse_required(text, catalogue))
    {
        Some(Err(message)) => {
            eprintln!("error: {message}");
            return 2;
        }
        Some(Ok(required)) => required,
        None => Vec::new(),
    };
    let tactics = match args
        .tactic
        .as_deref()
        .map(|text| coverage::parse_tactics(text, catalogue))
        .transpose()
    {
        Ok(tactics) => tactics,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    let loaded = match pipeline::load_runnable(&args.paths, args.site.as_deref(), &args.taxonomy) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let mut coverage = Coverage::of(&loaded.checked.pack, catalogue);
    if let Some(tactics) = tactics {
        coverage = coverage.with_tactics(tactics);
    }
    let pack_name = pack_name(args);
    if let Some(path) = &args.layer {
        let mut text =
            serde_json::to_string_pretty(&layer::render(&coverage, &pack_name)).unwrap_or_default();
        text.push('\n');
        if let Err(code) = write(path, &text) {
            return code;
        }
    }
    if let Some(path) = &args.svg
        && let Err(code) = write(path, &svg::render(&coverage, &pack_name))
    {
        return code;
    }
    if args.layer.is_none()
        && args.svg.is_none()
        && let Err(code) = super::write::print(&table::render(&coverage))
    {
        return code;
    }
    let unmet = coverage.unmet(&required);
    for technique in &unmet {
        eprintln!(
            "error: no rule covers {} ({}) or any of its sub-techniques",
            technique.id, technique.name
        );
    }
    u8::from(!unmet.is_empty())
}

/// The paths as given (or the default), for titles.
fn pack_name(args: &CoverageArgs) -> String {
    super::paths_or_default(&args.paths)
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn write(path: &Path, text: &str) -> Result<(), u8> {
    super::write::write_file(path, text.as_bytes()).map_err(|err| {
        eprintln!("error: {err}");
        2
    })
}
