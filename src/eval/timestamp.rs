//! `@timestamp` (language.md 1.4): RFC 3339 with `T`, `t` or a space,
//! seconds and an offset required, an optional fraction; or an epoch as a
//! number or numeric string, seconds below 100000000000 in absolute value
//! and milliseconds from there. Times are kept in nanoseconds since the
//! epoch; windows use the floor. Only years 0000 to 9999 are usable, the
//! range RFC 3339 (and so the alert output) can write.

use super::event::Value;

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub type Nanos = i128;

const NANOS: i128 = 1_000_000_000;
const MILLIS_FROM: i128 = 100_000_000_000;
/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in seconds.
const MIN_SECONDS: i128 = -62_167_219_200;
const END_SECONDS: i128 = 253_402_300_800;

/// The time a `@timestamp` value gives, if it is usable.
pub fn parse_value(value: &Value<'_>) -> Option<Nanos> {
    let nanos = match value {
        Value::Int(n) => epoch_integer(i128::from(*n)),
        Value::Float(f) => epoch_float(*f),
        Value::Str(s) => parse_text(s),
        _ => None,
    }?;
    (MIN_SECONDS * NANOS..END_SECONDS * NANOS)
        .contains(&nanos)
        .then_some(nanos)
}

fn parse_text(s: &str) -> Option<Nanos> {
    if s.as_bytes().get(4) == Some(&b'-') {
        rfc3339(s)
    } else {
        epoch_string(s)
    }
}

fn epoch_integer(whole: i128) -> Option<Nanos> {
    let unit = if whole.abs() >= MILLIS_FROM {
        1_000_000
    } else {
        NANOS
    };
    whole.checked_mul(unit)
}

fn epoch_float(f: f64) -> Option<Nanos> {
    if !f.is_finite() || f.abs() >= 1e18 {
        return None;
    }
    let seconds = if f.abs() >= 1e11 { f / 1000.0 } else { f };
    let whole = seconds.floor();
    let frac = ((seconds - whole) * 1e9).floor().clamp(0.0, 999_999_999.0);
    Some(whole as i128 * NANOS + frac as i128)
}

/// `-?[0-9]+(\.[0-9]+)?`.
fn epoch_string(s: &str) -> Option<Nanos> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((whole, frac)) => (whole, Some(frac)),
        None => (digits, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || whole.len() > 20 || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let unit = if whole >= MILLIS_FROM {
        1_000_000
    } else {
        NANOS
    };
    let kept = frac.map_or("", |f| &f[..f.len().min(12)]);
    let frac_units: i128 = if kept.is_empty() {
        0
    } else {
        kept.parse().ok()?
    };
    let scale = 10i128.pow(kept.len() as u32);
    let magnitude = whole.checked_mul(unit)? + frac_units * unit / scale;
    Some(if negative { -magnitude } else { magnitude })
}

/// The digits of `s` in `range` (at least one, all ASCII digits) as a
/// number; the ranges are short, so no overflow.
fn number(s: &str, range: std::ops::Range<usize>) -> Option<i128> {
    let part = s.as_bytes().get(range)?;
    if part.is_empty() {
        return None;
    }
    // Callers read at most nine digits: an i64 holds them (and is much
    // cheaper than an i128).
    if part.len() > 18 {
        return part.iter().try_fold(0i128, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i128::from(b - b'0'))
        });
    }
    let n = part.iter().try_fold(0i64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })?;
    Some(i128::from(n))
}

