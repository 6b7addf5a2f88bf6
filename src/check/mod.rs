//! Syntax tree to IR: resolves names (sources, fields, lists, techniques),
//! checks types and values, and reports every problem it finds in one run.
pub mod attack;
pub mod regex;
pub mod taxonomy;
pub mod values;
