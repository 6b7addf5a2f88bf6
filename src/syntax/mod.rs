//! Source text to syntax tree: the lexer-level helpers and the nom parser.
//! `parse` never panics and always returns a tree (with `Item::Broken` where
//! an item failed) plus the syntax diagnostics.

pub mod ast;
mod parser;
pub mod span;

pub(crate) use parser::duration_seconds;
pub use parser::{ALERT_LINES, KEYWORDS, STATEMENTS, parse};

pub use span::{Span, Spanned};
