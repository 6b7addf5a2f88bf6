//! The emitters' property, shared by the fuzz target `emitters` and the test
//! suite (which runs it over the seed corpus): a rule whose every text
//! (title, description, author, reference, false positive, tag, a list
//! value, a compared value, the alert title, playbook steps) holds
//! adversarial strings is written by every target, and each output keeps
//! the strings as data. Read back by a real parser where there is one in
//! Rust, each value must come back unchanged (Sigma YAML, the Sentinel
//! rule YAML and ARM JSON, the Spark rules JSON); every output must hold no
//! raw control character but the line feed (JSON files: no raw C0
//! control, which JSON cannot hold either); the `.conf` files must have
//! the stanzas and keys of the same rule with plain texts; a runbook page
//! must have its headings, no HTML and links only to `http(s)` addresses.
//! A target may refuse the rule (E0700); a rule that does not check is
//! skipped.

use tripline::emit::{self, Document, TargetName};

/// The texts of one probe rule, in the order a fuzz input gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Texts {
    pub title: String,
    pub description: String,
    pub author: String,
    pub reference: String,
    pub falsepositive: String,
    pub tag: String,
    pub list_value: String,
    pub value: String,
    pub alert: String,
    pub step: String,
}

/// How many texts `Texts::from_bytes` reads.
pub const FIELDS: usize = 10;

impl Texts {
    /// The same text in every field.
    pub fn all(text: &str) -> Texts {
        Texts::from_pieces(&[text; FIELDS].map(str::to_string))
    }

    /// Fuzz input: the texts separated by the byte 0xFF (never UTF-8), each
    /// read as UTF-8 with invalid bytes replaced; missing ones are `x`.
    pub fn from_bytes(bytes: &[u8]) -> Texts {
        let pieces: Vec<String> = bytes
            .split(|&b| b == 0xFF)
            .map(|piece| String::from_utf8_lossy(piece).into_owned())
            .collect();
        Texts::from_pieces(&pieces)
    }

    /// The texts in `Texts` order; missing or empty ones are `x`.
    pub fn from_pieces(pieces: &[String]) -> Texts {
        // An empty string literal is an error in rule text.
        let at = |i: usize| match pieces.get(i) {
            Some(text) if !text.is_empty() => text.clone(),
            _ => "x".to_string(),
        };
        Texts {
            title: at(0),
            description: at(1),
            author: at(2),
            reference: at(3),
            falsepositive: at(4),
            tag: at(5),
            list_value: at(6),
            value: at(7),
            alert: at(8),
            step: at(9),
        }
    }

    /// Plain texts of the same fields (the shape every output must keep).
    fn plain() -> Texts {
        Texts::all("plain")
    }
}

/// What the property found for one rule.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Every target wrote it or refused it, keeping every text as data.
    Kept { written: Vec<TargetName> },
    /// The rule does not check (an error in rule text): nothing to write.
    NotARule,
}

/// A `.trip` string literal holding exactly `text`.
pub fn trip_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}') => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The probe rule's text. `{` and `}` in the alert title are field
/// references there, so the alert text drops them.
pub fn rule_text(texts: &Texts) -> String {
    let s = |text: &str| trip_string(text);
    let alert: String = texts
        .alert
        .chars()
        .filter(|c| !matches!(c, '{' | '}'))
        .collect();
    let alert = if alert.is_empty() {
        "x".to_string()
    } else {
        alert
    };
    format!(
        "list fuzz_values = [{list_value}, \"plain\"]\n\
         rule fuzz_probe {{\n  title {title}\n  id \"00000000-0000-4000-8000-00000000f022\"\n  level low\n  attack T1590\n  author {author}\n  description {description}\n  references [{reference}]\n  falsepositives [{falsepositive}]\n  tags [{tag}]\n  from dns\n  where dns.question.name in @fuzz_values and dns.question.type == {value}\n  alert {{\n    title {alert_title}\n    risk source.ip system 40\n  }}\n  playbook {{\n    questions {step}\n    escalate {step}\n    triage {step}\n    investigate {step}\n    contain {step}\n  }}\n}}\n",
        list_value = s(&texts.list_value),
        title = s(&texts.title),
        author = s(&texts.author),
        description = s(&texts.description),
        reference = s(&texts.reference),
        falsepositive = s(&texts.falsepositive),
        tag = s(&texts.tag),
        value = s(&texts.value),
        alert_title = s(&format!("{alert} {{source.ip}}")),
        step = s(&texts.step),
    )
}

