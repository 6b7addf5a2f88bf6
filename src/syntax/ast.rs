//! The syntax tree of one `.trip` file, as written: every node keeps its span,
//! statements keep their order, and nothing is resolved or validated beyond
//! what the grammar itself decides. The checker turns this into `ir`; `fmt`
//! prints it back (taking each literal's spelling from the source by span).

use super::span::{Span, Spanned};

/// One parsed file: its items in written order and every comment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
    /// `# ...` comments, in source order (span covers `#` to end of line, no LF).
    pub comments: Vec<Spanned<String>>,
    /// Values the parser made up (0) where a duration or integer was
    /// malformed; the item is still checked, and the checker drops what it
    /// would report about them.
    pub made_up: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    List(ListDecl),
    Rule(RuleDecl),
    /// An item that failed to parse. Its name is kept (when it was read) so
    /// that the checker knows it exists and reports nothing that follows from
    /// its absence (an unknown `@list`, a missing rule).
    Broken {
        kind: ItemKind,
        name: Option<Ident>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    List,
    Rule,
}

/// An identifier or bare word as written (`dns_zone_transfer`, `stable`).
pub type Ident = Spanned<String>;

/// `list NAME [: TYPE] = [ELEMENTS]`
#[derive(Debug, Clone)]
pub struct ListDecl {
    pub name: Ident,
    /// The word after `:` (`string`, `cidr`, `int`, or anything: the checker decides).
    pub ty: Option<Ident>,
    pub elements: Spanned<Vec<Spanned<Literal>>>,
    /// From the `list` keyword to the closing `]`.
    pub span: Span,
}

/// `rule NAME { STATEMENTS }`
#[derive(Debug, Clone)]
pub struct RuleDecl {
    pub name: Ident,
    pub statements: Vec<Statement>,
    /// From the `rule` keyword to the closing `}`.
    pub span: Span,
}

/// One statement of a rule. `keyword` is the statement's name as written
/// (`title`, `where`, ...); `span` runs from it to the end of the value.
#[derive(Debug, Clone)]
pub struct Statement {
    pub keyword: Ident,
    pub value: StatementValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementValue {
    /// `title`, `id`, `author`, `date`, `modified`, `version`, `description`.
    Text(Spanned<StringLit>),
    /// `status`, `level`, `from`: a bare word, or (an error the checker
    /// reports with the allowed words) a quoted one.
    Word(Spanned<Word>),
    /// `from a, b`: two or more sources (one is a `Word`).
    Words(Vec<Spanned<Word>>),
    /// `attack T1590.002` or `attack [T1590, T1589]`.
    Techniques(Spanned<Vec<Spanned<String>>>),
    /// `references`, `falsepositives`, `tags`.
    Texts(Spanned<Vec<Spanned<StringLit>>>),
    /// `every`, `lookback`, `delay`.
    Duration(Spanned<Duration>),
    Where(Spanned<Expr>),
    Threshold(Threshold),
    /// `sequence [by F, ...] within D { ... }`.
    Sequence(Sequence),
    /// `first seen F, ... in D` (the statement's keyword is `first`).
    FirstSeen(FirstSeen),
    Playbook(Spanned<Vec<PlaybookLine>>),
    /// `alert { ... }` (span: `{` to `}`).
    Alert(Spanned<Vec<AlertLine>>),
    Test(TestBlock),
}

/// An enum value of `status`, `level` or `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    Bare(String),
    Quoted(String),
}

/// A string literal's value (escapes resolved). `raw` is true for `r"..."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    pub value: String,
    pub raw: bool,
}

/// A duration in seconds, as written with one unit (`30s`, `10m`, `1h`, `2d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub seconds: u64,
}

/// A literal that stands for a value in an expression or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    String(StringLit),
    Int(i64),
}

/// Expressions of `where`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    And(Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    Not(Box<Spanned<Expr>>),
    /// `( expr )`, kept so `fmt` can print what was written.
    Group(Box<Spanned<Expr>>),
    /// `exists(field)`
    Exists(Spanned<FieldPath>),
    Predicate(Predicate),
}

/// A dotted field path as written (`source.ip`, `@timestamp`, `event.action`).
pub type FieldPath = String;

