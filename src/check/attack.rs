//! The ATT&CK catalogue (Enterprise 18.1): techniques with their names,
//! tactics and revoked/deprecated flags, and the tactics in matrix order,
//! read from the CSV files embedded from `src/check/attack/`.

use std::sync::OnceLock;

use crate::ir::Tactic;

const TECHNIQUES: &str = include_str!("attack/enterprise-techniques-v18.1.csv");
const TACTICS: &str = include_str!("attack/tactics.csv");

/// One technique or sub-technique of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechniqueEntry {
    /// `T1590` or `T1590.002`.
    pub id: String,
    pub name: String,
    /// Tactic shortnames, as the catalogue lists them.
    pub tactics: Vec<String>,
    pub subtechnique: bool,
    pub revoked: bool,
    pub deprecated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    techniques: Vec<TechniqueEntry>,
    /// In matrix order.
    tactics: Vec<Tactic>,
}

#[derive(Debug, thiserror::Error)]
#[error("ATT&CK catalogue line {line}: {message}")]
pub struct CatalogueError {
    pub line: usize,
    pub message: String,
}

impl Catalogue {
    /// The bundled catalogue (parsed once).
    pub fn bundled() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            #[expect(
                clippy::expect_used,
                reason = "the embedded files are fixed at build time and a unit test parses them"
            )]
            Catalogue::parse(TECHNIQUES, TACTICS).expect("bundled ATT&CK catalogue parses")
        })
    }

    /// Reads the two CSV files (each with a header line).
    pub fn parse(techniques: &str, tactics: &str) -> Result<Catalogue, CatalogueError> {
        Ok(Catalogue {
            techniques: rows(techniques)
                .map(|(line, row)| {
                    technique(row).ok_or_else(|| {
                        bad(
                            line,
                            "expected id,name,tactics,subtechnique,revoked,deprecated",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            tactics: rows(tactics)
                .map(|(line, row)| {
                    tactic(row).ok_or_else(|| bad(line, "expected id,shortname,name"))
                })
                .collect::<Result<_, _>>()?,
        })
    }

    pub fn technique(&self, id: &str) -> Option<&TechniqueEntry> {
        self.techniques.iter().find(|t| t.id == id)
    }

    pub fn techniques(&self) -> &[TechniqueEntry] {
        &self.techniques
    }

    /// The tactics in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    pub fn tactic(&self, shortname: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|t| t.shortname == shortname)
    }

    /// The tactics of all `techniques`, each once, in matrix order.
    pub fn tactics_of(&self, techniques: &[&TechniqueEntry]) -> Vec<Tactic> {
        self.tactics
            .iter()
            .filter(|tactic| {
                techniques
                    .iter()
                    .any(|t| t.tactics.contains(&tactic.shortname))
            })
            .cloned()
            .collect()
    }
}

fn bad(line: usize, message: &str) -> CatalogueError {
    CatalogueError {
        line,
        message: message.to_string(),
    }
}

/// The data lines with their 1-based line numbers (header and blank lines skipped).
fn rows(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, row)| !row.trim().is_empty())
        .map(|(i, row)| (i + 1, row.trim_end_matches('\r')))
}

fn flag(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `id,name,tactics,subtechnique,revoked,deprecated`; tactics are separated
/// by `;`. The name is everything between the first and the last four
/// fields, so a comma in a name needs no quoting.
fn technique(row: &str) -> Option<TechniqueEntry> {
    let (id, rest) = row.split_once(',')?;
    let mut tail = rest.rsplitn(5, ',');
    let deprecated = flag(tail.next()?)?;
    let revoked = flag(tail.next()?)?;
    let subtechnique = flag(tail.next()?)?;
    let tactics = tail.next()?;
    let name = tail.next()?;
    Some(TechniqueEntry {
        id: id.to_string(),
        name: name.trim_matches('"').to_string(),
        tactics: tactics
            .split(';')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        subtechnique,
        revoked,
        deprecated,
    })
}

fn tactic(row: &str) -> Option<Tactic> {
    let mut fields = row.splitn(3, ',');
    Some(Tactic {
        id: fields.next()?.to_string(),
        shortname: fields.next()?.to_string(),
        name: fields.next()?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalogue_reads_techniques_and_tactics() {
        let catalogue = Catalogue::parse(TECHNIQUES, TACTICS).unwrap();
        assert_eq!(catalogue.techniques().len(), TECHNIQUES.lines().count() - 1);
        let t = catalogue.technique("T1590.002").unwrap();
        assert_eq!(t.name, "DNS");
        assert_eq!(t.tactics, ["reconnaissance"]);
        assert!(t.subtechnique && !t.revoked && !t.deprecated);
        assert!(catalogue.technique("T1002").unwrap().revoked);
        assert!(catalogue.technique("T1034").unwrap().deprecated);
        assert_eq!(catalogue.tactics()[0].id, "TA0043");
        assert_eq!(catalogue.tactic("impact").unwrap().name, "Impact");
    }

    #[test]
    fn tactics_of_follow_matrix_order() {
        let catalogue = Catalogue::bundled();
        let techniques = ["T1037", "T1590"].map(|id| catalogue.technique(id).unwrap());
        let ids: Vec<String> = catalogue
            .tactics_of(&techniques)
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["TA0043", "TA0003", "TA0004"]);
    }
}
