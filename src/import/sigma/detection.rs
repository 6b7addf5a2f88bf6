//! A rule's `detection`: its named selections (maps are `and` of items,
//! lists of maps `or` of them) combined by the `condition` (`and`, `or`,
//! `not`, parentheses, `1 of pattern`, `all of them`).

use super::cond::{Cond, settle};
use super::item::item;
use super::mapping::SourceNames;
use super::refusal::{Refusal, Result};
use super::yaml::{Node, NodeKind, Pos};

/// The deepest condition read (parentheses and `not`).
const MAX_CONDITION_DEPTH: usize = 64;

/// The formula of a `detection` map.
pub fn detection(names: &SourceNames, detection: &Node) -> Result<Cond> {
    let NodeKind::Map(entries) = &detection.kind else {
        return Err(Refusal::new(
            detection.pos,
            "`detection` that is not a map",
            "write named selections and a `condition`",
        ));
    };
    let condition = detection.get("condition").ok_or_else(|| {
        Refusal::new(
            detection.pos,
            "`detection` without a `condition`",
            "add a `condition`",
        )
    })?;
    let selections: Vec<(&str, &Node, Pos)> = entries
        .iter()
        .filter(|(k, _)| k.text != "condition" && k.text != "timeframe")
        .map(|(k, v)| (k.text.as_str(), v, k.pos))
        .collect();
    let conditions: Vec<&Node> = match &condition.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![condition],
    };
    let mut formulas = Vec::new();
    for condition in conditions {
        let Some(text) = condition
            .scalar()
            .filter(|_| condition.text().is_some())
            .map(|s| s.text.as_str())
        else {
            return Err(Refusal::new(
                condition.pos,
                "a `condition` that is not text",
                "write the condition as text",
            ));
        };
        let offset = usize::from(!condition.scalar().is_some_and(|s| s.plain));
        let mut parser = Parser {
            tokens: tokens(text, condition.pos, offset)?,
            at: 0,
            end: condition.pos,
            selections: &selections,
            names,
            depth: 0,
        };
        let formula = parser.or()?;
        if let Some(token) = parser.tokens.get(parser.at) {
            return Err(Refusal::new(
                token.pos,
                format!("`{}` in the condition", token.text),
                "expected `and`, `or` or the end of the condition",
            ));
        }
        formulas.push(formula);
    }
    // Several conditions are several queries: an event matches the rule
    // when it matches any.
    let formula = if formulas.len() == 1 {
        formulas.remove(0)
    } else {
        Cond::Or(formulas)
    };
    settle(formula)
}

#[derive(Debug, Clone)]
struct Token {
    text: String,
    pos: Pos,
}

fn tokens(text: &str, at: Pos, offset: usize) -> Result<Vec<Token>> {
    let single_line = !text.contains('\n');
    let pos_of = |column: usize| {
        if single_line {
            Pos {
                line: at.line,
                column: at.column + offset + column,
            }
        } else {
            at
        }
    };
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push(Token {
                text: c.to_string(),
                pos: pos_of(i),
            });
            i += 1;
        } else if is_word_char(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            out.push(Token {
                text: chars[start..i].iter().collect(),
                pos: pos_of(start),
            });
        } else if c == '|' {
            return Err(Refusal::new(
                pos_of(i),
                "an aggregation in the condition (`| count() ...`)",
                "Sigma 1 aggregations are not imported: write a correlation rule",
            ));
        } else {
            return Err(Refusal::new(
                pos_of(i),
                format!("`{c}` in the condition"),
                "not part of Sigma's condition syntax",
            ));
        }
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '*' | '.')
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    end: Pos,
    selections: &'a [(&'a str, &'a Node, Pos)],
    names: &'a SourceNames,
    depth: usize,
}