/// `field [cased] OP operand`
#[derive(Debug, Clone)]
pub struct Predicate {
    pub field: Spanned<FieldPath>,
    /// `len(field)`: the span from `len` to `)`; the predicate compares
    /// the length of the field's value.
    pub len: Option<Span>,
    /// `cased` before the operator: the string comparison is exact in case.
    pub cased: Option<Span>,
    pub op: Spanned<Operator>,
    pub operand: Operand,
}

/// A `by` or `distinct` field, `cased` when written `cased f` (grouped and
/// counted by its exact text).
#[derive(Debug, Clone)]
pub struct Grouping {
    pub cased: Option<Span>,
    pub field: Spanned<FieldPath>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    InCidr,
    NotInCidr,
    /// `contains`, or `contains all` when `all` is true; likewise below.
    Contains {
        all: bool,
    },
    StartsWith {
        all: bool,
    },
    EndsWith {
        all: bool,
    },
    Like {
        all: bool,
    },
    Matches,
}

impl Operator {
    /// The operator as written (`not in cidr`, `contains all`).
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "in",
            Operator::NotIn => "not in",
            Operator::InCidr => "in cidr",
            Operator::NotInCidr => "not in cidr",
            Operator::Contains { all: false } => "contains",
            Operator::Contains { all: true } => "contains all",
            Operator::StartsWith { all: false } => "startswith",
            Operator::StartsWith { all: true } => "startswith all",
            Operator::EndsWith { all: false } => "endswith",
            Operator::EndsWith { all: true } => "endswith all",
            Operator::Like { all: false } => "like",
            Operator::Like { all: true } => "like all",
            Operator::Matches => "matches",
        }
    }
}

/// The right-hand side of a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Spanned<Literal>),
    /// `[a, b, c]` (span covers the brackets).
    List(Spanned<Vec<Spanned<Literal>>>),
    /// `@name` (span covers the `@`; the node is the name without it).
    ListRef(Spanned<String>),
}

/// `threshold AGG [by F, ...] over DURATION [step DURATION] CMP INT` (version
/// 1) or `threshold [by F, ...] over DURATION [step DURATION] having COND`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub by: Vec<Grouping>,
    pub over: Spanned<Duration>,
    /// `step H`: hopping windows.
    pub step: Option<Spanned<Duration>>,
    /// The condition; the version 1 form is one `Compare`.
    pub having: Spanned<Having>,
}

/// `sequence [by F, ...] within D { [N] where EXPR then [N] where EXPR ... }`.
#[derive(Debug, Clone)]
pub struct Sequence {
    pub by: Vec<Grouping>,
    pub within: Spanned<Duration>,
    /// In written order; the parser reads at least one.
    pub steps: Vec<SequenceStep>,
    /// From `{` to `}`.
    pub block: Span,
}

/// `[N] where EXPR`, after `then` from the second step on.
#[derive(Debug, Clone)]
pub struct SequenceStep {
    /// N as written (absent: 1).
    pub count: Option<Spanned<i64>>,
    pub condition: Spanned<Expr>,
    /// From `then` (or N, or `where`) to the end of the condition.
    pub span: Span,
}

impl PartialEq for Sequence {
    fn eq(&self, other: &Self) -> bool {
        self.by == other.by && self.within == other.within && self.steps == other.steps
    }
}

impl PartialEq for FirstSeen {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields && self.horizon == other.horizon
    }
}

impl PartialEq for SequenceStep {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count && self.condition == other.condition
    }
}

/// `first seen F, ... in D`.
#[derive(Debug, Clone)]
pub struct FirstSeen {
    /// The words `first` and `seen`.
    pub first: Span,
    pub seen: Span,
    pub fields: Vec<Grouping>,
    pub horizon: Spanned<Duration>,
}

/// A condition over aggregates, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Having {
    Or(Box<Spanned<Having>>, Box<Spanned<Having>>),
    And(Box<Spanned<Having>>, Box<Spanned<Having>>),
    Not(Box<Spanned<Having>>),
    /// `( cond )`
    Group(Box<Spanned<Having>>),
    /// `AGG op INT`
    Compare {
        aggregate: Spanned<Aggregate>,
        comparison: Spanned<Comparison>,
        value: Spanned<i64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Aggregate {
    Count,
    Distinct(Grouping),
    Sum(Spanned<FieldPath>),
    Min(Spanned<FieldPath>),
    Max(Spanned<FieldPath>),
}

impl Aggregate {
    /// The function's name (`count`, `distinct`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Aggregate::Count => "count",
            Aggregate::Distinct(_) => "distinct",
            Aggregate::Sum(_) => "sum",
            Aggregate::Min(_) => "min",
            Aggregate::Max(_) => "max",
        }
    }

    /// The field it reads, if any.
    pub fn field(&self) -> Option<&Spanned<FieldPath>> {
        match self {
            Aggregate::Count => None,
            Aggregate::Distinct(g) => Some(&g.field),
            Aggregate::Sum(f) | Aggregate::Min(f) | Aggregate::Max(f) => Some(f),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Ge,
    Eq,
    Lt,
    Le,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::Eq => "==",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
        }
    }
}

