//! Sigma files as YAML trees that remember where each node was written.
//! serde_yaml (the project's YAML crate) gives no positions, so this reads
//! the event stream of `saphyr-parser` (spans on every event) into a small
//! tree. Hostile input is bounded here: aliases and tags are refused (no
//! billion laughs, no retyping), keys must be plain scalars and unique,
//! nesting and node counts are capped. Scalars stay text; `resolve` types
//! plain ones the way PyYAML (YAML 1.1), which pySigma uses, reads them.

use std::sync::OnceLock;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deeper nesting than any Sigma rule needs; a YAML bomb stops here.
const MAX_DEPTH: usize = 64;
/// More nodes than any Sigma rule file holds.
const MAX_NODES: usize = 200_000;

/// A 1-based line and column (columns count characters), as the YAML
/// parser reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Keys in written order, each once.
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    /// Written without quotes (only plain scalars are typed by `resolve`).
    pub plain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub text: String,
    pub pos: Pos,
}

/// What is wrong with a file as YAML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// A plain scalar typed as PyYAML's YAML 1.1 resolver types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond 64 bits, or a float: no tripline literal holds it.
    OtherNumber,
    Str(&'a str),
}

impl Node {
    /// The value of `key` in a map node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key entry itself (for its position).
    pub fn key(&self, key: &str) -> Option<&Key> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(k, _)| k),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar's typed value (quoted scalars are strings).
    pub fn resolved(&self) -> Option<Resolved<'_>> {
        self.scalar().map(Scalar::resolve)
    }

    /// A scalar read as text: strings, and numbers and booleans by their
    /// spelling (metadata such as `date: 2024/01/01` or `author: 1337`).
    pub fn text(&self) -> Option<&str> {
        match self.resolved()? {
            Resolved::Null => None,
            _ => self.scalar().map(|s| s.text.as_str()),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(_) => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.plain {
            return Resolved::Str(&self.text);
        }
        resolve_plain(&self.text)
    }
}

/// The documents of a YAML stream (empty documents left out).
pub fn documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|err| YamlError {
            pos: pos(err.marker().line(), err.marker().col()),
            message: err.info().to_string(),
        })?;
        let at = pos(span.start.line(), span.start.col());
        if builder.event(event, at)? {
            break;
        }
    }
    Ok(builder.documents)
}

fn pos(line: usize, col: usize) -> Pos {
    Pos {
        line: line.max(1),
        column: col + 1,
    }
}

/// A collection being read: its node, and for a map the key waiting for
/// its value.
enum Open {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<(Key, Node)>, Option<Key>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    documents: Vec<Node>,
    nodes: usize,
}

