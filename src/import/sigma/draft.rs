//! What an imported rule says, before it becomes a syntax tree: plain data
//! that `print` lays out as a `.trip` rule.

use super::cond::Cond;
use crate::syntax::ast::Comparison;

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: String,
    pub title: String,
    pub id: String,
    pub status: Option<String>,
    pub level: String,
    pub techniques: Vec<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub description: String,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub tags: Vec<String>,
    pub source: String,
    pub condition: Option<Cond>,
    pub threshold: Option<ThresholdDraft>,
    pub sequence: Option<SequenceDraft>,
    pub alert: Vec<AlertDraft>,
    /// `(section, text)` in written order.
    pub playbook: Vec<(String, String)>,
    pub tests: Vec<TestDraft>,
    /// What was left out that does not change what the rule detects (a
    /// `fields` name the mapping lacks).
    pub notes: Vec<super::refusal::Refusal>,
}

#[derive(Debug, Clone)]
pub struct ThresholdDraft {
    pub by: Vec<String>,
    /// `distinct(f)`; `count()` when `None`.
    pub distinct: Option<String>,
    pub seconds: u64,
    pub comparison: Comparison,
    pub value: i64,
}

/// A sequence's grouping and `within`, from a correlation.
#[derive(Debug, Clone)]
pub struct SequenceFrame {
    pub by: Vec<String>,
    pub seconds: u64,
}

/// `sequence by ... within ... { where ... then where ... }`: one step per
/// correlated rule, in its order.
#[derive(Debug, Clone)]
pub struct SequenceDraft {
    pub frame: SequenceFrame,
    pub steps: Vec<Cond>,
}

/// One line of an `alert { }` block.
#[derive(Debug, Clone)]
pub enum AlertDraft {
    Title(String),
    Risk {
        field: String,
        kind: String,
        score: i64,
    },
    Threat {
        field: String,
        kind: String,
    },
    Fields(Vec<String>),
    Notable(bool),
}

/// `test "NAME" { event { ... } ... expect match }`: recorded events the
/// rule must match.
#[derive(Debug, Clone)]
pub struct TestDraft {
    pub name: String,
    /// Each event's taxonomy fields and values, in order.
    pub events: Vec<Vec<(String, TestValue)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestValue {
    Text(String),
    Int(i64),
}
