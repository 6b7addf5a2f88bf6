//! Integers on `int` fields, as regular expressions over the value's text.
//! The evaluator reads `-?[0-9]+` within the signed 64-bit range as a
//! number; a regex over the canonical digits decides membership in a set
//! of integers exactly, with no conversion to Splunk's floating point and
//! no reliance on how `tonumber()` reads leading zeros.

/// A set of integers as inclusive ranges.
pub type IntRanges = Vec<(i64, i64)>;

/// An anchored PCRE matching exactly the spellings (`-?[0-9]+`, leading
/// zeros allowed) of the integers in `ranges`; `None` when the set is empty.
pub fn int_set_regex(ranges: &[(i64, i64)]) -> Option<String> {
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    let mut zero = false;
    for &(low, high) in ranges.iter().filter(|(l, h)| l <= h) {
        if high >= 0 {
            let low = low.max(0);
            zero |= low == 0;
            positive.extend(unsigned_range(
                low.unsigned_abs().into(),
                high.unsigned_abs().into(),
            ));
        }
        if low < 0 {
            let high = high.min(-1);
            negative.extend(unsigned_range(
                high.unsigned_abs().into(),
                low.unsigned_abs().into(),
            ));
        }
    }
    let mut alternatives = Vec::new();
    if !positive.is_empty() {
        alternatives.push(format!("0*{}", group(&positive)));
    }
    if !negative.is_empty() {
        alternatives.push(format!("-0*{}", group(&negative)));
    }
    if zero {
        alternatives.push("-0+".to_string());
    }
    if alternatives.is_empty() {
        return None;
    }
    Some(format!("^(?:{})\\z", alternatives.join("|")))
}

/// The integers of `op value` (`<`, `<=`, `>`, `>=`) within 64 bits.
pub fn compare_ranges(op: crate::ir::Ordering, value: i64) -> IntRanges {
    use crate::ir::Ordering::*;
    let range = match op {
        Lt => value.checked_sub(1).map(|v| (i64::MIN, v)),
        Le => Some((i64::MIN, value)),
        Gt => value.checked_add(1).map(|v| (v, i64::MAX)),
        Ge => Some((value, i64::MAX)),
    };
    range.into_iter().collect()
}

/// Every integer of 64 bits: the values the evaluator reads as numbers.
pub fn any_integer_regex() -> String {
    int_set_regex(&[(i64::MIN, i64::MAX)]).unwrap_or_default()
}

fn group(alternatives: &[String]) -> String {
    if alternatives.len() == 1 && !alternatives[0].contains('|') {
        alternatives[0].clone()
    } else {
        format!("(?:{})", alternatives.join("|"))
    }
}

/// Alternatives matching the canonical decimal spellings (no leading zero,
/// `0` itself) of `low..=high`.
fn unsigned_range(low: u128, high: u128) -> Vec<String> {
    let mut out = Vec::new();
    // Consecutive lengths taken whole (`[1-9][0-9]{k}`) become one `{k,m}`.
    let mut whole: Option<(u32, u32)> = None;
    let digits = |n: u128| n.to_string().len() as u32;
    for length in digits(low)..=digits(high) {
        let floor = if length == 1 {
            0
        } else {
            10u128.pow(length - 1)
        };
        let ceiling = 10u128.pow(length) - 1;
        let (a, b) = (low.max(floor), high.min(ceiling));
        if length > 1 && a == floor && b == ceiling {
            let rest = length - 1;
            whole = Some(whole.map_or((rest, rest), |(from, _)| (from, rest)));
            continue;
        }
        out.extend(whole.take().map(whole_lengths));
        if a <= b {
            out.push(same_length(
                a.to_string().as_bytes(),
                b.to_string().as_bytes(),
            ));
        }
    }
    out.extend(whole.map(whole_lengths));
    out
}

/// Every canonical number of `1 + from` to `1 + to` digits.
fn whole_lengths((from, to): (u32, u32)) -> String {
    if from == to {
        format!("[1-9]{}", any_digits(from as usize))
    } else {
        format!("[1-9][0-9]{{{from},{to}}}")
    }
}

