//! Coverage as an SVG picture to read at a glance: the focus tactic whole
//! (every technique and sub-technique, gaps in red), split in two halves when
//! long, then the other tactics the pack touches, covered techniques only,
//! stacked in lanes to the right. Each cell shows the id, the name and the
//! rule count, coloured by the shared bands, with the rule titles as its
//! tooltip. The picture is a handful of shapes, so it is built as text here;
//! every piece of text from the pack or the catalogue goes through `escape`.

use crate::xml::escape;
use std::fmt::Write;

use super::{BANDS, Cell, Column, Coverage, THROUGH_SUBTECHNIQUES, cell_band};

const MARGIN: u32 = 20;
const ROW: u32 = 22;
const ROW_GAP: u32 = 3;
/// Extra space before each technique that starts a group of sub-techniques.
const GROUP_GAP: u32 = 7;
const HEADER: u32 = 30;
const FOCUS_WIDTH: u32 = 360;
const OTHER_WIDTH: u32 = 290;
const GAP: u32 = 18;
const INDENT: u32 = 14;
const ID_WIDTH: u32 = 78;
const TOP: u32 = 104;
/// Average width of a 12px sans-serif character, to shorten long names.
const CHAR_WIDTH: f32 = 6.4;
/// A focus tactic longer than this is drawn in two halves.
const SPLIT_AT: usize = 20;
const FONT: &str = "Helvetica, Arial, sans-serif";
const MONO: &str = "Menlo, Consolas, 'DejaVu Sans Mono', monospace";

