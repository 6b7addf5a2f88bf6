//! The grouping fields of a sequence or a first-seen baseline, keyed as a
//! threshold keys its `by` fields (`threshold::key`: folded, an `int` by
//! its number, `cased` as it is); an event whose value is null or `""`
//! is in no group, as in the evaluator.

use crate::emit::query::Refusal;
use crate::ir::Field;

use super::dialect::Sql;
use super::threshold::key;

/// The columns a group needs in each step of the query.
pub struct Group {
    /// `"f" AS tl_byN` (the spelling) and `<key> AS tl_keyN`.
    pub select: Vec<String>,
    /// The tests that the event has every field.
    pub present: Vec<String>,
    /// `tl_keyN`.
    pub keys: Vec<String>,
    /// The result columns: `tl_byN AS "f"`.
    pub shown: Vec<String>,
}

impl Group {
    pub fn new(writer: &Sql, fields: &[Field]) -> Result<Group, Refusal> {
        let mut group = Group {
            select: Vec::new(),
            present: Vec::new(),
            keys: Vec::new(),
            shown: Vec::new(),
        };
        for (n, field) in fields.iter().enumerate() {
            let column = writer.column(field)?;
            let n = n + 1;
            group.select.push(format!("{column} AS tl_by{n}"));
            group
                .select
                .push(format!("{} AS tl_key{n}", key(field, &column)));
            group.present.push(format!("{column} <> ''"));
            group.keys.push(format!("tl_key{n}"));
            group
                .shown
                .push(format!("tl_by{n} AS {}", writer.flavor.ident(&field.path)));
        }
        Ok(group)
    }

    /// A window over each group's events in `order`.
    pub fn over(&self, order: &str) -> String {
        if self.keys.is_empty() {
            format!("OVER (ORDER BY {order})")
        } else {
            format!(
                "OVER (PARTITION BY {} ORDER BY {order})",
                self.keys.join(", ")
            )
        }
    }

    /// The join condition of two rows (`a`, `b`) of one group.
    pub fn same(&self, a: &str, b: &str) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| format!("{b}.{k} = {a}.{k}"))
            .collect()
    }
}