impl Builder {
    /// Takes one event; true at the end of the stream.
    fn event(&mut self, event: Event<'_>, at: Pos) -> Result<bool, YamlError> {
        let fail = |message: &str| {
            Err(YamlError {
                pos: at,
                message: message.to_string(),
            })
        };
        match event {
            Event::StreamEnd => return Ok(true),
            Event::Alias(_) => {
                return fail("YAML aliases (`*name`) are not read: write the value out");
            }
            Event::Scalar(_, _, _, Some(_))
            | Event::SequenceStart(_, Some(_))
            | Event::MappingStart(_, Some(_)) => {
                return fail("YAML tags (`!!str`, `!name`) are not read: write the value plainly");
            }
            Event::Scalar(text, style, _, None) => {
                let scalar = Scalar {
                    text: text.into_owned(),
                    plain: style == ScalarStyle::Plain,
                };
                self.value(Node {
                    kind: NodeKind::Scalar(scalar),
                    pos: at,
                })?;
            }
            Event::SequenceStart(..) => self.open(Open::Seq(at, Vec::new()), at)?,
            Event::MappingStart(..) => self.open(Open::Map(at, Vec::new(), None), at)?,
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(pos, items)) => Node {
                        kind: NodeKind::Seq(items),
                        pos,
                    },
                    Some(Open::Map(pos, entries, _)) => Node {
                        kind: NodeKind::Map(entries),
                        pos,
                    },
                    None => return fail("unbalanced YAML collection"),
                };
                self.value(node)?;
            }
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => {}
        }
        Ok(false)
    }

    fn open(&mut self, open: Open, at: Pos) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                pos: at,
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            });
        }
        if let Some(Open::Map(_, _, None)) = self.stack.last() {
            return Err(YamlError {
                pos: at,
                message: "a key that is a list or a map: keys must be plain text".to_string(),
            });
        }
        self.count(at)?;
        self.stack.push(open);
        Ok(())
    }

    fn count(&mut self, at: Pos) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                pos: at,
                message: format!("more than {MAX_NODES} YAML nodes in one file"),
            });
        }
        Ok(())
    }

    /// A finished node: an item, a key, a key's value, or a document.
    fn value(&mut self, node: Node) -> Result<(), YamlError> {
        if matches!(node.kind, NodeKind::Scalar(_)) {
            self.count(node.pos)?;
        }
        match self.stack.last_mut() {
            None => {
                let empty =
                    matches!(&node.kind, NodeKind::Scalar(s) if s.plain && s.text.is_empty());
                if !empty {
                    self.documents.push(node);
                }
            }
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => {
                    let NodeKind::Scalar(scalar) = node.kind else {
                        return Err(YamlError {
                            pos: node.pos,
                            message: "a key that is a list or a map: keys must be plain text"
                                .to_string(),
                        });
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.text == scalar.text) {
                        return Err(YamlError {
                            pos: node.pos,
                            message: format!(
                                "key `{}` is given twice (first at line {})",
                                scalar.text, first.pos.line
                            ),
                        });
                    }
                    *pending = Some(Key {
                        text: scalar.text,
                        pos: node.pos,
                    });
                }
            },
        }
        Ok(())
    }
}

/// PyYAML's implicit resolvers (YAML 1.1) for a plain scalar.
fn resolve_plain(text: &str) -> Resolved<'_> {
    static PATTERNS: OnceLock<[regex::Regex; 3]> = OnceLock::new();
    let [null, boolean, float] = PATTERNS.get_or_init(|| {
        let compile = |p: &str| regex::Regex::new(p).unwrap_or_else(|_| never());
        [
            compile(r"^(?:~|null|Null|NULL|)$"),
            compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
            compile(
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
        ]
    });
    if null.is_match(text) {
        return Resolved::Null;
    }
    if boolean.is_match(text) {
        let truth = matches!(text.to_ascii_lowercase().as_str(), "yes" | "true" | "on");
        return Resolved::Bool(truth);
    }
    if let Some(int) = yaml11_int(text) {
        return int;
    }
    if float.is_match(text) {
        return Resolved::OtherNumber;
    }
    Resolved::Str(text)
}

/// `[-+]?` then `0b...`, `0x...`, `0...` (octal), decimal, or base 60
/// (`1:30`), underscores ignored; `None` when the text is not an integer.
fn yaml11_int(text: &str) -> Option<Resolved<'static>> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits_in = |s: &str, radix: u32| {
        !s.is_empty()
            && s.chars().any(|c| c != '_')
            && s.chars().all(|c| c == '_' || c.is_digit(radix))
    };
    let value: Option<i128> = if let Some(bin) = body.strip_prefix("0b") {
        if !digits_in(bin, 2) {
            return None;
        }
        i128::from_str_radix(&bin.replace('_', ""), 2).ok()
    } else if let Some(hex) = body.strip_prefix("0x") {
        if !digits_in(hex, 16) {
            return None;
        }
        i128::from_str_radix(&hex.replace('_', ""), 16).ok()
    } else if body.len() > 1 && body.starts_with('0') {
        if !digits_in(&body[1..], 8) {
            return None;
        }
        i128::from_str_radix(&body[1..].replace('_', ""), 8).ok()
    } else if body.contains(':') {
        let mut parts = body.split(':');
        let first = parts.next()?;
        if !first.starts_with(|c: char| ('1'..='9').contains(&c)) || !digits_in(first, 10) {
            return None;
        }
        let mut value = first.replace('_', "").parse::<i128>().ok()?;
        for part in parts {
            if part.is_empty() || part.len() > 2 || !part.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let sixtieth = part.parse::<i128>().ok()?;
            if sixtieth > 59 {
                return None;
            }
            value = value.checked_mul(60)?.checked_add(sixtieth)?;
        }
        Some(value)
    } else {
        if body == "0" {
            Some(0)
        } else if body.starts_with(|c: char| ('1'..='9').contains(&c)) && digits_in(body, 10) {
            body.replace('_', "").parse::<i128>().ok()
        } else {
            return None;
        }
    };
    let Some(value) = value else {
        return Some(Resolved::OtherNumber);
    };
    let value = if negative { -value } else { value };
    Some(i64::try_from(value).map_or(Resolved::OtherNumber, Resolved::Int))
}

