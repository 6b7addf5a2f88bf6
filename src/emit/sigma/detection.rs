//! A rule's `where` as a Sigma `detection`: named selections (maps whose
//! items all hold) and a condition over them. Every predicate becomes one
//! or more detection items; the positive items of an `and` share a map
//! while their keys differ; a selection under `not` is a `filter`.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

use super::regex;
use super::values::{exact_int, literal};
use crate::diag::Diagnostic;
use crate::emit::{Input, common};
use crate::ir::{self, Condition, Literal, Operation, Ordering, TextOp};

/// One value of a detection item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Already in Sigma's spelling (wildcards escaped where literal).
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
}

/// `key: value` or `key: [values]` (any of them) inside a selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The field and its modifiers, `src_ip|cidr`.
    pub key: String,
    pub values: Vec<Scalar>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    pub name: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub selections: Vec<Selection>,
    pub condition: String,
}

/// The condition before selections are named.
enum Node {
    /// Items that must all hold.
    Items(Vec<Item>),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// The condition over numbered selections.
enum Expr {
    Sel(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// The detection of `condition` (the rule's `where`, possibly with more),
/// or a refusal for every construct Sigma cannot express exactly.
pub fn detection(
    input: &Input,
    rule: &ir::Rule,
    condition: &Condition,
) -> Result<Detection, Vec<Diagnostic>> {
    let mut writer = Writer {
        input,
        rule,
        refusals: Vec::new(),
    };
    let node = writer.node(condition);
    if !writer.refusals.is_empty() {
        return Err(writer.refusals);
    }
    let mut bodies: Vec<(bool, Vec<Item>)> = Vec::new();
    let expr = allocate(node, false, &mut bodies);
    let names = names(&bodies);
    let condition = render(&expr, &names);
    let selections = bodies
        .into_iter()
        .zip(names)
        .map(|((_, items), name)| Selection { name, items })
        .collect();
    Ok(Detection {
        selections,
        condition,
    })
}

struct Writer<'a> {
    input: &'a Input<'a>,
    rule: &'a ir::Rule,
    refusals: Vec<Diagnostic>,
}

impl Writer<'_> {
    fn node(&mut self, condition: &Condition) -> Node {
        match condition {
            Condition::And(parts) => {
                let mut merged: Vec<Item> = Vec::new();
                let mut others = Vec::new();
                let mut items_at = None;
                // An `exists()` is an `and` of its own: its parts join
                // this one, so its positive item shares the selection.
                let nodes = parts.iter().flat_map(|part| match self.node(part) {
                    Node::And(inner) => inner,
                    other => vec![other],
                });
                for node in nodes.collect::<Vec<_>>() {
                    match node {
                        Node::Items(items) => {
                            items_at.get_or_insert(others.len());
                            merged.extend(items);
                        }
                        other => others.push(other),
                    }
                }
                if let Some(at) = items_at {
                    others.insert(at, Node::Items(merged));
                }
                single_or(others, Node::And)
            }
            Condition::Or(parts) => Node::Or(parts.iter().map(|p| self.node(p)).collect()),
            Condition::Not(inner) => match &**inner {
                Condition::Not(twice) => self.node(twice),
                inner => Node::Not(Box::new(self.node(inner))),
            },
            Condition::Exists(field) => {
                let name = self.field(field);
                Node::And(vec![
                    Node::Items(vec![item(
                        format!("{name}|exists"),
                        vec![Scalar::Bool(true)],
                    )]),
                    Node::Not(Box::new(Node::Items(vec![item(
                        name,
                        vec![Scalar::Str(String::new()), Scalar::Null],
                    )]))),
                ])
            }
            Condition::Predicate(predicate) => {
                let name = self.field(&predicate.field);
                match self.items(&name, predicate) {
                    Ok(items) => Node::Items(items),
                    Err(refusal) => {
                        self.refusals.push(*refusal);
                        Node::Items(Vec::new())
                    }
                }
            }
        }
    }

