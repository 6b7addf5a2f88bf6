//! Integers in KQL without a regex: an `int` field's value is a number when
//! its text is `-?[0-9]+` within 64 bits (the evaluator's reading), never
//! the looser reading of `tolong()`, which also takes `" 443"`, `"+443"` or
//! `"443.0"`. The text is checked with `translate()`, which deletes the
//! characters of its first argument when the second is empty
//! (`translate("abc", "", "ab")` is `""`), so only a text of digits and `-`
//! passes; of those, `tolong()` converts exactly the `-?[0-9]+` ones that
//! fit 64 bits and gives null for the rest (`"-"`, `"4-4"`, overflow).

/// The comparison `test` (`== 443`, `in (22, 3389)`, `>= 400`) on `column`'s
/// value as an integer: false, never null, for a value that is no integer
/// (the `isnotnull` guard comes first, so no operand of `and` is null).
pub fn numeric_test(column: &str, test: &str, numeric_column: bool) -> String {
    if numeric_column {
        if test.starts_with("==") {
            // `==` is false, not null, when an operand is null.
            return format!("{column} {test}");
        }
        return format!("isnotnull({column}) and {column} {test}");
    }
    format!(
        "isnotnull(tolong({column})) and tolong({column}) {test} and {}",
        integer_text(column)
    )
}

/// The test that a string column's text is made of digits and `-` only.
pub fn integer_text(column: &str) -> String {
    format!("isempty(translate(\"-0123456789\", \"\", {column}))")
}

/// A group key or distinct value of an `int` field on a string column: its
/// number when the text is an integer, else the text ignoring case.
pub fn integer_key(column: &str) -> String {
    format!(
        "iff({} and isnotnull(tolong({column})), tostring(tolong({column})), tolower({column}))",
        integer_text(column)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_columns_are_read_as_integers_only_with_an_integer_text() {
        assert_eq!(
            numeric_test("HttpStatusCode", ">= 400", false),
            r#"isnotnull(tolong(HttpStatusCode)) and tolong(HttpStatusCode) >= 400 and isempty(translate("-0123456789", "", HttpStatusCode))"#
        );
        assert_eq!(
            numeric_test("DstPortNumber", "in (22, 3389)", true),
            "isnotnull(DstPortNumber) and DstPortNumber in (22, 3389)"
        );
        assert_eq!(
            numeric_test("DstPortNumber", "== 22", true),
            "DstPortNumber == 22"
        );
    }
}
