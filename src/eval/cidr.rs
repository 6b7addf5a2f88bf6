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

/// Many `in cidr` sets on one field answered at once: the address line of
/// each family cut at every block's edges, each piece with the sets
/// (their owners' ids) that hold all of it; an address is looked up once.
#[derive(Debug, Clone, Default)]
pub struct CidrTable {
    v4: Pieces<u32>,
    v6: Pieces<u128>,
}

/// Sorted starts of the pieces and, per piece, the owners covering it.
#[derive(Debug, Clone)]
struct Pieces<T> {
    starts: Vec<T>,
    owners: Vec<Vec<u32>>,
}

impl<T> Default for Pieces<T> {
    fn default() -> Self {
        Pieces {
            starts: Vec::new(),
            owners: Vec::new(),
        }
    }
}

impl CidrTable {
    /// The table of `sets`, each with its owner; `None` when the pieces
    /// would hold more than `limit` owner entries (nested blocks of many
    /// sets), where testing each set alone is cheaper than the table.
    pub fn new(sets: &[(u32, &CidrSet)], limit: usize) -> Option<CidrTable> {
        let v4 = sets.iter().flat_map(|(owner, set)| {
            set.v4
                .iter()
                .map(move |&(net, mask)| (*owner, net, net | !mask))
        });
        let v6 = sets.iter().flat_map(|(owner, set)| {
            set.v6
                .iter()
                .map(move |&(net, mask)| (*owner, net, net | !mask))
        });
        Some(CidrTable {
            v4: Pieces::new(v4.collect(), limit)?,
            v6: Pieces::new(v6.collect(), limit)?,
        })
    }

    /// Calls `hit` with the owner of each set holding `addr` (an owner may
    /// come twice), as `CidrSet::contains` decides for each set.
    pub fn hits(&self, addr: IpAddr, hit: &mut dyn FnMut(u32)) {
        match addr {
            IpAddr::V4(a) => self.v4.hits(u32::from(a), hit),
            IpAddr::V6(a) => {
                self.v6.hits(u128::from(a), hit);
                if let Some(v4) = a.to_ipv4_mapped() {
                    self.v4.hits(u32::from(v4), hit);
                }
            }
        }
    }
}

impl<T: Copy + Ord + Edge> Pieces<T> {
    /// Pieces of the ranges `(owner, first, last)` (inclusive).
    fn new(ranges: Vec<(u32, T, T)>, limit: usize) -> Option<Pieces<T>> {
        let mut starts: Vec<T> = ranges
            .iter()
            .flat_map(|&(_, first, last)| [Some(first), last.after()])
            .flatten()
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut owners: Vec<Vec<u32>> = vec![Vec::new(); starts.len()];
        let mut entries = 0usize;
        for &(owner, first, last) in &ranges {
            let from = starts.partition_point(|&s| s < first);
            let to = starts.partition_point(|&s| s <= last);
            for piece in owners.get_mut(from..to)? {
                if piece.last() != Some(&owner) {
                    piece.push(owner);
                    entries += 1;
                }
            }
            if entries > limit {
                return None;
            }
        }
        for piece in &mut owners {
            piece.sort_unstable();
            piece.dedup();
        }
        Some(Pieces { starts, owners })
    }

    fn hits(&self, addr: T, hit: &mut dyn FnMut(u32)) {
        let Some(piece) = self.starts.partition_point(|&s| s <= addr).checked_sub(1) else {
            return;
        };
        for &owner in self.owners.get(piece).into_iter().flatten() {
            hit(owner);
        }
    }
}

/// The address after the last of a range, if there is one.
trait Edge: Sized {
    fn after(self) -> Option<Self>;
}

impl Edge for u32 {
    fn after(self) -> Option<u32> {
        self.checked_add(1)
    }
}

impl Edge for u128 {
    fn after(self) -> Option<u128> {
        self.checked_add(1)
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

#[cfg(test)]
mod table_tests {
    use super::*;
    use proptest::prelude::*;

    /// Blocks and addresses drawn near each other: edges of blocks, the
    /// ends of both families, IPv4-mapped addresses.
    const NETS: &[&str] = &[
        "10.0.0.0",
        "10.0.0.128",
        "10.255.255.255",
        "0.0.0.0",
        "255.255.255.255",
        "::",
        "::ffff:10.0.0.0",
        "2001:db8::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ];
    const ADDRS: &[&str] = &[
        "10.0.0.0",
        "10.0.0.127",
        "10.0.0.128",
        "10.0.0.255",
        "10.0.1.0",
        "9.255.255.255",
        "0.0.0.0",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:10.0.0.200",
        "::ffff:11.0.0.1",
        "2001:db8::1",
        "2001:db9::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ];

    fn block() -> impl Strategy<Value = IpBlock> {
        (prop::sample::select(NETS), 0u8..=128).prop_filter_map("prefix", |(net, prefix)| {
            let network: IpAddr = net.parse().ok()?;
            let prefix = if network.is_ipv4() {
                prefix % 33
            } else {
                prefix
            };
            Some(IpBlock { network, prefix })
        })
    }

    proptest! {
        #[test]
        fn the_table_finds_the_sets_each_set_holds(
            sets in prop::collection::vec(prop::collection::vec(block(), 0..4), 1..8),
        ) {
            let sets: Vec<CidrSet> = sets.iter().map(|blocks| CidrSet::new(blocks)).collect();
            let owned: Vec<(u32, &CidrSet)> = (0u32..).zip(&sets).collect();
            let table = CidrTable::new(&owned, usize::MAX);
            prop_assert!(table.is_some());
            let table = table.unwrap_or_default();
            for addr in ADDRS {
                let addr: IpAddr = addr.parse().map_err(|_| TestCaseError::fail("address"))?;
                let mut found = Vec::new();
                table.hits(addr, &mut |owner| found.push(owner));
                found.sort_unstable();
                found.dedup();
                let expected: Vec<u32> = (0u32..).zip(&sets).filter(|(_, s)| s.contains(addr)).map(|(i, _)| i).collect();
                prop_assert_eq!(found, expected, "{}", addr);
            }
        }
    }

    #[test]
    fn a_table_past_its_limit_is_not_built() {
        let everything = CidrSet::new(&[IpBlock {
            network: "0.0.0.0".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            prefix: 0,
        }]);
        let sets: Vec<(u32, &CidrSet)> = (0..10).map(|i| (i, &everything)).collect();
        assert!(CidrTable::new(&sets, 5).is_none());
        assert!(CidrTable::new(&sets, 100).is_some());
    }
}