    fn field(&mut self, field: &ir::Field) -> String {
        match common::mapped_field(self.input, "sigma", self.rule, field) {
            Ok(name) if name.contains('|') => {
                self.refusals.push(common::refusal(
                    "sigma",
                    self.rule,
                    field.span,
                    &format!("the field name `{name}` (`|` separates Sigma modifiers)"),
                    "map the field to a name without `|`",
                ));
                String::new()
            }
            Ok(name) => name.to_string(),
            Err(refusal) => {
                self.refusals.push(refusal);
                String::new()
            }
        }
    }

    fn refuse(&self, predicate: &ir::Predicate, construct: &str, help: &str) -> Box<Diagnostic> {
        Box::new(common::refusal(
            "sigma",
            self.rule,
            predicate.span,
            construct,
            help,
        ))
    }

    fn int(&self, predicate: &ir::Predicate, n: i64) -> Result<Scalar, Box<Diagnostic>> {
        if exact_int(n) {
            Ok(Scalar::Int(n))
        } else {
            Err(self.refuse(
                predicate,
                &format!("the integer {n} (beyond 2^53)"),
                "pySigma reads numbers through a float and would change this one",
            ))
        }
    }

    fn items(&self, f: &str, predicate: &ir::Predicate) -> Result<Vec<Item>, Box<Diagnostic>> {
        let empty = match &predicate.operation {
            Operation::Equals { values, .. } => values.is_empty(),
            Operation::Text { values, .. } => values.is_empty(),
            Operation::Cidr { blocks, .. } => blocks.is_empty(),
            Operation::Compare { .. } | Operation::Regex { .. } => false,
        };
        if empty {
            // `f:` without values is `f: null` in YAML: "f is null" for
            // pySigma, or an error under a modifier.
            return Err(self.refuse(
                predicate,
                "a predicate over an empty list",
                "Sigma has no empty value list; give the list elements or drop the predicate \
                 (an empty `in` holds for no event, an empty `all` for every value)",
            ));
        }
        if predicate.length {
            return Err(self.refuse(
                predicate,
                "the length of a value (`len()`)",
                "Sigma has no modifier for a value's length, and a regex counting characters \
                 (`^.{61,}`) counts what each backend's regex engine counts (UTF-8 bytes or \
                 characters)",
            ));
        }
        let mut items = self.items_of(f, predicate)?;
        if predicate.field.cased {
            items.iter_mut().for_each(cased);
        }
        let nul = items
            .iter()
            .flat_map(|i| &i.values)
            .any(|v| matches!(v, Scalar::Str(s) if s.contains('\0')));
        if nul {
            return Err(self.refuse(
                predicate,
                "a value holding NUL (`\\u{0}`)",
                "backends write values into query text (SQL, SPL), where NUL cannot stand; \
                 drop the character",
            ));
        }
        Ok(items)
    }

    fn items_of(&self, f: &str, predicate: &ir::Predicate) -> Result<Vec<Item>, Box<Diagnostic>> {
        Ok(match &predicate.operation {
            Operation::Equals { values, .. } => {
                let values = values
                    .iter()
                    .map(|v| match v {
                        Literal::String(s) => Ok(Scalar::Str(literal(s))),
                        Literal::Int(n) => self.int(predicate, *n),
                    })
                    .collect::<Result<_, _>>()?;
                vec![item(f.to_string(), values)]
            }
            Operation::Compare { op, value } => {
                let modifier = match op {
                    Ordering::Lt => "lt",
                    Ordering::Le => "lte",
                    Ordering::Gt => "gt",
                    Ordering::Ge => "gte",
                };
                vec![item(
                    format!("{f}|{modifier}"),
                    vec![self.int(predicate, *value)?],
                )]
            }
            Operation::Text {
                op, values, all, ..
            } => self.text(f, predicate, *op, values, *all)?,
            Operation::Regex {
                pattern,
                case_insensitive,
            } => {
                let rewritten = regex::rewrite(pattern, *case_insensitive)
                    .map_err(|err| self.refuse(predicate, err.construct, err.help))?;
                vec![item(format!("{f}|re"), vec![Scalar::Str(rewritten)])]
            }
            Operation::Cidr { blocks, .. } => vec![item(format!("{f}|cidr"), cidr_values(blocks))],
        })
    }

