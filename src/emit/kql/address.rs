//! `in cidr` in KQL with Kusto's own range functions and no address regex.
//!
//! `coalesce(ipv4_is_in_any_range(x, V4), ipv6_is_in_any_range(x, V6), false)`:
//! the IPv4 function answers for IPv4 text and returns null for anything it
//! cannot convert (an IPv6 text, `""`), so the IPv6 function answers only
//! then; a plain IPv4 text is thus never tested against an IPv6 block (the
//! evaluator's rule), and `false` makes the test a real bool for every row.
//! V6 holds the rule's IPv6 blocks and each IPv4 block's IPv4-mapped twin
//! (`10.0.0.0/8` as `::ffff:a00:0/104`), so `::ffff:10.1.2.3` is inside
//! `10.0.0.0/8` as in the evaluator. Text Rust does not read as an address
//! is read as Kusto reads it (accepted difference 6).

use std::net::IpAddr;

use crate::ir::IpBlock;

use super::literal::kql_string;

/// The test that `text` (a string expression) is an address inside one of
/// `blocks`.
pub fn in_blocks(text: &str, blocks: &[IpBlock]) -> String {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for block in blocks {
        if block.network.is_ipv4() {
            v4.push(block.to_string());
        }
    }
    for block in blocks {
        match block.network {
            IpAddr::V4(net) => v6.push(mapped(net, 96 + u16::from(block.prefix))),
            // Rust writes a mapped network dotted (`::ffff:0.0.0.0`): keep to hex.
            IpAddr::V6(net) => match net.to_ipv4_mapped() {
                Some(v4) => v6.push(mapped(v4, u16::from(block.prefix))),
                None => v6.push(block.to_string()),
            },
        }
    }
    let v6_test = format!("ipv6_is_in_any_range({text}, {})", ranges(&v6));
    if v4.is_empty() {
        // Without IPv4 blocks only an IPv6 text can be inside; the family
        // test keeps a plain IPv4 text out of IPv6 blocks such as
        // `::ffff:0:0/96`, whatever Kusto makes of it.
        return format!("{text} contains \":\" and coalesce({v6_test}, false)");
    }
    format!(
        "coalesce(ipv4_is_in_any_range({text}, {}), {v6_test}, false)",
        ranges(&v4)
    )
}

/// An IPv4 network as its IPv4-mapped IPv6 twin, in hex (`::ffff:a00:0/104`).
fn mapped(net: std::net::Ipv4Addr, prefix: u16) -> String {
    let [a, b, c, d] = net.octets();
    let high = u16::from_be_bytes([a, b]);
    let low = u16::from_be_bytes([c, d]);
    format!("::ffff:{high:x}:{low:x}/{prefix}")
}

/// One range as a string, several as a `dynamic` array.
fn ranges(blocks: &[String]) -> String {
    let quoted: Vec<String> = blocks.iter().map(|b| kql_string(b)).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        many => format!("dynamic([{}])", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> IpBlock {
        let (network, prefix) = text.split_once('/').unwrap_or((text, "32"));
        IpBlock {
            network: network.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            prefix: prefix.parse().unwrap_or(0),
        }
    }

    #[test]
    fn ipv4_blocks_answer_first_and_their_mapped_twins_serve_ipv6_text() {
        assert_eq!(
            in_blocks("SrcIpAddr", &[block("10.0.0.0/8"), block("fc00::/7")]),
            r#"coalesce(ipv4_is_in_any_range(SrcIpAddr, "10.0.0.0/8"), ipv6_is_in_any_range(SrcIpAddr, dynamic(["::ffff:a00:0/104", "fc00::/7"])), false)"#
        );
    }

    #[test]
    fn ipv6_blocks_alone_need_an_ipv6_text() {
        assert_eq!(
            in_blocks("X", &[block("::ffff:0:0/96")]),
            r#"X contains ":" and coalesce(ipv6_is_in_any_range(X, "::ffff:0:0/96"), false)"#
        );
    }
}