/// `YYYY-MM-DD(T|t| )HH:MM:SS(.f+)?(Z|z|±HH:MM)`.
fn rfc3339(s: &str) -> Option<Nanos> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (number(s, 0..4)?, number(s, 5..7)?, number(s, 8..10)?);
    let (hour, minute, second) = (number(s, 11..13)?, number(s, 14..16)?, number(s, 17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac_nanos = 0;
    if let Some(tail) = rest.strip_prefix('.') {
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = digits.min(9);
        frac_nanos = number(tail, 0..kept)? * i128::from(10i64.pow(9 - kept as u32));
        rest = &tail[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (h, m) = (number(rest, 1..3)?, number(rest, 4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(seconds * NANOS + frac_nanos)
}

fn is_leap(year: i128) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i128, month: i128) -> i128 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i128, month: i128, day: i128) -> i128 {
    // Years of four digits (and their months and days) fit an i64, whose
    // division is much cheaper than an i128's.
    if let (Ok(year), Ok(month), Ok(day)) = (
        i64::try_from(year),
        i64::try_from(month),
        i64::try_from(day),
    ) && year.abs() < 1_000_000
        && (0..=12).contains(&month)
        && (0..=31).contains(&day)
    {
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return i128::from(era * 146_097 + doe - 719_468);
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// In 64-bit arithmetic: 128-bit division is a library call, and this
/// runs for every alert's times.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The time at a whole number of seconds.
pub fn from_seconds(seconds: i128) -> Nanos {
    seconds * NANOS
}

/// Whole seconds (the floor) of a time.
pub fn seconds(nanos: Nanos) -> i128 {
    nanos.div_euclid(NANOS)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, plus the fraction when there is one.
pub fn format_seconds(seconds: i128) -> String {
    format_nanos(seconds * NANOS)
}

pub fn format_nanos(nanos: Nanos) -> String {
    let secs = nanos.div_euclid(NANOS);
    let frac = u32::try_from(nanos.rem_euclid(NANOS)).unwrap_or(0);
    // Beyond any time an event or a window can carry (about 10^16 years),
    // the day saturates rather than fail.
    let days = i64::try_from(secs.div_euclid(86_400)).unwrap_or(if secs < 0 {
        i64::MIN / 2
    } else {
        i64::MAX / 2
    });
    let rem = u32::try_from(secs.rem_euclid(86_400)).unwrap_or(0);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(32);
    match u32::try_from(year) {
        Ok(year) if year <= 9999 => push_digits(&mut out, year, 4),
        _ => out.push_str(&format!("{year:04}")),
    }
    for (separator, value) in [
        ('-', month as u32),
        ('-', day as u32),
        ('T', rem / 3600),
        (':', rem % 3600 / 60),
        (':', rem % 60),
    ] {
        out.push(separator);
        push_digits(&mut out, value, 2);
    }
    if frac != 0 {
        out.push('.');
        push_digits(&mut out, frac, 9);
        out.truncate(out.trim_end_matches('0').len());
    }
    out.push('Z');
    out
}

/// `value` in decimal, zero-padded to `width` digits (`value` has at
/// most `width` digits).
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn times_are_written_as_rfc_3339_with_the_fraction_trimmed() {
        let rows: &[(Nanos, &str)] = &[
            (0, "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59.999999999Z"),
            (1_500_000_000, "1970-01-01T00:00:01.5Z"),
            (MIN_SECONDS * NANOS, "0000-01-01T00:00:00Z"),
            (END_SECONDS * NANOS - 1, "9999-12-31T23:59:59.999999999Z"),
            (END_SECONDS * NANOS, "10000-01-01T00:00:00Z"),
            (MIN_SECONDS * NANOS - 86_400 * NANOS, "-001-12-31T00:00:00Z"),
            (951_782_400 * NANOS, "2000-02-29T00:00:00Z"),
        ];
        for &(nanos, text) in rows {
            assert_eq!(format_nanos(nanos), text, "{nanos}");
        }
        // Far beyond any event's time: no panic.
        assert!(format_nanos(i128::MAX).ends_with('Z'));
        assert!(format_nanos(i128::MIN).ends_with('Z'));
    }

    proptest! {
        /// Every time an event can carry reads back as itself.
        #[test]
        fn written_times_read_back(nanos in MIN_SECONDS * NANOS..END_SECONDS * NANOS) {
            let text = format_nanos(nanos);
            prop_assert_eq!(parse_value(&Value::Str(text.clone().into())), Some(nanos), "{}", text);
        }
    }
}
