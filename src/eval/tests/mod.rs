//! Unit tests of the semantics, on `ir` values built by hand (`kit`).

pub(crate) mod kit;
mod limits;
mod predicates;
mod reader;
mod routing;
mod testrun;
mod threshold;
mod version2;