/// The checked pack of `text`, or `None` when it has an error.
fn pack(text: &str) -> Option<tripline::ir::Pack> {
    use tripline::source::{SourceFile, SourceMap};
    let mut map = SourceMap::default();
    let id = map.add(SourceFile::new("fuzz.trip", text));
    let (file, syntax) = tripline::syntax::parse(id, &map.get(id).text);
    if syntax.iter().any(|d| d.is_error()) {
        return None;
    }
    let checked = tripline::check::check(&map, &[(id, &file)]);
    if checked.diagnostics.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(checked.pack)
}

/// The documents of `target` for the one rule of `pack`, or `None` when the
/// target refuses it.
fn documents(
    target: TargetName,
    pack: &tripline::ir::Pack,
) -> Result<Option<Vec<Document>>, String> {
    let emitted = emit::emit(target, pack, None, "default")
        .map_err(|err| format!("{target:?}: the build failed: {err}"))?;
    if let Some(other) = emitted.diagnostics.iter().find(|d| d.code.id != "E0700") {
        return Err(format!("{target:?}: {} {}", other.code.id, other.message));
    }
    if !emitted.diagnostics.is_empty() {
        return Ok(None);
    }
    Ok(Some(emitted.documents))
}

/// Runs the property on one set of texts, for every target.
pub fn check(texts: &Texts) -> Result<Verdict, String> {
    check_targets(texts, &TargetName::ALL)
}

/// Runs the property on one set of texts for `targets` (a fuzz target each).
pub fn check_targets(texts: &Texts, targets: &[TargetName]) -> Result<Verdict, String> {
    let Some(hostile) = pack(&rule_text(texts)) else {
        return Ok(Verdict::NotARule);
    };
    let plain = pack(&rule_text(&Texts::plain()))
        .ok_or_else(|| "the plain probe rule does not check".to_string())?;
    let mut written = Vec::new();
    for &target in targets {
        let Some(docs) = documents(target, &hostile)? else {
            continue;
        };
        let plain_docs = documents(target, &plain)?
            .ok_or_else(|| format!("{target:?} refuses the plain probe rule"))?;
        for doc in &docs {
            // JSON may hold DEL and C1 controls raw: they read back as
            // themselves (`json` checks the values where they matter).
            let json = doc.path.ends_with(".json");
            let raw = |c: char| c.is_control() && c != '\n' && !(json && c >= '\u{7f}');
            if let Some(c) = doc.text.chars().find(|&c| raw(c)) {
                return Err(format!(
                    "{target:?} {}: a raw U+{:04X}",
                    doc.path,
                    u32::from(c)
                ));
            }
        }
        let check = match target {
            TargetName::Sigma => sigma(texts, &docs),
            TargetName::Kql => kql(texts, &docs),
            TargetName::Splunk => splunk(&docs, &plain_docs),
            TargetName::Runbook => runbook(&docs, &plain_docs),
            TargetName::Sql => sql(texts, &docs),
        };
        check.map_err(|err| format!("{target:?}: {err}"))?;
        written.push(target);
    }
    Ok(Verdict::Kept { written })
}

fn doc<'a>(docs: &'a [Document], path: &str) -> Result<&'a str, String> {
    docs.iter()
        .find(|d| d.path == path)
        .map(|d| d.text.as_str())
        .ok_or_else(|| format!("no document {path}"))
}

fn same(what: &str, found: Option<&str>, expected: &str) -> Result<(), String> {
    match found {
        Some(found) if found == expected => Ok(()),
        _ => Err(format!(
            "{what}: read back {found:?}, the rule says {expected:?}"
        )),
    }
}

