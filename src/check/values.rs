//! Checks of single literal values that need no context: rule ids (UUIDs),
//! calendar dates, CIDR blocks, glob escapes and test `@timestamp` values.
//! Each is a plain function on text, so the rules of language.md 1.1–1.4
//! are testable without a parsed file.

use std::net::IpAddr;
use std::str::FromStr;

use crate::ir::IpBlock;

/// Whether `text` is a UUID written 8-4-4-4-12 in hexadecimal digits of
/// either case (any version; no braces, no 32-digit form).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `text` is a real calendar day written `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    parse_date(text.as_bytes()).is_some()
}

/// `(year, month, day)` of `YYYY-MM-DD`, when it names a real day.
fn parse_date(bytes: &[u8]) -> Option<(u32, u32, u32)> {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&bytes[0..4])?;
    let month = digits(&bytes[5..7])?;
    let day = digits(&bytes[8..10])?;
    let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    valid.then_some((year, month, day))
}

/// The value of a run of ASCII digits (never empty).
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A CIDR block as written, with whether its host bits were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The canonical block (host bits cleared).
    pub block: IpBlock,
    /// The written block had host bits set (`192.168.1.1/16`).
    pub host_bits: bool,
}

/// Reads `ADDRESS/PREFIX` or a bare address (`/32`, `/128`). Addresses are
/// read as Rust's `IpAddr::from_str` reads them. The error says what is wrong.
pub fn parse_cidr(text: &str) -> Result<Cidr, String> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    let address = IpAddr::from_str(address)
        .map_err(|_| format!("`{address}` is not an IPv4 or IPv6 address"))?;
    let max: u8 = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(prefix) => digits(prefix.as_bytes())
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("`/{prefix}` is not a prefix length from 0 to {max}"))?,
    };
    let network = mask(address, prefix);
    Ok(Cidr {
        block: IpBlock { network, prefix },
        host_bits: network != address,
    })
}

/// `address` with the bits after `prefix` cleared.
fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(a) => {
            let bits = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & bits).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & bits).into())
        }
    }
}

/// A glob's backslash must precede `*`, `?` or `\`. The error describes the
/// first bad escape.
pub fn check_glob(glob: &str) -> Result<(), String> {
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('*' | '?' | '\\') => {}
                Some(other) => {
                    return Err(format!(
                        "`\\{other}` is not a glob escape: a backslash may only precede `*`, `?` or `\\`"
                    ));
                }
                None => return Err("the glob ends with a lone backslash".to_string()),
            }
        }
    }
    Ok(())
}

/// Whether a string is a usable `@timestamp`: RFC 3339 (`T`, `t` or a space
/// between date and time, seconds and an offset required, optional fraction)
/// or an epoch number written as a numeric string (a fraction allowed).
pub fn is_usable_timestamp(text: &str) -> bool {
    is_epoch_text(text) || is_rfc3339(text)
}

fn is_epoch_text(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || parse_date(&bytes[..10]).is_none() {
        return false;
    }
    let time = &bytes[11..];
    let clock_ok = matches!(bytes[10], b'T' | b't' | b' ')
        && time[2] == b':'
        && time[5] == b':'
        && digits(&time[0..2]).is_some_and(|h| h <= 23)
        && digits(&time[3..5]).is_some_and(|m| m <= 59)
        && digits(&time[6..8]).is_some_and(|s| s <= 60);
    if !clock_ok {
        return false;
    }
    let mut rest = &time[8..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            digits(&[*h1, *h2]).is_some_and(|h| h <= 23)
                && digits(&[*m1, *m2]).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_take_either_case_and_any_version() {
        assert!(is_uuid("8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11"));
        assert!(is_uuid("8C2F6F0E-4A4E-1C55-9A0C-5D1F0E2B7A11"));
        for bad in [
            "",
            "{8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11}",
            "8c2f6f0e4a4e4c559a0c5d1f0e2b7a11",
            "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a1g",
            "8c2f6f0e-4a4e-4c55-9a0c5-d1f0e2b7a11",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn dates_are_real_calendar_days() {
        assert!(is_date("2024-02-29"));
        assert!(is_date("2000-02-29"));
        for bad in [
            "1900-02-29",
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-4-01",
            "26-04-01",
            "2026-04-00",
            "2026-04-0x",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn cidr_blocks_are_canonicalised() {
        let cidr = parse_cidr("192.168.1.1/16").unwrap();
        assert!(cidr.host_bits);
        assert_eq!(cidr.block.to_string(), "192.168.0.0/16");
        let bare = parse_cidr("::1").unwrap();
        assert_eq!(
            (bare.block.to_string(), bare.host_bits),
            ("::1/128".into(), false)
        );
        assert_eq!(
            parse_cidr("10.0.0.0/0").unwrap().block.to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            parse_cidr("fc00::/7").unwrap().block.to_string(),
            "fc00::/7"
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "010.0.0.0/8",
            "10.0.0.0/+8",
            "10.0.0.0/",
            "fe80::1%eth0",
            "[::1]",
            "10.0.0.1:80",
            " 10.0.0.1",
            "::/129",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn glob_backslashes_escape_only_wildcards_and_themselves() {
        assert!(check_glob(r"*\*\?\\x").is_ok());
        assert!(check_glob(r"a\b").is_err());
        assert!(check_glob("a\\").is_err());
    }

    #[test]
    fn usable_timestamps() {
        for good in [
            "2026-11-22T10:00:00Z",
            "2026-11-22t10:00:00.123+01:00",
            "2026-11-22 10:00:00-05:30",
            "1700000000",
            "-5",
            "1700000000.25",
        ] {
            assert!(is_usable_timestamp(good), "{good}");
        }
        for bad in [
            "2026-11-22",
            "2026-11-22T10:00Z",
            "2026-11-22T10:00:00",
            "2026-11-22T25:00:00Z",
            "2026-11-22T10:00:00.Z",
            "1e9",
            "",
            "now",
        ] {
            assert!(!is_usable_timestamp(bad), "{bad}");
        }
    }
}
