//! Integers on `int` fields in `eval` expressions, without regular
//! expressions and without numbers. The evaluator reads `-?[0-9]+` within
//! 64 bits as a number; these tests decide that syntax with `trim()` and
//! `like()`, and compare spellings by their digits: `ltrim(x, "0")` (so
//! `0443` is `443`), ordered by length, then as text (two strings compare
//! as text in `eval`, and digit strings of one length order as their
//! numbers). `tonumber()` is never used: `eval` numbers are doubles, which
//! cannot tell 2^53 from 2^53+1, nor a value beyond 64 bits from one within.

use crate::ir::Ordering;

use super::literal::spl_string;

/// `x` is spelt `-?[0-9]+`: only digits and `-`, a `-` only first, at least
/// one digit.
pub fn syntax(x: &str) -> String {
    format!(
        "{x}!=\"\" AND {x}!=\"-\" AND trim({x}, \"-0123456789\")==\"\" AND NOT like({x}, \"_%-%\")"
    )
}

/// `x` is an integer equal to `n`: its digits without leading zeros are
/// `n`'s (and its sign `n`'s, zero taking either).
pub fn equals(x: &str, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    match n {
        0 => format!("{} AND ltrim(ltrim({x}, \"-\"), \"0\")==\"\"", syntax(x)),
        n if n > 0 => format!("ltrim({x}, \"0\")=={}", spl_string(&digits)),
        _ => format!(
            "like({x}, \"-%\") AND ltrim(substr({x}, 2), \"0\")=={}",
            spl_string(&digits)
        ),
    }
}

/// The digits of integer `x` without sign and leading zeros (`""` for 0).
fn digits(x: &str) -> String {
    format!("ltrim(ltrim({x}, \"-\"), \"0\")")
}

/// Integer `x` is below zero.
fn negative(x: &str) -> String {
    format!("like({x}, \"-%\") AND {}!=\"\"", digits(x))
}

/// Integer `x` is within 64 bits: at most 19 digits, and of 19 at most
/// `9223372036854775807` (`...808` below zero).
fn in_range(x: &str) -> String {
    let d = digits(x);
    format!(
        "(len({d})<19 OR (len({d})==19 AND ({d}<=\"{}\" OR (like({x}, \"-%\") AND {d}==\"{}\"))))",
        i64::MAX,
        i64::MIN.unsigned_abs()
    )
}

/// `|x| op |n|` for `n` != 0, by digits: the longer is larger, one length
/// compares as text.
fn magnitude(x: &str, op: Ordering, n: i64) -> String {
    let d = digits(x);
    let n = n.unsigned_abs().to_string();
    let (strict, symbol) = match op {
        Ordering::Lt => ("<", "<"),
        Ordering::Le => ("<", "<="),
        Ordering::Gt => (">", ">"),
        Ordering::Ge => (">", ">="),
    };
    format!(
        "(len({d}){strict}{len} OR (len({d})=={len} AND {d}{symbol}{}))",
        spl_string(&n),
        len = n.len()
    )
}

/// `x` reads as an integer within 64 bits.
pub fn reads(x: &str) -> String {
    format!("{} AND {}", syntax(x), in_range(x))
}

/// `x` is an integer within 64 bits and `x op n`, decided on its sign and
/// digits.
pub fn compare(x: &str, op: Ordering, n: i64) -> String {
    let neg = format!("({})", negative(x));
    let not_neg = format!("NOT {neg}");
    let d = digits(x);
    let test = match (op, n.signum()) {
        // Against zero: the sign and whether the digits are empty.
        (Ordering::Gt, 0) => format!("{not_neg} AND {d}!=\"\""),
        (Ordering::Ge, 0) => not_neg,
        (Ordering::Lt, 0) => neg,
        (Ordering::Le, 0) => format!("({neg} OR {d}==\"\")"),
        (Ordering::Gt | Ordering::Ge, 1) => format!("{not_neg} AND {}", magnitude(x, op, n)),
        (Ordering::Lt | Ordering::Le, 1) => format!("({neg} OR {})", magnitude(x, op, n)),
        // Below zero the order of magnitudes is reversed.
        (Ordering::Gt, _) => format!("({not_neg} OR {})", magnitude(x, Ordering::Lt, n)),
        (Ordering::Ge, _) => format!("({not_neg} OR {})", magnitude(x, Ordering::Le, n)),
        (Ordering::Lt, _) => format!("{neg} AND {}", magnitude(x, Ordering::Gt, n)),
        (Ordering::Le, _) => format!("{neg} AND {}", magnitude(x, Ordering::Ge, n)),
    };
    format!("{} AND {} AND {test}", syntax(x), in_range(x))
}

/// The group key of `x` on an `int` field: an integer's digits without
/// leading zeros (with `-` when negative and not zero), any other value
/// lowercased.
pub fn key(x: &str) -> String {
    let digits = format!("ltrim(ltrim({x}, \"-\"), \"0\")");
    format!(
        "if({}, if(like({x}, \"-%\") AND {digits}!=\"\", \"-\", \"\") . if({digits}==\"\", \"0\", {digits}), lower({x}))",
        syntax(x)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_tests_name_the_field_and_need_no_regex_nor_numbers() {
        assert_eq!(equals("p", 43), "ltrim(p, \"0\")==\"43\"");
        assert_eq!(
            equals("p", -7),
            "like(p, \"-%\") AND ltrim(substr(p, 2), \"0\")==\"7\""
        );
        let compared = compare("p", Ordering::Ge, 9007199254740992);
        assert!(
            compared.contains("ltrim(ltrim(p, \"-\"), \"0\")>=\"9007199254740992\""),
            "{compared}"
        );
        assert!(compared.contains("\"9223372036854775807\""), "{compared}");
        assert!(!compared.contains("match(") && !compared.contains("tonumber("));
    }
}
