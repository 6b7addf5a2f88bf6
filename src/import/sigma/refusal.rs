//! A Sigma rule, or one construct of it, that tripline does not carry:
//! where it was written and what it is, as data (the CLI renders it).

use super::yaml::Pos;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Where the construct is written in the Sigma file.
    pub pos: Pos,
    /// The construct, in Sigma's words (`|expand`, `keywords`, `field: null`).
    pub construct: String,
    /// Why tripline does not carry it, and what to do.
    pub reason: String,
}

impl Refusal {
    pub fn new(pos: Pos, construct: impl Into<String>, reason: impl Into<String>) -> Refusal {
        Refusal {
            pos,
            construct: construct.into(),
            reason: reason.into(),
        }
    }
}

/// What the steps of an import return: refusals carry a position.
pub type Result<T> = std::result::Result<T, Refusal>;
