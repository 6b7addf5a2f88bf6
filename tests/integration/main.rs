//! The one integration-test binary: each module covers one area end to end.

mod check;
mod cli;
mod eval;
mod fmt;
mod parse;
mod test_cmd;
