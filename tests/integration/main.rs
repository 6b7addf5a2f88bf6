//! The one integration-test binary: each module covers one area end to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a broken fixture should fail the test loudly"
)]

mod check;
mod cli;
mod cli_help;
mod coverage;
mod docs_examples;
mod eval;
mod eval_threads;
mod fixes;
mod fmt;
mod hostile;
mod hostile_io;
mod import;
mod inputs;
mod kql;
mod lsp;
mod packs;
mod parse;
mod published;
mod runbook;
mod sigma;
mod splunk;
mod sql;
mod support;
mod taxonomy;
mod test_cmd;
mod test_explain;
mod version2;
