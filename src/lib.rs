//! tripline: a detection-rule compiler. Source text flows one way:
//! `syntax` (parse, with spans) → `check` (names, types, taxonomy, ATT&CK)
//! → `ir` → `eval` (the reference semantics) or the target emitters.
#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod coverage;
pub mod diag;
pub mod emit;
pub mod eval;
pub mod fmt;
pub mod import;
pub mod ir;
pub mod lsp;
pub mod pack;
pub mod source;
pub mod syntax;
pub mod xml;
pub mod yaml;