impl Parser<'_> {
    fn peek_word(&self, word: &str) -> bool {
        self.tokens
            .get(self.at)
            .is_some_and(|t| t.text.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Result<Token> {
        let token = self.tokens.get(self.at).cloned().ok_or_else(|| {
            Refusal::new(
                self.end,
                "a condition that ends early",
                "complete the condition",
            )
        })?;
        self.at += 1;
        Ok(token)
    }

    fn or(&mut self) -> Result<Cond> {
        let mut items = vec![self.and()?];
        while self.peek_word("or") {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond> {
        let mut items = vec![self.not()?];
        while self.peek_word("and") {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond> {
        self.depth += 1;
        let result = if self.depth > MAX_CONDITION_DEPTH {
            let pos = self.tokens.get(self.at).map_or(self.end, |t| t.pos);
            Err(Refusal::new(
                pos,
                "a condition nested too deeply",
                format!("at most {MAX_CONDITION_DEPTH} levels"),
            ))
        } else if self.peek_word("not") {
            self.at += 1;
            self.not().map(|c| Cond::Not(Box::new(c)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        result
    }

    fn primary(&mut self) -> Result<Cond> {
        let token = self.next()?;
        if token.text == "(" {
            let inner = self.or()?;
            let close = self.next()?;
            if close.text != ")" {
                return Err(Refusal::new(
                    close.pos,
                    format!("`{}` in the condition", close.text),
                    "expected `)`",
                ));
            }
            return Ok(inner);
        }
        let lower = token.text.to_ascii_lowercase();
        if matches!(lower.as_str(), "and" | "or" | ")") {
            return Err(Refusal::new(
                token.pos,
                format!("`{}` in the condition", token.text),
                "expected a selection",
            ));
        }
        if self.peek_word("of") {
            self.at += 1;
            let all = match lower.as_str() {
                "1" | "any" => false,
                "all" => true,
                _ => {
                    return Err(Refusal::new(
                        token.pos,
                        format!("`{} of`", token.text),
                        "tripline reads `1 of` and `all of`",
                    ));
                }
            };
            let target = self.next()?;
            return self.quantified(all, &target);
        }
        self.selection(&token.text, token.pos)
    }

    /// `1 of pattern` / `all of them`: the selections the pattern names.
    fn quantified(&self, all: bool, target: &Token) -> Result<Cond> {
        let them = target.text.eq_ignore_ascii_case("them");
        let names: Vec<&str> = self
            .selections
            .iter()
            .map(|(name, _, _)| *name)
            .filter(|name| {
                if them {
                    !name.starts_with('_')
                } else {
                    glob_matches(&target.text, name)
                }
            })
            .collect();
        if names.is_empty() {
            return Err(Refusal::new(
                target.pos,
                format!("`{}`", target.text),
                "no selection has this name",
            ));
        }
        let items = names
            .iter()
            .map(|name| self.selection(name, target.pos))
            .collect::<Result<Vec<_>>>()?;
        Ok(if items.len() == 1 {
            items.into_iter().next().unwrap_or(Cond::Or(Vec::new()))
        } else if all {
            Cond::And(items)
        } else {
            Cond::Or(items)
        })
    }

    fn selection(&self, name: &str, at: Pos) -> Result<Cond> {
        let Some((_, node, _)) = self.selections.iter().find(|(n, _, _)| *n == name) else {
            return Err(Refusal::new(
                at,
                format!("`{name}`"),
                "no selection has this name",
            ));
        };
        selection(self.names, node)
    }
}

/// `*` in a condition's selection pattern (the only wildcard it has).
fn glob_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    if rest.is_empty() {
        return remaining.is_empty();
    }
    for (i, part) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// A selection: a map (`and` of its items) or a list of maps (`or`).
fn selection(names: &SourceNames, node: &Node) -> Result<Cond> {
    match &node.kind {
        NodeKind::Map(entries) if entries.is_empty() => Err(Refusal::new(
            node.pos,
            "an empty selection",
            "a selection needs at least one item",
        )),
        NodeKind::Map(entries) => {
            let items = entries
                .iter()
                .map(|(key, value)| item(names, key, value))
                .collect::<Result<Vec<_>>>()?;
            Ok(if items.len() == 1 {
                items.into_iter().next().unwrap_or(Cond::And(Vec::new()))
            } else {
                Cond::And(items)
            })
        }
        NodeKind::Seq(items)
            if !items.is_empty() && items.iter().all(|i| matches!(i.kind, NodeKind::Map(_))) =>
        {
            let maps = items
                .iter()
                .map(|i| selection(names, i))
                .collect::<Result<Vec<_>>>()?;
            Ok(if maps.len() == 1 {
                maps.into_iter().next().unwrap_or(Cond::Or(Vec::new()))
            } else {
                Cond::Or(maps)
            })
        }
        _ => Err(Refusal::new(
            node.pos,
            "keywords (values searched anywhere in the event)",
            "tripline matches named fields; a search over the whole event has no predicate",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn selection_patterns_use_star_only() {
        assert!(glob_matches("selection_*", "selection_img"));
        assert!(glob_matches("*filter*", "main_filter_1"));
        assert!(glob_matches("sel", "sel"));
        assert!(!glob_matches("sel", "sel2"));
        assert!(!glob_matches("filter_*", "selection"));
    }
}
