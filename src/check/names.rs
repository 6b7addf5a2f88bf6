//! Pack-wide names: the first declaration of each rule name, list name and
//! rule id, so that a later duplicate is reported at itself with a
//! secondary label on the first (possibly in another file).

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::source::FileId;
use crate::syntax::Span;

/// Where a name was first declared, and whether that item failed to parse.
#[derive(Debug, Clone, Copy)]
struct First {
    file: FileId,
    span: Span,
    broken: bool,
}

/// First declarations of one namespace.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    first: HashMap<String, First>,
}

/// What `claim` found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The first declaration of the key.
    New,
    /// A later declaration; the diagnostic (if any) is for the caller to emit.
    /// An item that failed to parse, on either side, draws no diagnostic:
    /// its parse error is already out.
    Duplicate(Option<Box<Diagnostic>>),
}

impl Registry {
    /// Records a declaration of `key`, or reports it as a duplicate with `code`.
    pub fn claim(
        &mut self,
        key: &str,
        (file, span): (FileId, Span),
        broken: bool,
        code: Code,
        message: impl FnOnce() -> String,
    ) -> Claim {
        match self.first.get(key) {
            None => {
                self.first
                    .insert(key.to_string(), First { file, span, broken });
                Claim::New
            }
            Some(first) if first.broken || broken => Claim::Duplicate(None),
            Some(first) => Claim::Duplicate(Some(Box::new(
                Diagnostic::error(code, file, span, message())
                    .with_label("declared again here")
                    .with_secondary(first.file, first.span, "first declared here"),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes;

    #[test]
    fn later_duplicates_point_back_at_the_first() {
        let mut names = Registry::default();
        let at = |file, start| (FileId(file), Span::new(start, start + 1));
        let msg = || "twice".to_string();
        assert_eq!(
            names.claim("a", at(0, 5), false, codes::DUPLICATE_RULE, msg),
            Claim::New
        );
        let Claim::Duplicate(Some(d)) =
            names.claim("a", at(1, 9), false, codes::DUPLICATE_RULE, msg)
        else {
            panic!("a duplicate is reported")
        };
        assert_eq!((d.primary.file, d.primary.span.start), (FileId(1), 9));
        assert_eq!(
            (d.secondary[0].file, d.secondary[0].span.start),
            (FileId(0), 5)
        );
        assert_eq!(
            names.claim("b", at(0, 1), true, codes::DUPLICATE_RULE, msg),
            Claim::New
        );
        assert_eq!(
            names.claim("b", at(0, 2), false, codes::DUPLICATE_RULE, msg),
            Claim::Duplicate(None)
        );
    }
}
