//! `in cidr`: a value is an address only as `IpAddr::from_str` reads one; an
//! IPv4-mapped IPv6 address is compared as IPv4 against IPv4 blocks and as
//! written against IPv6 blocks.

use std::net::IpAddr;

use crate::ir::IpBlock;

/// The blocks of one `in cidr`, split by family as masked integers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CidrSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl CidrSet {
    pub fn new(blocks: &[IpBlock]) -> CidrSet {
        let mut set = CidrSet::default();
        for block in blocks {
            match block.network {
                IpAddr::V4(net) => {
                    let mask = u32::MAX
                        .checked_shl(32 - u32::from(block.prefix.min(32)))
                        .unwrap_or(0);
                    set.v4.push((u32::from(net) & mask, mask));
                }
                IpAddr::V6(net) => {
                    let mask = u128::MAX
                        .checked_shl(128 - u32::from(block.prefix.min(128)))
                        .unwrap_or(0);
                    set.v6.push((u128::from(net) & mask, mask));
                }
            }
        }
        set
    }

    /// Whether `text` parses as an address inside one of the blocks.
    pub fn contains_text(&self, text: &str) -> bool {
        text.parse::<IpAddr>().is_ok_and(|addr| self.contains(addr))
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.contains_v4(u32::from(a)),
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                self.v6.iter().any(|&(net, mask)| bits & mask == net)
                    || a.to_ipv4_mapped()
                        .is_some_and(|v4| self.contains_v4(u32::from(v4)))
            }
        }
    }

    fn contains_v4(&self, bits: u32) -> bool {
        self.v4.iter().any(|&(net, mask)| bits & mask == net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(blocks: &[(&str, u8)]) -> CidrSet {
        let blocks: Vec<IpBlock> = blocks
            .iter()
            .filter_map(|(net, prefix)| {
                Some(IpBlock {
                    network: net.parse().ok()?,
                    prefix: *prefix,
                })
            })
            .collect();
        CidrSet::new(&blocks)
    }

    #[test]
    fn ipv4_ipv6_and_mapped_addresses() {
        let internal = set(&[("10.0.0.0", 8), ("fc00::", 7), ("0.0.0.0", 0)]);
        let ten = set(&[("10.0.0.0", 8)]);
        let mapped_block = set(&[("::ffff:0:0", 96)]);
        let v6_only = set(&[("2001:db8::", 32)]);
        let cases = [
            (&ten, "10.1.2.3", true),
            (&ten, "11.1.2.3", false),
            (&ten, "::ffff:10.1.2.3", true),
            (&ten, "::FFFF:10.1.2.3", true),
            (&ten, "::10.1.2.3", false), // IPv4-compatible, not mapped
            (&ten, "010.1.2.3", false),  // leading zeros: not an address
            (&ten, " 10.1.2.3", false),
            (&ten, "10.1.2.3:80", false),
            (&ten, "10.1.2", false),
            (&ten, "-", false),
            (&ten, "", false),
            (&mapped_block, "::ffff:10.1.2.3", true),
            (&mapped_block, "10.1.2.3", false),
            (&v6_only, "2001:DB8::1", true),
            (&v6_only, "2001:db9::1", false),
            (&v6_only, "[2001:db8::1]", false),
            (&v6_only, "fe80::1%eth0", false),
            (&internal, "fd12::1", true),
            (&internal, "203.0.113.9", true),
            (&internal, "2001:db8::1", false),
        ];
        for (set, value, expected) in cases {
            assert_eq!(set.contains_text(value), expected, "{value}");
        }
    }
}
