//! Importing rules written for other tools. Each importer reads its format
//! into tripline syntax trees, prints them with `fmt` and checks them, so
//! every file it writes is canonical and checks; what a rule says that
//! tripline cannot say exactly is refused per rule, with its position.

pub mod sigma;