/// A regex for the digit strings of one length between `low` and `high`.
fn same_length(low: &[u8], high: &[u8]) -> String {
    let (Some((&l, low_rest)), Some((&h, high_rest))) = (low.split_first(), high.split_first())
    else {
        return String::new();
    };
    if l == h {
        return format!(
            "{}{}",
            char::from(l),
            wrap(same_length(low_rest, high_rest))
        );
    }
    let rest = low_rest.len();
    let low_full = low_rest.iter().all(|&d| d == b'0');
    let high_full = high_rest.iter().all(|&d| d == b'9');
    let mut alternatives = Vec::new();
    let (mut from, mut to) = (l, h);
    if !low_full {
        let nines = vec![b'9'; rest];
        alternatives.push(format!(
            "{}{}",
            char::from(l),
            wrap(same_length(low_rest, &nines))
        ));
        from += 1;
    }
    if !high_full {
        to -= 1;
    }
    if from <= to {
        alternatives.push(format!("{}{}", digit_class(from, to), any_digits(rest)));
    }
    if !high_full {
        let zeros = vec![b'0'; rest];
        alternatives.push(format!(
            "{}{}",
            char::from(h),
            wrap(same_length(&zeros, high_rest))
        ));
    }
    alternatives.join("|")
}

fn wrap(regex: String) -> String {
    if regex.contains('|') {
        format!("(?:{regex})")
    } else {
        regex
    }
}

fn digit_class(from: u8, to: u8) -> String {
    match to - from {
        0 => char::from(from).to_string(),
        9 => "[0-9]".to_string(),
        _ => format!("[{}-{}]", char::from(from), char::from(to)),
    }
}

fn any_digits(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "[0-9]".to_string(),
        n => format!("[0-9]{{{n}}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ranges: &[(i64, i64)], samples: impl IntoIterator<Item = i64>) {
        let re = regex::Regex::new(&int_set_regex(ranges).unwrap()).unwrap();
        for n in samples {
            let inside = ranges.iter().any(|&(l, h)| l <= n && n <= h);
            for text in [n.to_string(), zero_padded(n)] {
                assert_eq!(re.is_match(&text), inside, "{ranges:?} on {text}");
            }
        }
    }

    fn zero_padded(n: i64) -> String {
        if n < 0 {
            format!("-00{}", n.unsigned_abs())
        } else {
            format!("00{n}")
        }
    }

    #[test]
    fn ranges_match_exactly_their_integers() {
        for ranges in [
            vec![(43, 43)],
            vec![(0, 0)],
            vec![(-5, 5)],
            vec![(1025, 65534)],
            vec![(33434, 33534)],
            vec![(-1200, -37), (400, 403), (998, 1011)],
            vec![(i64::MIN, -1)],
        ] {
            check(
                &ranges,
                (-1500..1500).chain(33400..33600).chain(65500..65600),
            );
        }
    }

    #[test]
    fn the_64_bit_limits_are_exact() {
        let re = regex::Regex::new(&any_integer_regex()).unwrap();
        for (text, number) in [
            ("9223372036854775807", true),
            ("9223372036854775808", false),
            ("-9223372036854775808", true),
            ("-9223372036854775809", false),
            ("0009223372036854775807", true),
            ("-0", true),
            ("12345678901234567890", false),
            ("", false),
            ("-", false),
            ("4e2", false),
            (" 1", false),
            ("1\n", false),
        ] {
            assert_eq!(re.is_match(text), number, "{text}");
        }
        let above = regex::Regex::new(
            &int_set_regex(&compare_ranges(
                crate::ir::Ordering::Gt,
                1_000_000_000_000_000,
            ))
            .unwrap(),
        )
        .unwrap();
        assert!(above.is_match("1000000000000001"));
        assert!(!above.is_match("1000000000000000"));
        assert!(above.is_match("9223372036854775807"));
        assert!(!above.is_match("99999999999999999999"));
        assert!(int_set_regex(&compare_ranges(crate::ir::Ordering::Gt, i64::MAX)).is_none());
    }
}
