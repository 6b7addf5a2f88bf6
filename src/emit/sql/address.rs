//! `in cidr` in SQL as integer range tests on the parsed address, the same
//! in both engines and with no address function (open-source Spark has
//! none; DuckDB's lives in an extension).
//!
//! The text is first recognised as an address exactly as Rust's
//! `IpAddr::from_str` reads one, by a strict pattern (the only regex the
//! target writes outside `matches` and `?` globs): four decimal octets
//! without leading zeros, or IPv6 groups with at most one `::` standing for
//! at least one group and an optional dotted tail. An IPv4 text is read as
//! one 32-bit number and tested against the IPv4 blocks only. An IPv6 text
//! becomes its eight 16-bit groups (`::` expanded, a dotted tail as two
//! groups); each IPv6 block is a test on the leading groups, and an
//! IPv4-mapped address (`::ffff:a.b.c.d`, in any spelling) is also tested
//! as IPv4 against the IPv4 blocks. Anything else is not inside.

use std::net::IpAddr;

use crate::ir::IpBlock;

use super::flavor::Flavor;

/// One decimal octet as Rust reads it (no leading zero, at most 255).
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const GROUP: &str = "[0-9A-Fa-f]{1,4}";

/// The test that `text` (a string expression) is an address inside one of
/// `blocks`: false, never null, also for a null `text`.
pub fn in_blocks(flavor: Flavor, text: &str, blocks: &[IpBlock]) -> String {
    let s = text;
    let v4: Vec<(u32, u32)> = blocks.iter().filter_map(v4_range).collect();
    let v6: Vec<(&IpBlock, u128)> = blocks
        .iter()
        .filter_map(|b| match b.network {
            IpAddr::V6(net) => Some((b, u128::from(net))),
            IpAddr::V4(_) => None,
        })
        .collect();
    let mut arms = Vec::new();
    if !v4.is_empty() {
        let value = v4_value(s);
        arms.push(format!(
            "WHEN {} THEN {}",
            flavor.regex_test(s, &v4_pattern()),
            ranges(&value, &v4)
        ));
    }
    let groups = "g";
    let mut tests = Vec::new();
    if !v4.is_empty() {
        let mut mapped: Vec<String> = (1..=5)
            .map(|n| format!("{} = 0", flavor.item(groups, n)))
            .collect();
        mapped.push(format!("{} = 65535", flavor.item(groups, 6)));
        let value = format!(
            "{} * 65536 + {}",
            flavor.item(groups, 7),
            flavor.item(groups, 8)
        );
        mapped.push(ranges(&value, &v4));
        tests.push(format!("({})", mapped.join(" AND ")));
    }
    for (block, net) in &v6 {
        tests.push(v6_test(flavor, groups, *net, block.prefix));
    }
    let full = flavor.item(
        &flavor.map(
            &flavor.list(&[full_groups(flavor, s)]),
            &format!("{groups} -> {}", tests.join(" OR ")),
        ),
        1,
    );
    arms.push(format!(
        "WHEN {} THEN {full}",
        flavor.regex_test(s, &v6_pattern())
    ));
    format!("CASE {} ELSE false END", arms.join(" "))
}

/// An IPv4 block as its masked first and last address.
fn v4_range(block: &IpBlock) -> Option<(u32, u32)> {
    let IpAddr::V4(net) = block.network else {
        return None;
    };
    let mask = u32::MAX
        .checked_shl(32 - u32::from(block.prefix.min(32)))
        .unwrap_or(0);
    let first = u32::from(net) & mask;
    Some((first, first | !mask))
}

/// `value` inside one of the ranges.
fn ranges(value: &str, ranges: &[(u32, u32)]) -> String {
    let tests: Vec<String> = ranges
        .iter()
        .map(|(lo, hi)| format!("{value} BETWEEN {lo} AND {hi}"))
        .collect();
    match tests.as_slice() {
        [one] => one.clone(),
        many => format!("({})", many.join(" OR ")),
    }
}

/// The 32-bit number of a checked dotted IPv4 text.
fn v4_value(s: &str) -> String {
    let octet = |n: usize| format!("try_cast(split_part({s}, '.', {n}) AS BIGINT)");
    format!(
        "({} * 16777216 + {} * 65536 + {} * 256 + {})",
        octet(1),
        octet(2),
        octet(3),
        octet(4)
    )
}

fn v4_pattern() -> String {
    format!(r"^{OCTET}\.{OCTET}\.{OCTET}\.{OCTET}\z")
}