/// A Sigma plain value read as text: `\*`, `\?` and `\\` are escapes.
fn sigma_text(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&next @ ('*' | '?' | '\\'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn sigma(texts: &Texts, docs: &[Document]) -> Result<(), String> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(doc(docs, "fuzz_probe.yml")?)
        .map_err(|err| format!("fuzz_probe.yml does not parse: {err}"))?;
    same("title", yaml["title"].as_str(), &texts.title)?;
    same(
        "description",
        yaml["description"].as_str(),
        &texts.description,
    )?;
    same("author", yaml["author"].as_str(), &texts.author)?;
    same(
        "reference",
        yaml["references"][0].as_str(),
        &texts.reference,
    )?;
    same(
        "false positive",
        yaml["falsepositives"][0].as_str(),
        &texts.falsepositive,
    )?;
    same("tag", yaml["tripline_tags"][0].as_str(), &texts.tag)?;
    same(
        "playbook step",
        yaml["tripline_playbook"]["triage"][0].as_str(),
        &texts.step,
    )?;
    let selection = &yaml["detection"]["selection"];
    let listed = selection["query"][0].as_str().map(sigma_text);
    same("list value", listed.as_deref(), &texts.list_value)?;
    let compared = selection["record_type"].as_str().map(sigma_text);
    same("value", compared.as_deref(), &texts.value)
}

/// An ARM template string as Resource Manager reads it: `[[` at the start
/// of a string ending in `]` stands for `[`.
fn arm_text(value: &str) -> String {
    match value.strip_prefix("[[") {
        Some(rest) if value.ends_with(']') => format!("[{rest}"),
        _ => value.to_string(),
    }
}

fn kql(texts: &Texts, docs: &[Document]) -> Result<(), String> {
    let arm: serde_json::Value = serde_json::from_str(doc(docs, "azuredeploy.json")?)
        .map_err(|err| format!("azuredeploy.json does not parse: {err}"))?;
    let properties = &arm["resources"][0]["properties"];
    let read = |key: &str| properties[key].as_str().map(arm_text);
    same(
        "ARM displayName",
        read("displayName").as_deref(),
        &texts.title,
    )?;
    same(
        "ARM description",
        read("description").as_deref(),
        &texts.description,
    )?;
    let yaml: serde_yaml::Value = serde_yaml::from_str(doc(docs, "fuzz_probe.yaml")?)
        .map_err(|err| format!("fuzz_probe.yaml does not parse: {err}"))?;
    same("rule name", yaml["name"].as_str(), &texts.title)?;
    same(
        "rule description",
        yaml["description"].as_str(),
        &texts.description,
    )
}

fn sql(texts: &Texts, docs: &[Document]) -> Result<(), String> {
    let rules: serde_json::Value = serde_json::from_str(doc(docs, "spark/rules.json")?)
        .map_err(|err| format!("spark/rules.json does not parse: {err}"))?;
    same("Spark rule title", rules[0]["title"].as_str(), &texts.title)
}

/// A `.conf` file's structure: its stanza headers and keys, in order.
fn conf_shape(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once(" = ") {
            _ if line.starts_with('[') => line.to_string(),
            Some((key, _)) => key.to_string(),
            None => format!("not a key line: {line}"),
        })
        .collect()
}

fn splunk(docs: &[Document], plain: &[Document]) -> Result<(), String> {
    for file in ["savedsearches.conf", "macros.conf", "app.conf"] {
        let path = format!("tripline/default/{file}");
        let (found, expected) = (
            conf_shape(doc(docs, &path)?),
            conf_shape(doc(plain, &path)?),
        );
        if found != expected {
            return Err(format!(
                "{file}: stanzas and keys {found:?}, expected {expected:?}"
            ));
        }
    }
    Ok(())
}

/// A Markdown page's structure: its headings and the targets of its links
/// other than `http(s)` addresses (the pages an index links to); an error
/// when it holds HTML.
fn markdown_shape(text: &str) -> Result<(usize, Vec<&str>), String> {
    if let Some(at) = text.find('<') {
        return Err(format!("raw `<` (HTML) at byte {at}"));
    }
    let mut links = Vec::new();
    for (at, _) in text.match_indices("](") {
        let target = &text[at + 2..];
        let target = &target[..target.find(')').unwrap_or(target.len())];
        let web = target.starts_with("http://") || target.starts_with("https://");
        // `\]` is an escaped bracket, `\\]` an escaped backslash and a bracket.
        let backslashes = text[..at].bytes().rev().take_while(|&b| b == b'\\').count();
        if backslashes % 2 == 0 && !web {
            links.push(target);
        }
    }
    let headings = text.lines().filter(|line| line.starts_with('#')).count();
    Ok((headings, links))
}

fn runbook(docs: &[Document], plain: &[Document]) -> Result<(), String> {
    for path in ["fuzz_probe.md", "index.md"] {
        let found = markdown_shape(doc(docs, path)?).map_err(|err| format!("{path}: {err}"))?;
        let expected = markdown_shape(doc(plain, path)?)?;
        if found != expected {
            return Err(format!(
                "{path}: headings and links {found:?}, expected {expected:?}"
            ));
        }
    }
    Ok(())
}
