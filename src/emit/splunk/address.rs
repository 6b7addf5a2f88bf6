//! `in cidr`: the evaluator reads a value as an address only as Rust's
//! `IpAddr::from_str` does (no leading zeros in IPv4 octets, no zone, no
//! brackets), so the search first tests that exact syntax with a regex,
//! then asks `cidrmatch()` about the blocks of the value's family. An
//! IPv4 block is also tried against IPv4-mapped IPv6 values through its
//! `::ffff:0:0/96` twin, written in hexadecimal.

use std::net::IpAddr;

use crate::ir::IpBlock;

const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const GROUP: &str = "[0-9A-Fa-f]{1,4}";

/// The dotted-quad syntax Rust accepts, unanchored.
fn ipv4() -> String {
    format!("{OCTET}(?:\\.{OCTET}){{3}}")
}

/// An anchored PCRE for exactly the IPv4 syntax Rust accepts.
pub fn ipv4_regex() -> String {
    format!("^{}\\z", ipv4())
}

/// An anchored PCRE for exactly the IPv6 syntax Rust accepts: eight
/// groups, or fewer around one `::`, optionally ending in a dotted quad
/// that stands for the last two groups.
pub fn ipv6_regex() -> String {
    let v4 = ipv4();
    let mut alternatives = vec![
        format!("(?:{GROUP}:){{7}}{GROUP}"),
        format!("(?:{GROUP}:){{6}}{v4}"),
    ];
    for left in 0..=7usize {
        let right = 7 - left;
        let tail = match right {
            0 => String::new(),
            1 => format!("(?:{GROUP})?"),
            n => format!("(?:{GROUP}(?::{GROUP}){{0,{}}})?", n - 1),
        };
        alternatives.push(format!("{}::{tail}", head(left)));
    }
    for left in 0..=5usize {
        let right = 5 - left;
        let tail = match right {
            0 => String::new(),
            n => format!("(?:{GROUP}:){{0,{n}}}"),
        };
        alternatives.push(format!("{}::{tail}{v4}", head(left)));
    }
    format!("^(?:{})\\z", alternatives.join("|"))
}

fn head(groups: usize) -> String {
    match groups {
        0 => String::new(),
        1 => GROUP.to_string(),
        n => format!("(?:{GROUP}:){{{}}}{GROUP}", n - 1),
    }
}

/// The blocks `cidrmatch()` is given for IPv4 values and for IPv6 values.
pub fn split_blocks(blocks: &[IpBlock]) -> (Vec<String>, Vec<String>) {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for block in blocks {
        match block.network {
            IpAddr::V4(net) => {
                v4.push(block.to_string());
                let [a, b, c, d] = net.octets();
                v6.push(format!(
                    "0:0:0:0:0:ffff:{:x}:{:x}/{}",
                    u16::from_be_bytes([a, b]),
                    u16::from_be_bytes([c, d]),
                    u32::from(block.prefix) + 96
                ));
            }
            IpAddr::V6(net) => {
                let groups: Vec<String> = net.segments().iter().map(|g| format!("{g:x}")).collect();
                v6.push(format!("{}/{}", groups.join(":"), block.prefix));
            }
        }
    }
    (v4, v6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const SAMPLES: &[&str] = &[
        "10.1.2.3",
        "0.0.0.0",
        "255.255.255.255",
        "256.1.1.1",
        "010.1.2.3",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.04",
        " 1.2.3.4",
        "1.2.3.4\n",
        "::",
        "::1",
        "1::",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6::8",
        "1:2:3:4:5:6:7:8:9",
        "1::2::3",
        "::ffff:10.1.2.3",
        "::ffff:a01:203",
        "2001:DB8::1",
        "2001:db8:0:0:0:0:2:1",
        "fe80::1%eth0",
        "[::1]",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4",
        "1::1.2.3.4",
        "::ffff:010.1.2.3",
        "00001::",
        "0001::",
        ":1::",
        "1:",
        ":",
        "",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7",
        "1::2:3:4:5:6:7",
        "1:2:3:4:5:6:7::8",
    ];

    #[test]
    fn address_regexes_accept_what_rust_parses() {
        let v4 = regex::Regex::new(&ipv4_regex()).unwrap();
        let v6 = regex::Regex::new(&ipv6_regex()).unwrap();
        for sample in SAMPLES {
            assert_eq!(
                v4.is_match(sample),
                sample.parse::<Ipv4Addr>().is_ok(),
                "v4 {sample:?}"
            );
            assert_eq!(
                v6.is_match(sample),
                sample.parse::<Ipv6Addr>().is_ok(),
                "v6 {sample:?}"
            );
        }
    }

    #[test]
    fn ipv4_blocks_get_mapped_twins() {
        let blocks = [
            IpBlock {
                network: "10.0.0.0".parse().unwrap(),
                prefix: 8,
            },
            IpBlock {
                network: "2001:db8::".parse().unwrap(),
                prefix: 32,
            },
        ];
        let (v4, v6) = split_blocks(&blocks);
        assert_eq!(v4, ["10.0.0.0/8"]);
        assert_eq!(v6, ["0:0:0:0:0:ffff:a00:0/104", "2001:db8:0:0:0:0:0:0/32"]);
    }
}
