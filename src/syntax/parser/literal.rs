//! Literal tokens: strings (with escapes), raw strings, integers, durations
//! and ATT&CK technique ids. A bad escape, an integer out of range or a bad
//! duration is reported and the token still read, since its extent is clear;
//! an unterminated string ends the parse (it runs to the end of the input).

use super::error::{PError, PResult};
use super::{Ctx, Span, Spanned};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{Duration, StringLit};

const ESCAPES_HELP: &str = "the escapes are `\\\"` `\\\\` `\\n` `\\t` `\\r` and `\\u{...}`; \
                            write `\\\\` for a backslash, or use a raw string `r\"...\"`";

/// The number of `#` of a raw string starting `rest` (`r"`, `r#"`, ...).
pub(super) fn raw_string_start(rest: &str) -> Option<usize> {
    let after_r = rest.strip_prefix('r')?;
    let hashes = after_r.bytes().take_while(|b| *b == b'#').count();
    after_r[hashes..].starts_with('"').then_some(hashes)
}

/// Whether a string literal (plain or raw) starts `rest`.
pub(super) fn starts_string(rest: &str) -> bool {
    rest.starts_with('"') || raw_string_start(rest).is_some()
}

/// Length of the string token starting `rest` (to the end of the input when
/// unterminated), or None when no string starts there.
pub(super) fn string_token_len(rest: &str) -> Option<usize> {
    if let Some(body) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some(i + 2),
                _ => {}
            }
        }
        return Some(rest.len());
    }
    let hashes = raw_string_start(rest)?;
    let body = &rest[hashes + 2..];
    let close = format!("\"{}", "#".repeat(hashes));
    Some(
        body.find(&close)
            .map_or(rest.len(), |i| hashes + 2 + i + close.len()),
    )
}

