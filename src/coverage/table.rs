//! Coverage as a plain-text table for a terminal or a CI log: one block per
//! tactic (the focus tactic whole, gaps marked, the others covered-only), a
//! line per technique with its rule count; sub-techniques are indented. A
//! technique without a rule of its own whose sub-techniques have rules is
//! marked covered, not a gap.

use std::fmt::Write;

use super::{Column, Coverage};

pub fn render(coverage: &Coverage) -> String {
    let columns = coverage.columns();
    let name_width = columns
        .iter()
        .flat_map(|column| &column.cells)
        .map(|cell| indent(cell.technique.subtechnique).len() + cell.technique.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for column in &columns {
        heading(&mut out, column);
        for cell in &column.cells {
            let technique = cell.technique;
            let name = format!("{}{}", indent(technique.subtechnique), technique.name);
            let mark = match (cell.is_gap(), cell.count()) {
                (true, _) => "  gap",
                (false, 0) => "  covered by sub-techniques",
                _ => "",
            };
            let _ = writeln!(
                out,
                "  {:<10} {:<name_width$} {:>3}{mark}",
                technique.id,
                name,
                cell.count()
            );
        }
        out.push('\n');
    }
    let rules = coverage.rule_count();
    let _ = writeln!(
        out,
        "{rules} rule{}; a count is the number of rules naming that exact technique",
        if rules == 1 { "" } else { "s" }
    );
    out
}

fn heading(out: &mut String, column: &Column) {
    let tactic = column.tactic;
    let covered = column.cells.iter().filter(|c| !c.is_gap()).count();
    let _ = if column.complete {
        writeln!(
            out,
            "{} ({}): {covered} of {} techniques and sub-techniques are covered",
            tactic.name,
            tactic.id,
            column.cells.len()
        )
    } else {
        writeln!(
            out,
            "{} ({}): covered techniques only",
            tactic.name, tactic.id
        )
    };
}

fn indent(subtechnique: bool) -> &'static str {
    if subtechnique { "  " } else { "" }
}
