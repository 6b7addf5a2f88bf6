//! The reference semantics: evaluates checked rules over JSON events. Every
//! target is tested against this module. `engine` runs a pack over JSON
//! lines (the `eval` command); `testrun` runs the rules' `test` blocks.

pub mod cidr;
pub mod engine;
pub mod event;
pub mod events_file;
pub mod first_seen;
pub mod fold;
mod fold_table;
pub mod glob;
pub mod input;
pub mod limits;
pub mod ordered;
pub mod predicate;
mod reach;
pub mod sequence;
pub mod shared;
pub mod threshold;
pub mod timestamp;
pub mod value;

pub use engine::{
    CompileError, CompiledRule, Engine, LineReport, Matcher, Output, Prepared, Routing, Scratch,
};
pub use limits::{Lateness, Limits};
pub use threshold::Alert;
pub mod report;
pub mod testrun;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) use tests::kit as tests_kit;