/// The token of a number-like word starting `rest`: `-`, a digit, then word
/// characters and `.`-joined word parts (`443`, `5m`, `1h30m`, `443.0`).
pub(super) fn number_token(rest: &str) -> Option<&str> {
    let digits_from = usize::from(rest.starts_with('-'));
    if !rest[digits_from..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut end = digits_from;
    loop {
        end += rest[end..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let after = &rest[end..];
        if after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
            end += 1;
        } else {
            return Some(&rest[..end]);
        }
    }
}

impl<'a> Ctx<'a> {
    /// A string literal, plain or raw; span includes the quotes.
    pub(super) fn string_lit(&self, input: &'a str) -> PResult<'a, Spanned<StringLit>> {
        let start = self.ws(input);
        let (rest, lit) = if start.starts_with('"') {
            self.plain_string(start)?
        } else if let Some(hashes) = raw_string_start(start) {
            self.raw_string(start, hashes)?
        } else {
            return Err(nom::Err::Error(PError::expected(start, "a string")));
        };
        Ok((rest, Spanned::new(lit, self.span(start, rest))))
    }

    fn unterminated(&self, start: &'a str) -> nom::Err<PError> {
        let at = self.offset(start);
        let what = if start.starts_with('r') {
            "raw string"
        } else {
            "string"
        };
        nom::Err::Failure(PError::done(
            start,
            Diagnostic::error(
                codes::UNTERMINATED_STRING,
                self.file,
                Span::new(at, at + 1),
                format!("unterminated {what}"),
            )
            .with_label(format!("this {what} is never closed"))
            .with_help(if start.starts_with('r') {
                "close it with `\"` followed by as many `#` as it opened with"
            } else {
                "close it with `\"`"
            }),
        ))
    }

    fn raw_string(&self, start: &'a str, hashes: usize) -> PResult<'a, StringLit> {
        let body = &start[hashes + 2..];
        let close = format!("\"{}", "#".repeat(hashes));
        let Some(end) = body.find(&close) else {
            return Err(self.unterminated(start));
        };
        let value = body[..end].to_string();
        Ok((&body[end + close.len()..], StringLit { value, raw: true }))
    }

    /// `"..."`: copies runs of plain text, resolves escapes one by one.
    fn plain_string(&self, start: &'a str) -> PResult<'a, StringLit> {
        let mut rest = &start[1..];
        let mut value = String::new();
        loop {
            // memchr: descriptions and playbooks are long, and this is most
            // of a large pack's parse.
            let Some(i) = memchr::memchr2(b'"', b'\\', rest.as_bytes()) else {
                return Err(self.unterminated(start));
            };
            value.push_str(&rest[..i]);
            if rest[i..].starts_with('"') {
                return Ok((&rest[i + 1..], StringLit { value, raw: false }));
            }
            rest = self
                .escape(&rest[i..], &mut value)
                .ok_or_else(|| self.unterminated(start))?;
        }
    }

    /// One escape at `rest` (which starts with `\`); None at the end of input.
    fn escape(&self, rest: &'a str, value: &mut String) -> Option<&'a str> {
        let mut chars = rest[1..].chars();
        let c = chars.next()?;
        let simple = match c {
            '"' => Some('"'),
            '\\' => Some('\\'),
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            _ => None,
        };
        if let Some(resolved) = simple {
            value.push(resolved);
            return Some(chars.as_str());
        }
        if c == 'u' {
            return Some(self.unicode_escape(rest, value));
        }
        let len = 1 + c.len_utf8();
        let at = self.offset(rest);
        self.report(
            Diagnostic::error(
                codes::INVALID_ESCAPE,
                self.file,
                Span::new(at, at + len),
                format!("unknown escape `{}` in a string", &rest[..len]),
            )
            .with_label("unknown escape")
            .with_help(ESCAPES_HELP),
        );
        value.push_str(&rest[..len]);
        Some(&rest[len..])
    }

    /// `\u{1F600}`: 1 to 6 hex digits naming a Unicode scalar value.
    fn unicode_escape(&self, rest: &'a str, value: &mut String) -> &'a str {
        let after_u = &rest[2..];
        let (len, resolved) = match after_u.strip_prefix('{') {
            Some(inner) => {
                let digits = inner.bytes().take_while(u8::is_ascii_hexdigit).count();
                let closed = inner[digits..].starts_with('}');
                let resolved = (closed && (1..=6).contains(&digits))
                    .then(|| u32::from_str_radix(&inner[..digits], 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                (3 + digits + usize::from(closed), resolved)
            }
            None => (2, None),
        };
        if let Some(c) = resolved {
            value.push(c);
        } else {
            let at = self.offset(rest);
            self.report(
                Diagnostic::error(
                    codes::INVALID_UNICODE_ESCAPE,
                    self.file,
                    Span::new(at, at + len),
                    format!("invalid unicode escape `{}`", &rest[..len]),
                )
                .with_label("not a Unicode scalar value in `\\u{...}` form")
                .with_help(
                    "write `\\u{...}` with 1 to 6 hex digits naming a Unicode scalar value \
                     (at most 10FFFF, not a surrogate), e.g. `\\u{e9}`",
                ),
            );
            value.push_str(&rest[..len]);
        }
        &rest[len..]
    }

    /// An integer: optional `-`, decimal digits (leading zeros allowed).
    pub(super) fn integer(&self, input: &'a str) -> PResult<'a, Spanned<i64>> {
        let start = self.ws(input);
        let Some(token) = number_token(start) else {
            return Err(nom::Err::Error(PError::expected(start, "an integer")));
        };
        let span = Span::new(self.offset(start), self.offset(start) + token.len());
        let rest = &start[token.len()..];
        let digits = token.strip_prefix('-').unwrap_or(token);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            let diagnostic = Diagnostic::error(
                codes::UNEXPECTED_TOKEN,
                self.file,
                span,
                format!("expected an integer, found `{token}`"),
            )
            .with_label("not an integer")
            .with_help("numbers are whole decimal integers such as `443` or `-5`");
            return Err(nom::Err::Error(PError::done(start, diagnostic)));
        }
        let value = token.parse::<i64>().unwrap_or_else(|_| {
            self.made_up(span);
            self.report(
                Diagnostic::error(
                    codes::INTEGER_OUT_OF_RANGE,
                    self.file,
                    span,
                    format!("integer `{token}` is out of the 64-bit range"),
                )
                .with_label("too large")
                .with_help("integers go from -9223372036854775808 to 9223372036854775807"),
            );
            0
        });
        Ok((rest, Spanned::new(value, span)))
    }

    /// A duration: a positive integer and one unit, `s`, `m`, `h` or `d`.
    pub(super) fn duration(&self, input: &'a str) -> PResult<'a, Spanned<Duration>> {
        let start = self.ws(input);
        let Some(token) = number_token(start) else {
            return Err(nom::Err::Error(PError::expected(
                start,
                "a duration like `5m`",
            )));
        };
        let at = self.offset(start);
        let span = Span::new(at, at + token.len());
        let seconds = duration_seconds(token).unwrap_or_else(|help| {
            self.made_up(span);
            let diagnostic = Diagnostic::error(
                codes::INVALID_DURATION,
                self.file,
                span,
                format!("expected a duration like `5m`, found `{token}`"),
            )
            .with_label("not a duration");
            self.report(match respelt_duration(token) {
                Some(meant) => diagnostic
                    .with_help(format!("{help}: write `{meant}`"))
                    .with_fix(crate::diag::Fix::safe(
                        format!("write `{meant}`"),
                        span,
                        meant,
                    )),
                None => diagnostic.with_help(help),
            });
            0
        });
        Ok((
            &start[token.len()..],
            Spanned::new(Duration { seconds }, span),
        ))
    }

    /// `T1590` or `T1590.002`, read only where the grammar expects one.
    pub(super) fn technique(&self, input: &'a str) -> PResult<'a, Spanned<String>> {
        let start = self.ws(input);
        let len = super::error::token_len(start);
        let token = start.get(..len).unwrap_or("");
        if !is_technique(token) {
            return Err(nom::Err::Error(PError::expected(
                start,
                "a technique id like `T1590` or `T1590.002`",
            )));
        }
        let rest = &start[len..];
        Ok((
            rest,
            Spanned::new(token.to_string(), self.span(start, rest)),
        ))
    }
}

fn is_technique(token: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some(id) = token.strip_prefix('T') else {
        return false;
    };
    match id.split_once('.') {
        Some((main, sub)) => digits(main, 4) && digits(sub, 3),
        None => digits(id, 4),
    }
}

/// The seconds of a duration token, or the help line saying what is wrong.
/// The duration a malformed token plainly means, in this language's
/// spelling: other names of the units (`10min`, `2hours`, `1w`) and
/// several parts (`1h30m`) become one number with the largest whole unit
/// (`10m`, `2h`, `7d`, `90m`). None when it is not that plain.
fn respelt_duration(token: &str) -> Option<String> {
    let mut seconds: u64 = 0;
    let mut rest = token;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let letters = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let (number, unit) = (&rest[..digits], &rest[digits..digits + letters]);
        let size: u64 = match unit.to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "wk" | "week" | "weeks" => 7 * 86_400,
            _ => return None,
        };
        let part = number.parse::<u64>().ok()?.checked_mul(size)?;
        seconds = seconds.checked_add(part)?;
        rest = &rest[digits + letters..];
    }
    if seconds == 0 {
        return None;
    }
    let (size, unit) = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        .into_iter()
        .find(|(size, _)| seconds.is_multiple_of(*size))?;
    let meant = format!("{}{unit}", seconds / size);
    (meant != token).then_some(meant)
}

pub(crate) fn duration_seconds(token: &str) -> Result<u64, &'static str> {
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    let unit = match &token[digits..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" if digits > 0 => return Err("add a unit: `s`, `m`, `h` or `d` (`30s`, `5m`)"),
        _ if token.starts_with('-') => return Err("a duration is positive"),
        unit if digits > 0 && unit.bytes().all(|b| b.is_ascii_alphabetic()) => {
            return Err("the units are `s` (seconds), `m` (minutes), `h` (hours) and `d` (days)");
        }
        _ => return Err("a duration is one number with one unit, such as `90m`"),
    };
    let count: u64 = token[..digits]
        .parse()
        .map_err(|_| "this duration is too long")?;
    match count.checked_mul(unit) {
        Some(0) => Err("a duration is positive: `0` is not allowed"),
        Some(seconds) => Ok(seconds),
        None => Err("this duration is too long"),
    }
}

#[cfg(test)]
mod tests {
    use super::respelt_duration;

    #[test]
    fn plain_misspellings_of_durations_are_respelt() {
        assert_eq!(respelt_duration("10min").as_deref(), Some("10m"));
        assert_eq!(respelt_duration("1h30m").as_deref(), Some("90m"));
        assert_eq!(respelt_duration("2hours").as_deref(), Some("2h"));
        assert_eq!(respelt_duration("1w").as_deref(), Some("7d"));
        assert_eq!(respelt_duration("120s").as_deref(), Some("2m"));
        assert_eq!(
            respelt_duration("10ms"),
            None,
            "milliseconds have no spelling"
        );
        assert_eq!(respelt_duration("0m"), None);
        assert_eq!(respelt_duration("-5m"), None);
        assert_eq!(respelt_duration("5m"), None);
    }
}
