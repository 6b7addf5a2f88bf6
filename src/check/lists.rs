//! `list` declarations: one namespace for the pack, a type (`string` by
//! default, `int`, `cidr`) and elements that must suit it. Rules see each
//! list as its checked elements; a list that failed (to parse, or to check)
//! is still known, so its uses report nothing more.

use crate::diag::{Diagnostic, codes, nearest};
use crate::ir::IpBlock;
use crate::source::FileId;
use crate::syntax::Spanned;
use crate::syntax::ast::{self, Item, ItemKind, Literal};

use super::context::quoted_list;
use super::names::{Claim, Registry};
use super::values::parse_cidr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListType {
    String,
    Int,
    Cidr,
}

const LIST_TYPES: [(&str, ListType); 3] = [
    ("string", ListType::String),
    ("int", ListType::Int),
    ("cidr", ListType::Cidr),
];

impl ListType {
    pub fn name(self) -> &'static str {
        LIST_TYPES
            .iter()
            .find(|(_, ty)| *ty == self)
            .map_or("string", |(name, _)| name)
    }
}

/// One checked element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Element {
    Text(String),
    Int(i64),
    Block(IpBlock),
}

/// A list whose type and every element are valid.
#[derive(Debug, Clone)]
pub(crate) struct CheckedList {
    pub ty: ListType,
    pub elements: Vec<Spanned<Element>>,
}

#[derive(Debug, Clone)]
pub(crate) struct List {
    pub file: FileId,
    /// `None` when the declaration failed to parse or has errors.
    pub checked: Option<CheckedList>,
}

/// The lists of a pack by name, each from its first declaration.
#[derive(Debug, Default)]
pub(crate) struct Lists<'a> {
    lists: Vec<(&'a str, List)>,
}

impl<'a> Lists<'a> {
    /// Checks every list declaration of the pack (files in the given order).
    pub fn declare(files: &[(FileId, &'a ast::File)], out: &mut Vec<Diagnostic>) -> Self {
        let mut names = Registry::default();
        let mut lists = Lists::default();
        for (file, parsed) in files {
            for (name, decl) in list_items(parsed) {
                let checked = decl.and_then(|decl| check_list(*file, decl, out));
                let message = || format!("list `{}` is declared twice", name.node);
                match names.claim(
                    name,
                    (*file, name.span),
                    decl.is_none(),
                    codes::DUPLICATE_LIST,
                    message,
                ) {
                    Claim::New => lists.lists.push((
                        name,
                        List {
                            file: *file,
                            checked,
                        },
                    )),
                    Claim::Duplicate(diagnostic) => out.extend(diagnostic.map(|d| *d)),
                }
            }
        }
        lists
    }

    /// Replaces the pack's lists by the site's of the same name; a site
    /// list the pack lacks is W0011 and replaces nothing. Returns where
    /// each replaced list now comes from.
    pub fn overlay(
        &mut self,
        site: &[(FileId, &'a ast::File)],
        out: &mut Vec<Diagnostic>,
    ) -> Vec<Replaced> {
        let mut names = Registry::default();
        let mut replaced = Vec::new();
        for (file, parsed) in site {
            for (name, decl) in list_items(parsed) {
                let message = || format!("list `{}` is declared twice in the site", name.node);
                let claim = names.claim(
                    name,
                    (*file, name.span),
                    decl.is_none(),
                    codes::DUPLICATE_LIST,
                    message,
                );
                if let Claim::Duplicate(diagnostic) = claim {
                    out.extend(diagnostic.map(|d| *d));
                    continue;
                }
                let checked = decl.and_then(|decl| check_list(*file, decl, out));
                let pack_names: Vec<&'a str> = self.lists.iter().map(|(n, _)| *n).collect();
                let Some(slot) = self.lists.iter_mut().find(|(n, _)| *n == name.node) else {
                    let mut warning = Diagnostic::warning(
                        codes::SITE_LIST_UNUSED,
                        *file,
                        name.span,
                        format!(
                            "the pack has no list `{}` for this site list to replace",
                            name.node
                        ),
                    )
                    .with_label("replaces nothing");
                    warning = match nearest(name, pack_names) {
                        Some(near) => warning.with_help(format!("did you mean `{near}`?")),
                        None => warning
                            .with_help("a site list replaces the pack's list of the same name"),
                    };
                    out.push(warning);
                    continue;
                };
                replaced.push(Replaced {
                    name: name.node.clone(),
                    pack: slot.1.file,
                    site: *file,
                });
                slot.1 = List {
                    file: *file,
                    checked,
                };
            }
        }
        replaced
    }

    pub fn get(&self, name: &str) -> Option<&List> {
        self.lists
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, list)| list)
    }

    /// Each list's name and the file its declaration now comes from.
    pub fn origins(&self) -> Vec<(String, FileId)> {
        self.lists
            .iter()
            .map(|(name, list)| ((*name).to_string(), list.file))
            .collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        self.lists.iter().map(|(name, _)| *name)
    }
}

/// A pack list the site replaced: its name and both files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub name: String,
    pub pack: FileId,
    pub site: FileId,
}

/// The list declarations of a file (a broken one by its name only).
fn list_items(
    parsed: &ast::File,
) -> impl Iterator<Item = (&Spanned<String>, Option<&ast::ListDecl>)> {
    parsed.items.iter().filter_map(|item| match item {
        Item::List(decl) => Some((&decl.name, Some(decl))),
        Item::Broken {
            kind: ItemKind::List,
            name: Some(name),
        } => Some((name, None)),
        _ => None,
    })
}

/// The list's type and elements, or `None` after reporting why not.
fn check_list(
    file: FileId,
    decl: &ast::ListDecl,
    out: &mut Vec<Diagnostic>,
) -> Option<CheckedList> {
    let ty = match &decl.ty {
        None => Some(ListType::String),
        Some(word) => {
            let ty = LIST_TYPES
                .iter()
                .find(|(name, _)| *name == word.node)
                .map(|(_, ty)| *ty);
            if ty.is_none() {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_LIST_TYPE,
                    file,
                    word.span,
                    format!(
                        "unknown list type `{}`; expected {}",
                        word.node,
                        quoted_list(LIST_TYPES.iter().map(|(n, _)| *n))
                    ),
                );
                if let Some(near) = nearest(word, LIST_TYPES.iter().map(|(n, _)| *n)) {
                    d = d.with_help(format!("did you mean `{near}`?"));
                }
                out.push(d);
            }
            ty
        }
    };
    if decl.elements.is_empty() {
        out.push(
            Diagnostic::warning(
                codes::EMPTY_LIST,
                file,
                decl.name.span,
                format!("list `{}` is empty", decl.name.node),
            )
            .with_help("a predicate on an empty list matches nothing"),
        );
    }
    let ty = ty?;
    let before = out.len();
    let elements: Vec<_> = decl
        .elements
        .iter()
        .filter_map(|literal| element(file, &decl.name.node, ty, literal, out))
        .collect();
    let failed = out[before..].iter().any(Diagnostic::is_error);
    (!failed).then_some(CheckedList { ty, elements })
}