/// Every IPv6 spelling Rust reads: eight groups, or six and a
/// dotted tail; with `::`, `h` groups before it and at most `7 - h` after
/// (a dotted tail counting two, never before `::`).
fn v6_pattern() -> String {
    let v4 = format!(r"{OCTET}\.{OCTET}\.{OCTET}\.{OCTET}");
    let head = |h: usize| match h {
        0 => String::new(),
        1 => GROUP.to_string(),
        h => format!("{GROUP}(?::{GROUP}){{{}}}", h - 1),
    };
    let mut alternatives = vec![
        format!("{GROUP}(?::{GROUP}){{7}}"),
        format!("(?:{GROUP}:){{6}}{v4}"),
    ];
    for h in 0..=7 {
        let rest = 7 - h;
        let tail = match rest {
            0 => String::new(),
            1 => format!("(?:{GROUP})?"),
            r => format!("(?:{GROUP}(?::{GROUP}){{0,{}}})?", r - 1),
        };
        alternatives.push(format!("{}::{tail}", head(h)));
        if rest >= 2 {
            let before = match rest - 2 {
                0 => String::new(),
                r => format!("(?:{GROUP}:){{0,{r}}}"),
            };
            alternatives.push(format!("{}::{before}{v4}", head(h)));
        }
    }
    format!(r"^(?:{})\z", alternatives.join("|"))
}

/// The eight groups of a checked IPv6 text `s`, as a list of integers.
fn full_groups(flavor: Flavor, s: &str) -> String {
    let head = groups_of(flavor, &format!("split_part({s}, '::', 1)"));
    let tail = groups_of(flavor, &format!("split_part({s}, '::', 2)"));
    let pair = flavor.list(&[head, tail]);
    let (h, t) = (flavor.item("q", 1), flavor.item("q", 2));
    let zeros = flavor.zeros(&format!("8 - {} - {}", flavor.len(&h), flavor.len(&t)));
    let joined = flavor.concat(&[h, zeros, t]);
    flavor.item(
        &flavor.map(&flavor.list(&[pair]), &format!("q -> {joined}")),
        1,
    )
}

/// The groups of a `:`-separated run without `::` (a dotted element as two).
fn groups_of(flavor: Flavor, part: &str) -> String {
    let octet = |n: usize| format!("try_cast(split_part(e, '.', {n}) AS BIGINT)");
    let dotted = flavor.list(&[
        format!("{} * 256 + {}", octet(1), octet(2)),
        format!("{} * 256 + {}", octet(3), octet(4)),
    ]);
    let hex = flavor.list(&[flavor.hex("e")]);
    format!(
        "flatten({})",
        flavor.map(
            &flavor.pieces(part, ":"),
            &format!("e -> CASE WHEN e LIKE '%.%' THEN {dotted} ELSE {hex} END")
        )
    )
}

/// An IPv6 block as tests on the groups `g` its prefix covers.
fn v6_test(flavor: Flavor, groups: &str, net: u128, prefix: u8) -> String {
    let prefix = u32::from(prefix.min(128));
    let mut tests = Vec::new();
    for n in 0..8u32 {
        let start = 16 * n;
        if prefix <= start {
            break;
        }
        let shift = 112 - start;
        let value = ((net >> shift) & 0xffff) as u32;
        let bits = (prefix - start).min(16);
        let mask = (0xffff_u32 << (16 - bits)) & 0xffff;
        let (lo, hi) = (value & mask, (value & mask) | (!mask & 0xffff));
        let item = flavor.item(groups, n as usize + 1);
        tests.push(if lo == hi {
            format!("{item} = {lo}")
        } else {
            format!("{item} BETWEEN {lo} AND {hi}")
        });
    }
    match tests.len() {
        0 => "true".to_string(),
        _ => format!("({})", tests.join(" AND ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(text: &str) -> u128 {
        text.parse::<std::net::Ipv6Addr>()
            .map(u128::from)
            .unwrap_or(0)
    }

    #[test]
    fn ipv6_blocks_test_the_groups_their_prefix_covers() {
        assert_eq!(
            v6_test(Flavor::DuckDb, "g", v6("fc00::"), 7),
            "(g[1] BETWEEN 64512 AND 65023)"
        );
        assert_eq!(
            v6_test(Flavor::Spark, "g", v6("2001:db8::"), 32),
            "(g[0] = 8193 AND g[1] = 3512)"
        );
        assert_eq!(v6_test(Flavor::Spark, "g", 0, 0), "true");
    }

    #[test]
    fn the_ipv6_pattern_reads_what_rust_reads() {
        let re = regex::Regex::new(&v6_pattern()).unwrap();
        for text in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::ffff:10.1.2.3",
            "0:0:0:0:0:ffff:10.1.2.3",
            "1:2:3:4:5:6:1.2.3.4",
            "1::2:3:4:5:6:7",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6:7::",
            "001:0db8::",
            "1.2.3.4",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8::",
            "::1.2.3.04",
            "::1.2.3",
            "1::2:3:4:5:6:7:8",
            "1.2.3.4::",
            "::00000",
            "fe80::1%1",
            "1:2:3:4:5:6::1.2.3.4",
            "[::1]",
            "::ffff:1.2.3.256",
            "::FFFF:A01:203",
            "0DB8::G",
        ] {
            assert_eq!(
                re.is_match(text),
                text.parse::<std::net::Ipv6Addr>().is_ok(),
                "{text}"
            );
        }
    }
}
