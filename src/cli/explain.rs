//! `tripline explain CODE`: the documentation of a diagnostic code, read
//! from `docs/errors.md` as built into the binary (the one text users read
//! online too), or the registry's title for a code that page lacks.

use crate::diag::codes::{ALL, Code};

/// The user documentation of every code, built in.
const ERRORS_MD: &str = include_str!("../../docs/errors.md");

pub fn run(code: &str) -> u8 {
    match explain(code) {
        Ok(text) => match super::write::print(&text) {
            Ok(()) => 0,
            Err(code) => code,
        },
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    }
}

/// The text for `code` (`E0300`, `e0300`, `w7`...), or why there is none.
pub fn explain(code: &str) -> Result<String, String> {
    let wanted = normalise(code);
    let Some(found) = ALL.iter().find(|c| c.id == wanted) else {
        let hint = crate::diag::nearest(&wanted, ALL.iter().map(|c| c.id))
            .map(|near| format!("; did you mean `{near}`?"))
            .unwrap_or_default();
        return Err(format!(
            "`{code}` is not a tripline diagnostic code (codes look like `E0300` or `W0007`){hint}"
        ));
    };
    Ok(section(found).unwrap_or_else(|| format!("{}: {}\n", found.id, found.title)))
}

/// `e300` → `E0300`: upper case, the number padded to four digits.
fn normalise(code: &str) -> String {
    let code = code.trim().to_ascii_uppercase();
    match code.split_at_checked(1) {
        Some((letter, digits))
            if !digits.is_empty()
                && digits.len() < 4
                && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{letter}{digits:0>4}")
        }
        _ => code,
    }
}

/// The `## CODE: title` section of docs/errors.md, heading without `## `.
fn section(code: &Code) -> Option<String> {
    let heading = format!("## {}:", code.id);
    let start = ERRORS_MD.find(&heading)? + 3;
    let rest = &ERRORS_MD[start..];
    let end = rest.find("\n## ").map_or(rest.len(), |at| at + 1);
    Some(format!("{}\n", rest[..end].trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_section() {
        for code in ALL {
            let text = explain(code.id).unwrap_or_default();
            assert!(
                text.starts_with(&format!("{}: {}", code.id, code.title)),
                "{}: {text}",
                code.id
            );
            assert!(!text.contains("\n## "), "{} runs into the next", code.id);
        }
    }

    #[test]
    fn codes_are_read_loosely_and_unknown_ones_refused() {
        assert_eq!(normalise("e300"), "E0300");
        assert_eq!(normalise(" w7 "), "W0007");
        assert_eq!(normalise("E0300"), "E0300");
        let unknown = explain("E0399").err().unwrap_or_default();
        assert!(unknown.contains("did you mean"), "{unknown}");
        assert!(explain("hello").is_err());
    }
}