fn element(
    file: FileId,
    list: &str,
    ty: ListType,
    literal: &Spanned<Literal>,
    out: &mut Vec<Diagnostic>,
) -> Option<Spanned<Element>> {
    let error = |code, message: String| Diagnostic::error(code, file, literal.span, message);
    let element = match (&literal.node, ty) {
        (Literal::String(s), _) if s.value.is_empty() => {
            out.push(
                error(
                    codes::EMPTY_STRING,
                    format!("empty string in list `{list}`"),
                )
                .with_help("remove the element"),
            );
            return None;
        }
        (Literal::String(s), ListType::String) => Element::Text(s.value.clone()),
        (Literal::Int(n), ListType::Int) => Element::Int(*n),
        (Literal::String(s), ListType::Cidr) => match parse_cidr(&s.value) {
            Ok(cidr) => {
                if cidr.host_bits {
                    out.push(host_bits_warning(file, literal, &s.value, cidr.block));
                }
                Element::Block(cidr.block)
            }
            Err(why) => {
                out.push(error(
                    codes::INVALID_CIDR,
                    format!("invalid CIDR block: {why}"),
                ));
                return None;
            }
        },
        (Literal::Int(_), _) | (Literal::String(_), ListType::Int) => {
            let found = if matches!(literal.node, Literal::Int(_)) {
                "an integer"
            } else {
                "a string"
            };
            out.push(error(
                codes::LIST_ELEMENT_TYPE,
                format!("{} list `{list}` cannot hold {found}", ty.name()),
            ));
            return None;
        }
    };
    Some(Spanned::new(element, literal.span))
}

/// W0002: the block means its canonical form.
pub(crate) fn host_bits_warning(
    file: FileId,
    literal: &Spanned<Literal>,
    written: &str,
    block: IpBlock,
) -> Diagnostic {
    Diagnostic::warning(
        codes::CIDR_HOST_BITS,
        file,
        literal.span,
        format!("`{written}` has host bits set; it means `{block}`"),
    )
    .with_help(format!("write `{block}`"))
}
