//! Unit tests of the semantics, on `ir` values built by hand (`kit`).

mod cohort;
pub(crate) mod kit;
mod limits;
mod ordered;
mod predicates;
mod reach;
mod reader;
mod routing;
mod sequence_model;
mod shared;
mod testrun;
mod threshold;
mod version2;