/// `key "text"` inside `playbook { }`; the checker validates the key.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookLine {
    pub key: Ident,
    pub text: Spanned<StringLit>,
}

/// One line of `alert { }`: its keyword (`title`, `risk`, `threat`,
/// `fields`, `notable`) and value; `span` runs from the keyword to the end
/// of the value.
#[derive(Debug, Clone)]
pub struct AlertLine {
    pub keyword: Ident,
    pub value: AlertValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlertValue {
    /// `title "text with {field} tokens"`
    Title(Spanned<StringLit>),
    /// `risk FIELD TYPE SCORE` (the checker validates the type and score).
    Risk {
        field: Spanned<FieldPath>,
        kind: Ident,
        score: Spanned<i64>,
    },
    /// `threat FIELD TYPE`
    Threat {
        field: Spanned<FieldPath>,
        kind: Ident,
    },
    /// `fields [f, ...]`
    Fields(Spanned<Vec<Spanned<FieldPath>>>),
    /// `notable`, `notable true` or `notable false` (the word, when written).
    Notable(Option<Ident>),
}

impl PartialEq for AlertLine {
    fn eq(&self, other: &Self) -> bool {
        self.keyword == other.keyword && self.value == other.value
    }
}

/// `test "NAME" { ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct TestBlock {
    pub name: Spanned<StringLit>,
    pub body: Vec<TestItem>,
}

#[derive(Debug, Clone)]
pub enum TestItem {
    /// `event { ... }` (span: `event` to `}`).
    Event(Spanned<EventLit>),
    /// `repeat N every D { ... }` (span: `repeat` to `}`).
    Repeat {
        count: Spanned<i64>,
        every: Spanned<Duration>,
        event: Spanned<EventLit>,
        span: Span,
    },
    /// `events "path"` (the path's span covers its quotes).
    Events(Spanned<StringLit>),
    Expect(Spanned<Expectation>),
}

/// The fields of one test event, in written order.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLit {
    pub fields: Vec<EventField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventField {
    /// A field path or a quoted string, as a path (`"a.b"` and `a.b` agree).
    pub key: Spanned<String>,
    pub value: Spanned<Value>,
}

/// A value in a test event, in tripline's literal syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(StringLit),
    Int(i64),
    Bool(bool),
    Null,
    Array(Vec<Spanned<Value>>),
    Object(Vec<EventField>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    Match,
    NoMatch,
    /// `expect alert N`
    AlertCount(Spanned<i64>),
    /// `expect alert { field: value, ... }`
    Alert(Vec<EventField>),
}

// Trees compare by meaning: like `Spanned`, the extents below are left out.

impl PartialEq for ListDecl {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ty == other.ty && self.elements == other.elements
    }
}

impl PartialEq for RuleDecl {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.statements == other.statements
    }
}

impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        self.keyword == other.keyword && self.value == other.value
    }
}

impl PartialEq for Predicate {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field
            && self.len.is_some() == other.len.is_some()
            && self.cased.is_some() == other.cased.is_some()
            && self.op == other.op
            && self.operand == other.operand
    }
}

impl PartialEq for Grouping {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field && self.cased.is_some() == other.cased.is_some()
    }
}

impl PartialEq for TestItem {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TestItem::Event(a), TestItem::Event(b)) => a == b,
            (
                TestItem::Repeat {
                    count,
                    every,
                    event,
                    ..
                },
                TestItem::Repeat {
                    count: other_count,
                    every: other_every,
                    event: other_event,
                    ..
                },
            ) => count == other_count && every == other_every && event == other_event,
            (TestItem::Events(a), TestItem::Events(b)) => a == b,
            (TestItem::Expect(a), TestItem::Expect(b)) => a == b,
            _ => false,
        }
    }
}
