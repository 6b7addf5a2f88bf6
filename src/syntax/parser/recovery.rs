//! Where to resume after a broken item: the next `rule` or `list` keyword
//! that is the first token on its line or follows a closing `}` or `]`
//! (`rule a { title 5 } rule b { ... }` on one line). The scan starts at the broken item's
//! own keyword and steps over whole tokens, so a keyword inside a string or a
//! comment is never taken, and comments on the way are still recorded.

use super::Ctx;
use super::error::token_len;
use super::lexical::word_len;

impl<'a> Ctx<'a> {
    /// The input from the first line-leading (or closer-led) `rule`/`list`
    /// after `start` and at or after byte offset `error_at`; empty when there
    /// is none.
    pub(super) fn resume(&self, start: &'a str, error_at: usize) -> &'a str {
        let start_at = self.offset(start);
        let mut rest = start;
        let mut line_first = false;
        let mut after_close = false;
        loop {
            let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            line_first |= rest[..rest.len() - trimmed.len()].contains('\n');
            rest = trimmed;
            let Some(first) = rest.chars().next() else {
                return rest;
            };
            if first == '#' {
                rest = self.comment(rest);
                continue;
            }
            let at = self.offset(rest);
            if (line_first || after_close) && at > start_at && at >= error_at && starts_item(rest) {
                return rest;
            }
            rest = rest
                .get(token_len(rest).max(first.len_utf8())..)
                .unwrap_or("");
            line_first = false;
            after_close = first == '}' || first == ']';
        }
    }
}

/// `rule` or `list` as a whole word that does not start a field path.
fn starts_item(rest: &str) -> bool {
    let len = word_len(rest);
    let word = rest.get(..len).unwrap_or("");
    (word == "rule" || word == "list") && !rest[len..].starts_with('.')
}