pub fn render(coverage: &Coverage, pack_name: &str) -> String {
    let columns = coverage.columns();
    let (body, right, bottom) = matrix(&columns);
    let others = if columns.iter().any(|c| !c.complete) {
        " · other tactics: covered techniques only"
    } else {
        ""
    };
    let summary = format!(
        "{} rules · a count is the number of rules naming that exact technique{others}",
        coverage.rule_count()
    );
    let (width, height) = (right.max(720 - MARGIN) + MARGIN, bottom + MARGIN);
    let title = escape(&format!("ATT&CK coverage — {pack_name}"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">"#
    );
    let _ = writeln!(out, "<title>{title}</title>");
    let _ = writeln!(
        out,
        r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="{MARGIN}" y="34" font-size="20" font-weight="bold" fill="#1f2328">{title}</text>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="{MARGIN}" y="56" fill="#424a53">{}</text>"##,
        escape(&summary)
    );
    legend(&mut out, MARGIN, 72);
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// Draws the columns; returns the drawing and its right and bottom edges.
fn matrix(columns: &[Column]) -> (String, u32, u32) {
    let mut body = String::new();
    let mut x = MARGIN;
    let mut right = MARGIN;
    let mut bottom = TOP;
    for column in columns.iter().filter(|c| c.complete) {
        let halves = halves(&column.cells);
        let width = FOCUS_WIDTH * halves.len() as u32 + GAP * (halves.len() as u32 - 1);
        header(&mut body, x, TOP, width, column);
        for (i, half) in halves.iter().enumerate() {
            let left = x + i as u32 * (FOCUS_WIDTH + GAP);
            let end = cells(&mut body, left, TOP + HEADER + 6, FOCUS_WIDTH, half);
            bottom = bottom.max(end);
        }
        right = x + width;
        x = right + GAP * 2;
    }
    // Other tactics fill a lane down to the focus tactic's depth, then the next.
    let lane_floor = bottom.max(TOP + 200);
    let mut y = TOP;
    for column in columns.iter().filter(|c| !c.complete) {
        let height = HEADER + 6 + rows_height(&column.cells);
        if y > TOP && y + height > lane_floor {
            x += OTHER_WIDTH + GAP;
            y = TOP;
        }
        header(&mut body, x, y, OTHER_WIDTH, column);
        y = cells(&mut body, x, y + HEADER + 6, OTHER_WIDTH, &column.cells) + GAP;
        bottom = bottom.max(y);
        right = x + OTHER_WIDTH;
    }
    (body, right, bottom)
}

/// The cells in one or two runs, never splitting a technique from its
/// sub-techniques.
fn halves<'a>(cells: &'a [Cell<'a>]) -> Vec<&'a [Cell<'a>]> {
    if cells.len() <= SPLIT_AT {
        return vec![cells];
    }
    let middle = cells.len().div_ceil(2);
    let split = (middle..cells.len())
        .find(|&i| !cells[i].technique.subtechnique)
        .unwrap_or(cells.len());
    let (first, second) = cells.split_at(split);
    [first, second]
        .into_iter()
        .filter(|half| !half.is_empty())
        .collect()
}

fn rows_height(cells: &[Cell]) -> u32 {
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| ROW + ROW_GAP + starts_group(i, cell))
        .sum()
}

fn starts_group(index: usize, cell: &Cell) -> u32 {
    if index > 0 && !cell.technique.subtechnique {
        GROUP_GAP
    } else {
        0
    }
}

fn header(out: &mut String, x: u32, y: u32, width: u32, column: &Column) {
    let tactic = column.tactic;
    let _ = writeln!(
        out,
        r##"<rect x="{x}" y="{y}" width="{width}" height="{HEADER}" rx="4" fill="#33414e"/>"##
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-size="14" font-weight="bold" fill="#ffffff">{} <tspan font-weight="normal" font-size="12">{}</tspan></text>"##,
        x + 10,
        y + 20,
        escape(&tactic.name),
        escape(&tactic.id)
    );
    if column.complete {
        let covered = column.cells.iter().filter(|c| !c.is_gap()).count();
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#ffffff">{covered} of {} covered</text>"##,
            x + width - 10,
            y + 20,
            column.cells.len()
        );
    }
}

/// Draws `cells` from `top` down; returns the y below the last one.
fn cells(out: &mut String, x: u32, top: u32, width: u32, cells: &[Cell]) -> u32 {
    let mut y = top;
    for (i, cell) in cells.iter().enumerate() {
        y += starts_group(i, cell);
        let technique = cell.technique;
        let indent = if technique.subtechnique { INDENT } else { 0 };
        let (left, w) = (x + indent, width - indent);
        let band = cell_band(cell);
        let gap = cell.is_gap();
        let stroke = if gap {
            r##" stroke="#d0453a" stroke-dasharray="4 2""##
        } else {
            ""
        };
        let mut tooltip = format!(
            "{} {}: {} rule{}",
            technique.id,
            technique.name,
            cell.count(),
            if cell.count() == 1 { "" } else { "s" }
        );
        if cell.count() == 0 && cell.covered {
            tooltip.push_str(" of its own; its sub-techniques have rules");
        }
        for rule in cell.rules {
            tooltip.push_str("\n· ");
            tooltip.push_str(&rule.title);
        }
        let name_room = w.saturating_sub(ID_WIDTH + 40) as f32 / CHAR_WIDTH;
        let name = shorten(&technique.name, name_room as usize);
        let baseline = y + 15;
        let _ = writeln!(out, "<g>\n<title>{}</title>", escape(&tooltip));
        let _ = writeln!(
            out,
            r#"<rect x="{left}" y="{y}" width="{w}" height="{ROW}" rx="3" fill="{}"{stroke}/>"#,
            band.fill
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{baseline}" font-family="{MONO}" font-size="11" fill="{}">{}</text>"#,
            left + 7,
            band.ink,
            escape(&technique.id)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{baseline}" fill="{}">{}</text>"#,
            left + ID_WIDTH,
            band.ink,
            escape(&name)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{baseline}" text-anchor="end" font-weight="bold" fill="{}">{}</text>"#,
            left + w - 9,
            band.ink,
            cell.count()
        );
        out.push_str("</g>\n");
        y += ROW + ROW_GAP;
    }
    y
}

fn legend(out: &mut String, x: u32, y: u32) {
    let mut left = x;
    for band in BANDS.iter().chain([&THROUGH_SUBTECHNIQUES]) {
        let stroke = if *band == BANDS[0] {
            r##" stroke="#d0453a" stroke-dasharray="4 2""##
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<rect x="{left}" y="{y}" width="28" height="16" rx="3" fill="{}"{stroke}/>"#,
            band.fill
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" fill="#1f2328">{}</text>"##,
            left + 34,
            y + 12,
            escape(band.label)
        );
        left += 34 + (band.label.chars().count() as f32 * CHAR_WIDTH) as u32 + 22;
    }
}

/// `text` cut to `room` characters, with an ellipsis when cut.
fn shorten(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let kept: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_controls() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#10;\u{FFFD}"
        );
    }

    #[test]
    fn shorten_keeps_short_names_and_marks_cuts() {
        assert_eq!(shorten("DNS", 10), "DNS");
        assert_eq!(shorten("Network Service Discovery", 10), "Network S…");
    }
}
