//! Integers on `int` fields in `eval` expressions, without regular
//! expressions. The evaluator reads `-?[0-9]+` within 64 bits as a number;
//! these tests decide that syntax with `trim()` and `like()`, compare
//! spellings by their digits (`ltrim(x, "0")`, so `0443` is `443` with no
//! floating point), and use `tonumber()` only to order an integer against
//! a bound, which is exact: every bound of a rule below 2^53 is a double,
//! and rounding keeps the order of integers against it.

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

/// `x` is an integer within 64 bits and `x op n`. `tonumber()` of a value
/// beyond 64 bits is still a number: the bound on the far side keeps it out.
pub fn compare(x: &str, op: Ordering, n: i64) -> String {
    let symbol = match op {
        Ordering::Lt => "<",
        Ordering::Le => "<=",
        Ordering::Gt => ">",
        Ordering::Ge => ">=",
    };
    let range = match op {
        Ordering::Lt | Ordering::Le => format!("tonumber({x})>={}", i64::MIN),
        Ordering::Gt | Ordering::Ge => format!("tonumber({x})<={}", i64::MAX),
    };
    format!("{} AND tonumber({x}){symbol}{n} AND {range}", syntax(x))
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

/// Whether a bound can be ordered exactly through a double.
pub fn exact_bound(n: i64) -> bool {
    n.unsigned_abs() < 1 << 53
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_tests_name_the_field_and_need_no_regex() {
        assert_eq!(equals("p", 43), "ltrim(p, \"0\")==\"43\"");
        assert_eq!(
            equals("p", -7),
            "like(p, \"-%\") AND ltrim(substr(p, 2), \"0\")==\"7\""
        );
        let compared = compare("p", Ordering::Ge, 33434);
        assert!(compared.contains("tonumber(p)>=33434"), "{compared}");
        assert!(!compared.contains("match("));
        assert!(exact_bound(65535) && !exact_bound(i64::MAX));
    }
}