    fn text(
        &self,
        f: &str,
        predicate: &ir::Predicate,
        op: TextOp,
        values: &[String],
        all: bool,
    ) -> Result<Vec<Item>, Box<Diagnostic>> {
        let mut values: Vec<String> = values.to_vec();
        values.dedup();
        let modifier = match op {
            TextOp::Contains => "|contains",
            TextOp::StartsWith => "|startswith",
            TextOp::EndsWith => "|endswith",
            TextOp::Like => "",
        };
        if !all || values.len() == 1 {
            let spell = |v: &String| match op {
                TextOp::Like => Scalar::Str(v.clone()),
                _ => Scalar::Str(literal(v)),
            };
            return Ok(vec![item(
                format!("{f}{modifier}"),
                values.iter().map(spell).collect(),
            )]);
        }
        match op {
            TextOp::Contains => Ok(vec![contains_all(f, &values)]),
            TextOp::StartsWith | TextOp::EndsWith => {
                let longest = nested_affix(&values, op == TextOp::StartsWith).ok_or_else(|| {
                    self.refuse(
                        predicate,
                        &format!("`{} all` over values that are not {} of one another", op_word(op), if op == TextOp::StartsWith { "prefixes" } else { "suffixes" }),
                        "Sigma allows `|all` only with `|contains`; tripline writes such a list as its longest value, which needs ASCII values nested in one another",
                    )
                })?;
                Ok(vec![item(
                    format!("{f}{modifier}"),
                    vec![Scalar::Str(literal(&longest))],
                )])
            }
            TextOp::Like => {
                let inner: Option<Vec<String>> = values.iter().map(|g| contains_glob(g)).collect();
                let inner = inner.ok_or_else(|| {
                    self.refuse(
                        predicate,
                        "`like all` over globs other than `*text*`",
                        "Sigma allows `|all` only with `|contains`: write the globs as `*text*`, or split the rule",
                    )
                })?;
                Ok(vec![contains_all(f, &inner)])
            }
        }
    }
}

/// `|cased` (Sigma 2's case-sensitive match) right after the value
/// modifier it applies to, before a list's `|all`; integer values become
/// their text (the modifier takes strings, and `cased` compares text).
fn cased(item: &mut Item) {
    item.key = match item.key.strip_suffix("|all") {
        Some(key) => format!("{key}|cased|all"),
        None => format!("{}|cased", item.key),
    };
    for value in &mut item.values {
        if let Scalar::Int(n) = value {
            *value = Scalar::Str(n.to_string());
        }
    }
}

fn op_word(op: TextOp) -> &'static str {
    match op {
        TextOp::Contains => "contains",
        TextOp::StartsWith => "startswith",
        TextOp::EndsWith => "endswith",
        TextOp::Like => "like",
    }
}

fn item(key: String, values: Vec<Scalar>) -> Item {
    Item { key, values }
}

fn contains_all(f: &str, needles: &[String]) -> Item {
    let key = if needles.len() == 1 {
        format!("{f}|contains")
    } else {
        format!("{f}|contains|all")
    };
    item(
        key,
        needles.iter().map(|n| Scalar::Str(literal(n))).collect(),
    )
}

/// For `startswith all` (`prefix`) or `endswith all`: one value can start
/// with all of them only when they nest, and then it is the longest. Only
/// ASCII values are compared, where ignoring case is unambiguous.
fn nested_affix(values: &[String], prefix: bool) -> Option<String> {
    if !values.iter().all(|v| v.is_ascii()) {
        return None;
    }
    let longest = values.iter().max_by_key(|v| v.len())?;
    let folded = longest.to_ascii_lowercase();
    values
        .iter()
        .all(|v| {
            let v = v.to_ascii_lowercase();
            if prefix {
                folded.starts_with(&v)
            } else {
                folded.ends_with(&v)
            }
        })
        .then(|| longest.clone())
}

