//! The two SQL engines the `sql` target writes for, DuckDB and Spark SQL 4,
//! as the few spellings in which they differ: how a column name and a
//! string are quoted, the regex call, the list functions the address
//! parser uses, and the time arithmetic of threshold windows. Everything
//! else (`lower()`, `LIKE ... ESCAPE`, `try_cast`, `translate`,
//! `split_part`, `min_by`, `count(DISTINCT ...)`) is spelt alike in both.

use serde::Serialize;

/// One SQL engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    DuckDb,
    Spark,
}

impl Flavor {
    pub const ALL: [Flavor; 2] = [Flavor::DuckDb, Flavor::Spark];

    /// The folder under `DIR/sql/` and the word in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::DuckDb => "duckdb",
            Flavor::Spark => "spark",
        }
    }

    /// A column name (`"source.ip"`, `` `source.ip` ``).
    pub fn ident(self, name: &str) -> String {
        match self {
            Flavor::DuckDb => format!("\"{}\"", name.replace('"', "\"\"")),
            Flavor::Spark => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// A string literal holding exactly `text` (NUL is refused before:
    /// neither engine keeps it in a literal). DuckDB strings take
    /// backslashes as themselves; Spark reads backslash escapes. Control
    /// characters and line separators are never written raw, so that no
    /// tool on the way rewrites a line end in a value: DuckDB gets them as
    /// `chr(N)` joined with `||`, Spark as `\uXXXX` escapes.
    pub fn string(self, text: &str) -> String {
        if self == Flavor::Spark {
            return self.plain(text);
        }
        let mut parts = Vec::new();
        let mut run = String::new();
        for c in text.chars() {
            if hidden(c) {
                if !run.is_empty() {
                    parts.push(self.plain(&std::mem::take(&mut run)));
                }
                parts.push(format!("chr({})", u32::from(c)));
            } else {
                run.push(c);
            }
        }
        if !run.is_empty() || parts.is_empty() {
            parts.push(self.plain(&run));
        }
        match parts.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(" || ")),
        }
    }

    /// A quoted literal of text without control characters.
    fn plain(self, text: &str) -> String {
        match self {
            Flavor::DuckDb => format!("'{}'", text.replace('\'', "''")),
            Flavor::Spark => {
                let mut out = String::with_capacity(text.len() + 2);
                out.push('\'');
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        c if hidden(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
        }
    }

    /// `text` finds a match of `pattern` (already in the engine's syntax).
    pub fn regex_test(self, text: &str, pattern: &str) -> String {
        match self {
            Flavor::DuckDb => format!("regexp_matches({text}, {})", self.string(pattern)),
            Flavor::Spark => format!("{text} RLIKE {}", self.string(pattern)),
        }
    }

    /// A list literal.
    pub fn list(self, items: &[String]) -> String {
        match self {
            Flavor::DuckDb => format!("[{}]", items.join(", ")),
            Flavor::Spark => format!("array({})", items.join(", ")),
        }
    }

    /// Element `n` (counted from 1) of a list.
    pub fn item(self, list: &str, n: usize) -> String {
        match self {
            Flavor::DuckDb => format!("{list}[{n}]"),
            Flavor::Spark => format!("{list}[{}]", n - 1),
        }
    }

    /// `list` with `lambda` (`x -> ...`) applied to each element.
    pub fn map(self, list: &str, lambda: &str) -> String {
        match self {
            Flavor::DuckDb => format!("list_transform({list}, {lambda})"),
            Flavor::Spark => format!("transform({list}, {lambda})"),
        }
    }

    /// The non-empty pieces of `text` split at `separator` (a plain string).
    pub fn pieces(self, text: &str, separator: &str) -> String {
        let sep = self.string(separator);
        match self {
            Flavor::DuckDb => format!("list_filter(string_split({text}, {sep}), p -> p <> '')"),
            // `split` takes a regex; `:` is none of its metacharacters.
            Flavor::Spark => format!("filter(split({text}, {sep}), p -> p <> '')"),
        }
    }

    /// The number of elements of a list.
    pub fn len(self, list: &str) -> String {
        match self {
            Flavor::DuckDb => format!("len({list})"),
            Flavor::Spark => format!("size({list})"),
        }
    }

    /// `n` zeros as a list (`n` between 1 and 8 where it is used).
    pub fn zeros(self, n: &str) -> String {
        match self {
            Flavor::DuckDb => format!("list_transform(range({n}), z -> 0)"),
            Flavor::Spark => format!("array_repeat(0, {n})"),
        }
    }

    /// Lists joined end to end.
    pub fn concat(self, lists: &[String]) -> String {
        match self {
            Flavor::DuckDb => lists.join(" || "),
            Flavor::Spark => format!("concat({})", lists.join(", ")),
        }
    }

    /// A checked hexadecimal text of 1 to 4 digits as an integer.
    pub fn hex(self, text: &str) -> String {
        match self {
            Flavor::DuckDb => format!("CAST('0x' || {text} AS BIGINT)"),
            Flavor::Spark => format!("CAST(conv({text}, 16, 10) AS BIGINT)"),
        }
    }

    /// A timestamp as microseconds since the epoch.
    pub fn epoch_micros(self, time: &str) -> String {
        match self {
            Flavor::DuckDb => format!("epoch_us({time})"),
            Flavor::Spark => format!("unix_micros({time})"),
        }
    }

    /// One row per value from `first` to `last` (inclusive) by `step`, in
    /// a `SELECT` list.
    pub fn series(self, first: &str, last: &str, step: u64) -> String {
        match self {
            Flavor::DuckDb => format!("unnest(generate_series({first}, {last}, {step}))"),
            Flavor::Spark => format!("explode(sequence({first}, {last}, {step}))"),
        }
    }

    /// Seconds since the epoch as a timestamp (UTC).
    pub fn from_epoch(self, seconds: &str) -> String {
        match self {
            Flavor::DuckDb => format!("make_timestamp({seconds} * 1000000)"),
            Flavor::Spark => format!("timestamp_seconds({seconds})"),
        }
    }
}

/// A character written by its number: controls and line separators.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_names_are_quoted_for_each_engine() {
        assert_eq!(Flavor::DuckDb.string(r"it's \n"), r"'it''s \n'");
        assert_eq!(Flavor::Spark.string(r"it's \n"), r"'it\'s \\n'");
        assert_eq!(
            Flavor::DuckDb.string("a\r\nb"),
            "('a' || chr(13) || chr(10) || 'b')"
        );
        assert_eq!(Flavor::DuckDb.string("\t"), "chr(9)");
        assert_eq!(Flavor::Spark.string("a\r\u{2028}"), r"'a\u000D\u2028'");
        assert_eq!(Flavor::DuckDb.ident("source.ip"), "\"source.ip\"");
        assert_eq!(Flavor::Spark.ident("source.ip"), "`source.ip`");
    }
}
