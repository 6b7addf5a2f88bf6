//! What checking one rule needs at hand: the pack-wide scope (taxonomy,
//! catalogue, lists), the rule's file and source, and the diagnostics found
//! so far. Field lookup lives here because every part of a rule resolves
//! fields the same way.

use crate::diag::{Code, Diagnostic, Fix, codes, nearest_sure};
use crate::ir::{self, FieldType};
use crate::source::{FileId, SourceMap};
use crate::syntax::{Span, Spanned};

use super::attack::Catalogue;
use super::lists::Lists;
use super::taxonomy::{Source, Taxonomy};

/// Pack-wide facts every rule is checked against.
pub(crate) struct Scope<'a> {
    pub map: &'a SourceMap,
    pub taxonomy: &'a Taxonomy,
    pub catalogue: &'a Catalogue,
    pub lists: &'a Lists<'a>,
    pub settings: &'a super::CheckSettings,
}

pub(crate) struct RuleCx<'a> {
    pub scope: &'a Scope<'a>,
    pub file: FileId,
    /// The rule's `from` source, when it names one of the taxonomy.
    pub source: Option<&'a Source>,
    /// The further sources of `from a, b, ...`: every field read must be in
    /// each with the same type.
    pub more_sources: Vec<&'a Source>,
    /// Fields the rule reads (`where`, `by`, `distinct`), for typo warnings
    /// on test events.
    pub read_fields: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> RuleCx<'a> {
    pub fn new(scope: &'a Scope<'a>, file: FileId) -> Self {
        RuleCx {
            scope,
            file,
            source: None,
            more_sources: Vec::new(),
            read_fields: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    pub fn error(&self, code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(code, self.file, span, message)
    }

    pub fn warning(&self, code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(code, self.file, span, message)
    }

    pub fn emit(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The source text of a span of the rule's file.
    pub fn text(&self, span: Span) -> &'a str {
        self.scope.map.get(self.file).slice(span)
    }

    /// Resolves a field of the rule's source (E0301 when unknown). Without a
    /// valid `from` nothing is reported: that error is already out.
    pub fn field(&mut self, path: &Spanned<String>) -> Option<ir::Field> {
        let source = self.source?;
        match source.field_type(path) {
            Some(ty) if !self.more_sources.is_empty() => self.in_every_source(path, source, ty),
            Some(ty) => Some(ir::Field {
                path: path.node.clone(),
                ty,
                span: path.span,
                cased: false,
            }),
            None => {
                let message = format!("unknown field `{}` in source `{}`", path.node, source.name);
                let mut diagnostic = self.error(codes::UNKNOWN_FIELD, path.span, message);
                diagnostic = match nearest_sure(path, source.field_names()) {
                    Some((near, sure)) => diagnostic
                        .with_help(format!("did you mean `{near}`?"))
                        .with_fix(Fix::one(sure, format!("use `{near}`"), path.span, near)),
                    None => diagnostic.with_help(format!(
                        "the fields of `{}` are {}",
                        source.name,
                        quoted_list(source.field_names())
                    )),
                };
                self.emit(diagnostic);
                None
            }
        }
    }

    /// A field of the first source, checked in the others: E0301 where one
    /// lacks it, E0423 where its type differs.
    fn in_every_source(
        &mut self,
        path: &Spanned<String>,
        first: &'a Source,
        ty: FieldType,
    ) -> Option<ir::Field> {
        let mut ok = true;
        for other in self.more_sources.clone() {
            let diagnostic = match other.field_type(path) {
                Some(other_ty) if other_ty == ty => continue,
                Some(other_ty) => self
                    .error(
                        codes::SOURCE_TYPE_MISMATCH,
                        path.span,
                        format!(
                            "`{}` is {} in source `{}` but {} in source `{}`",
                            path.node,
                            type_name(ty),
                            first.name,
                            type_name(other_ty),
                            other.name
                        ),
                    )
                    .with_help(
                        "a rule over several sources reads each field with one type in every one",
                    ),
                None => self
                    .error(
                        codes::UNKNOWN_FIELD,
                        path.span,
                        format!("unknown field `{}` in source `{}`", path.node, other.name),
                    )
                    .with_help(format!(
                        "a rule over several sources reads only fields every one of them has; \
                         `{}` has it, `{}` does not",
                        first.name, other.name
                    )),
            };
            self.emit(diagnostic);
            ok = false;
        }
        ok.then(|| ir::Field {
            path: path.node.clone(),
            ty,
            span: path.span,
            cased: false,
        })
    }

    /// Resolves a field the rule reads (`where`, `by`, `distinct`).
    pub fn read_field(&mut self, path: &Spanned<String>) -> Option<ir::Field> {
        let field = self.field(path)?;
        if !self.read_fields.contains(&field.path) {
            self.read_fields.push(field.path.clone());
        }
        Some(field)
    }
}

/// The name of a field type in messages ("an int field").
pub(crate) fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string field",
        FieldType::Int => "an int field",
        FieldType::Ip => "an ip field",
        FieldType::Time => "the time field",
    }
}

/// `` `a`, `b`, `c` `` for messages listing the allowed words.
pub(crate) fn quoted_list<'s>(words: impl IntoIterator<Item = &'s str>) -> String {
    words
        .into_iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A duration in seconds as a person would write it (`5m`, `90s`, `2h`).
pub(crate) fn duration(seconds: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(86_400, "d"), (3_600, "h"), (60, "m")];
    UNITS
        .iter()
        .find(|(size, _)| seconds != 0 && seconds.is_multiple_of(*size))
        .map_or(format!("{seconds}s"), |(size, unit)| {
            format!("{}{unit}", seconds / size)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_whole_unit() {
        assert_eq!(duration(300), "5m");
        assert_eq!(duration(90), "90s");
        assert_eq!(duration(7200), "2h");
        assert_eq!(duration(86_400), "1d");
    }

    /// E0423 needs a field typed differently in two sources, which the
    /// bundled taxonomy never does: checked here on a small one.
    #[test]
    fn a_field_typed_differently_in_two_sources_is_e0423() {
        let Ok(taxonomy) = Taxonomy::parse(
            "version: 1\nsources:\n  a:\n    description: a\n    entity: y\n    fields:\n      x: int\n      y: string\n\
             \n  b:\n    description: b\n    entity: y\n    fields:\n      x: string\n      y: string\n",
        ) else {
            unreachable!("the taxonomy parses");
        };
        let map = SourceMap::default();
        let mut found = Vec::new();
        let lists = Lists::declare(&[], &mut found);
        let settings = super::super::CheckSettings::default();
        let scope = Scope {
            map: &map,
            taxonomy: &taxonomy,
            catalogue: Catalogue::bundled(),
            lists: &lists,
            settings: &settings,
        };
        let mut cx = RuleCx::new(&scope, FileId(0));
        cx.source = taxonomy.source("a");
        cx.more_sources = taxonomy.source("b").into_iter().collect();
        let y = cx.read_field(&Spanned::new("y".to_string(), Span::new(3, 4)));
        assert_eq!(y.map(|f| f.ty), Some(FieldType::String));
        assert!(cx.diagnostics.is_empty());
        let x = cx.read_field(&Spanned::new("x".to_string(), Span::new(5, 6)));
        assert!(x.is_none());
        let codes: Vec<(&str, Span)> = cx
            .diagnostics
            .iter()
            .map(|d| (d.code.id, d.primary.span))
            .collect();
        assert_eq!(codes, [("E0423", Span::new(5, 6))]);
        assert!(
            cx.diagnostics[0]
                .message
                .contains("an int field in source `a`")
        );
    }
}