/// The patterns above are fixed and compile (a unit test says so).
fn never() -> regex::Regex {
    #[expect(clippy::unwrap_used, reason = "an empty pattern always compiles")]
    regex::Regex::new("").unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Resolved<'_> {
        resolve_plain(text)
    }

    #[test]
    fn plain_scalars_are_typed_as_pysigma_reads_them() {
        assert_eq!(plain("4625"), Resolved::Int(4625));
        assert_eq!(plain("010"), Resolved::Int(8));
        assert_eq!(plain("0x1F"), Resolved::Int(31));
        assert_eq!(plain("1_000"), Resolved::Int(1000));
        assert_eq!(plain("1:30"), Resolved::Int(90));
        assert_eq!(plain("-3"), Resolved::Int(-3));
        assert_eq!(plain("yes"), Resolved::Bool(true));
        assert_eq!(plain("Off"), Resolved::Bool(false));
        assert_eq!(plain("~"), Resolved::Null);
        assert_eq!(plain(""), Resolved::Null);
        assert_eq!(plain("1.5"), Resolved::OtherNumber);
        assert_eq!(plain("99999999999999999999"), Resolved::OtherNumber);
        assert_eq!(plain("0443x"), Resolved::Str("0443x"));
        assert_eq!(plain("08"), Resolved::Str("08"));
        assert_eq!(plain("2023/01/02"), Resolved::Str("2023/01/02"));
        assert_eq!(plain("\\cmd.exe"), Resolved::Str("\\cmd.exe"));
    }

    #[test]
    fn nodes_keep_their_positions() {
        let docs = documents("title: x\ndetection:\n  sel:\n    a: 'b'\n").unwrap();
        let detection = docs[0].get("detection").unwrap();
        let sel = detection.get("sel").unwrap();
        assert_eq!(sel.key("a").unwrap().pos, Pos { line: 4, column: 5 });
        assert_eq!(sel.get("a").unwrap().pos, Pos { line: 4, column: 8 });
        assert!(!sel.get("a").unwrap().scalar().unwrap().plain);
    }

    #[test]
    fn hostile_yaml_is_an_error_with_a_position() {
        let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        assert!(documents(bomb).unwrap_err().message.contains("aliases"));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(documents(&deep).is_err());
        let deep_maps = "a:\n".to_string()
            + &(1..100)
                .map(|i| format!("{}b{i}:\n", "  ".repeat(i)))
                .collect::<String>();
        assert!(
            documents(&deep_maps)
                .unwrap_err()
                .message
                .contains("nested")
        );
        let twice = documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(twice.pos, Pos { line: 3, column: 1 });
        assert!(documents("? [a]\n: 1\n").is_err());
        assert!(documents("a: !!str 1\n").is_err());
        assert!(documents("a: [\n").is_err());
    }

    #[test]
    fn empty_documents_are_left_out() {
        let docs = documents("---\na: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}