/// The text of a `*text*` glob whose text has no wildcard.
fn contains_glob(glob: &str) -> Option<String> {
    use common::GlobPiece;
    match common::glob_pieces(glob).as_slice() {
        [
            GlobPiece::AnyRun,
            GlobPiece::Literal(text),
            GlobPiece::AnyRun,
        ] => Some(text.clone()),
        _ => None,
    }
}

/// The canonical blocks, then for each IPv4 block its IPv4-mapped IPv6
/// twin, since tripline tests `::ffff:a.b.c.d` against the IPv4 blocks.
fn cidr_values(blocks: &[ir::IpBlock]) -> Vec<Scalar> {
    let mut values: Vec<String> = blocks.iter().map(ToString::to_string).collect();
    for block in blocks {
        if let std::net::IpAddr::V4(v4) = block.network {
            values.push(format!("::ffff:{v4}/{}", 96 + u32::from(block.prefix)));
        }
    }
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
    values.into_iter().map(Scalar::Str).collect()
}

fn single_or(mut nodes: Vec<Node>, wrap: fn(Vec<Node>) -> Node) -> Node {
    if nodes.len() == 1 {
        nodes.remove(0)
    } else {
        wrap(nodes)
    }
}

/// Numbers the selections: one per run of items with distinct keys.
fn allocate(node: Node, negated: bool, bodies: &mut Vec<(bool, Vec<Item>)>) -> Expr {
    match node {
        Node::Items(items) => {
            let mut exprs: Vec<Expr> = distinct_key_runs(items, |i| &i.key)
                .into_iter()
                .map(|group| {
                    bodies.push((negated, group));
                    Expr::Sel(bodies.len() - 1)
                })
                .collect();
            if exprs.len() == 1 {
                exprs.remove(0)
            } else {
                Expr::And(exprs)
            }
        }
        Node::Not(inner) => Expr::Not(Box::new(allocate(*inner, true, bodies))),
        Node::And(parts) => {
            let mut flat = Vec::new();
            for part in parts {
                match allocate(part, false, bodies) {
                    Expr::And(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            Expr::And(flat)
        }
        Node::Or(parts) => {
            let mut flat = Vec::new();
            for part in parts {
                match allocate(part, false, bodies) {
                    Expr::Or(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            Expr::Or(flat)
        }
    }
}

/// Splits `items` into runs whose keys differ, first fit: an item joins the
/// first run without its key. The runs before the one holding a key's n-th
/// item hold its n - 1 earlier ones, so a count per key places each item
/// (scanning the runs was quadratic in an `and` of one field).
fn distinct_key_runs<T, K: Eq + Hash>(items: Vec<T>, key: impl Fn(&T) -> &K) -> Vec<Vec<T>> {
    let mut seen: HashMap<&K, usize> = HashMap::new();
    let places: Vec<usize> = items
        .iter()
        .map(|item| {
            let count = seen.entry(key(item)).or_insert(0);
            *count += 1;
            *count - 1
        })
        .collect();
    let mut runs: Vec<Vec<T>> = Vec::new();
    for (item, place) in items.into_iter().zip(places) {
        match runs.get_mut(place) {
            Some(run) => run.push(item),
            None => runs.push(vec![item]),
        }
    }
    runs
}

/// `selection` and `filter` when there is one of a kind, else numbered.
fn names(bodies: &[(bool, Vec<Item>)]) -> Vec<String> {
    let filters = bodies.iter().filter(|(negated, _)| *negated).count();
    let selections = bodies.len() - filters;
    let (mut nth_filter, mut nth_selection) = (0, 0);
    bodies
        .iter()
        .map(|(negated, _)| {
            let (base, total, nth) = if *negated {
                ("filter", filters, &mut nth_filter)
            } else {
                ("selection", selections, &mut nth_selection)
            };
            *nth += 1;
            if total == 1 {
                base.to_string()
            } else {
                format!("{base}_{nth}")
            }
        })
        .collect()
}

fn render(expr: &Expr, names: &[String]) -> String {
    match expr {
        Expr::Sel(i) => names.get(*i).cloned().unwrap_or_default(),
        Expr::Not(inner) => format!("not {}", atom(inner, names)),
        Expr::And(parts) => parts
            .iter()
            .map(|p| match p {
                Expr::Or(_) => atom(p, names),
                _ => render(p, names),
            })
            .collect::<Vec<_>>()
            .join(" and "),
        Expr::Or(parts) => parts
            .iter()
            .map(|p| render(p, names))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn atom(expr: &Expr, names: &[String]) -> String {
    match expr {
        Expr::And(_) | Expr::Or(_) => format!("({})", render(expr, names)),
        _ => render(expr, names),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::hash::{Hash, Hasher};

    use super::{Scalar, cased, distinct_key_runs, item};

    thread_local! {
        static KEY_WORK: Cell<usize> = const { Cell::new(0) };
    }

    /// A key that counts the comparisons and hashes made of it.
    #[derive(Debug)]
    struct Counted(u32);

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            KEY_WORK.set(KEY_WORK.get() + 1);
            self.0 == other.0
        }
    }

    impl Eq for Counted {}

    impl Hash for Counted {
        fn hash<H: Hasher>(&self, state: &mut H) {
            KEY_WORK.set(KEY_WORK.get() + 1);
            self.0.hash(state);
        }
    }

    /// The runs as first fit defines them, by scanning.
    fn first_fit(keys: &[u32]) -> Vec<Vec<u32>> {
        let mut runs: Vec<Vec<u32>> = Vec::new();
        for &k in keys {
            match runs.iter_mut().find(|run| !run.contains(&k)) {
                Some(run) => run.push(k),
                None => runs.push(vec![k]),
            }
        }
        runs
    }

    fn runs_of(keys: &[u32]) -> Vec<Vec<u32>> {
        let items = keys.iter().map(|&k| Counted(k)).collect();
        distinct_key_runs(items, |c| c)
            .into_iter()
            .map(|run| run.into_iter().map(|c| c.0).collect())
            .collect()
    }

    #[test]
    fn runs_are_first_fit() {
        for keys in [
            vec![],
            vec![1],
            vec![1, 2, 3],
            vec![1, 1, 1],
            vec![1, 2, 1, 3, 2, 1, 4],
            vec![5, 5, 6, 7, 6, 5, 5, 8],
        ] {
            assert_eq!(runs_of(&keys), first_fit(&keys), "{keys:?}");
        }
    }

    /// An `and` of 40,000 predicates on one field is 40,000 runs of one
    /// item: finding an item's run must not look at every run before it.
    #[test]
    fn one_key_repeated_costs_linear_work() {
        let keys = vec![7; 40_000];
        KEY_WORK.set(0);
        let runs = runs_of(&keys);
        assert_eq!(runs.len(), 40_000);
        let work = KEY_WORK.get();
        assert!(
            work <= 4 * keys.len(),
            "{work} key operations for {} items",
            keys.len()
        );
    }

    #[test]
    fn cased_follows_the_value_modifier_and_precedes_all() {
        let mut list = item(
            "query|contains|all".to_string(),
            vec![Scalar::Str("A".into()), Scalar::Str("b".into())],
        );
        cased(&mut list);
        assert_eq!(list.key, "query|contains|cased|all");
        let mut plain = item("query".to_string(), vec![Scalar::Int(443)]);
        cased(&mut plain);
        assert_eq!(plain.key, "query|cased");
        assert_eq!(plain.values, [Scalar::Str("443".into())]);
    }
}
