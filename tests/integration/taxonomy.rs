//! The taxonomy: version 1.1's sources and fields as the checker sees them,
//! the shipped mappings naming every field, taxonomy extension files
//! (`--taxonomy`) with their errors at file, line and column, a pack-defined
//! source built where it is mapped and refused by name where it is not, and
//! `tripline taxonomy`.

use crate::support::tripline;
use std::path::PathBuf;

use tripline::check::{ExtendError, Taxonomy};
use tripline::diag::codes;
use tripline::emit::folder::TargetFolder;
use tripline::emit::kql::Schemas;
use tripline::source::{SourceFile, SourceMap};

use crate::support::{checked, positions};

const SMTP: &str = "tests/fixtures/taxonomy/smtp.yaml";
const SMTP_RULE: &str = "tests/fixtures/taxonomy/smtp_recon.trip";
const BROKEN: &str = "tests/fixtures/taxonomy/broken.yaml";

fn rule(source_and_where: &str) -> String {
    format!(
        "rule r {{\n  title \"t\"\n  id \"0b7c3f5e-1d2a-4c6b-8e9f-0a1b2c3d4e5f\"\n  status test\n  level low\n  attack T1589\n  author \"a\"\n  date \"2026-12-07\"\n  description \"d\"\n  {source_and_where}\n}}\n"
    )
}

#[test]
fn rules_read_the_new_sources_and_fields() {
    for body in [
        "from authentication\n  where event.code == \"4769\" and winlog.event_data.TicketEncryptionType == \"0x17\" and not winlog.event_data.ServiceName like \"*$\"",
        "from authentication\n  where winlog.event_data.LogonType == 3 and winlog.logon.type == \"Network\" and user.id == \"S-1-5-21-1\" and host.name == \"dc01\"",
        "from authentication\n  where winlog.event_data.SubStatus in [\"0xc0000064\", \"0xc000006a\"] and exists(winlog.event_data.WorkstationName)",
        "from process\n  where process.parent.name == \"winword.exe\" and process.args == \"-enc\" and process.parent.command_line contains \"docm\"",
        "from network\n  where network.direction == \"inbound\"",
        "from web\n  where url.extension in [\"php\", \"aspx\"] and http.request.body.content contains \"union select\"",
        "from dns\n  where dns.question.registered_domain == \"example.com\"",
        "from email\n  where smtp.command in [\"VRFY\", \"EXPN\"]",
        "from ldap\n  where ldap.search.filter contains \"servicePrincipalName\"",
        "from file\n  where file.extension == \"ps1\" and file.path contains \"\\\\Users\\\\\"",
        "from registry\n  where registry.path contains \"\\\\CurrentVersion\\\\Run\"",
    ] {
        checked("r.trip", &rule(body));
    }
}

#[test]
fn unknown_fields_of_the_new_sources_get_a_did_you_mean() {
    let text = rule("from authentication\n  where winlog.event_data.TicketEncType == \"0x17\"");
    let mut map = SourceMap::default();
    let id = map.add(SourceFile::new("r.trip", text.as_str()));
    let (file, _) = tripline::syntax::parse(id, &map.get(id).text);
    let found = tripline::check::check(&map, &[(id, &file)]);
    let unknown = found
        .diagnostics
        .iter()
        .find(|d| d.code == codes::UNKNOWN_FIELD)
        .unwrap();
    let help = unknown.help.as_deref().unwrap_or_default();
    assert!(
        help.contains("winlog.event_data.TicketEncryptionType"),
        "{unknown:#?}"
    );
    let text = rule("from smtp\n  where smtp.command == \"VRFY\"");
    let mut map = SourceMap::default();
    let id = map.add(SourceFile::new("r.trip", text.as_str()));
    let (file, _) = tripline::syntax::parse(id, &map.get(id).text);
    let found = tripline::check::check(&map, &[(id, &file)]);
    let errors: Vec<_> = found
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(positions(&map, &errors), ["E0300 10:8"]);
}

/// Every shipped mapping names every field of every source it maps (null:
/// not mapped), and maps each of version 1's six sources; every kql column
/// is in the source's schema section or derived by its `extend`.
#[test]
fn every_shipped_mapping_names_every_field() {
    let taxonomy = Taxonomy::bundled();
    for target in ["sigma", "splunk", "kql", "sql"] {
        let folder = TargetFolder::load(target, None).unwrap();
        let schemas = Schemas::load(&folder);
        for name in folder.mapping_names() {
            let mapping = folder.mapping(name).unwrap();
            for source in taxonomy.sources() {
                let Some(mapped) = mapping.sources.get(&source.name) else {
                    let version_1 = [
                        "dns",
                        "network",
                        "web",
                        "proxy",
                        "authentication",
                        "process",
                    ];
                    assert!(
                        !version_1.contains(&source.name.as_str()),
                        "{target}/{name} lacks source {}",
                        source.name
                    );
                    continue;
                };
                let fields: Vec<&str> = source.field_names().collect();
                let names: Vec<&str> = mapped.fields.keys().map(String::as_str).collect();
                let mut sorted = fields.clone();
                sorted.sort_unstable();
                assert_eq!(names, sorted, "{target}/{name} source {}", source.name);
                if target != "kql" {
                    continue;
                }
                let section = mapped.settings.get("schema").and_then(|s| s.as_str());
                let columns = section.and_then(|s| schemas.section(s)).unwrap();
                let derived: Vec<&str> = mapped
                    .settings
                    .get("extend")
                    .and_then(|e| e.as_mapping())
                    .map(|e| e.keys().filter_map(|k| k.as_str()).collect())
                    .unwrap_or_default();
                for column in mapped.fields.values().flatten() {
                    assert!(
                        columns.contains_key(column) || derived.contains(&column.as_str()),
                        "{target}/{name} source {}: no column {column}",
                        source.name
                    );
                }
            }
        }
    }
}

#[test]
fn an_extension_adds_sources_fields_and_their_target_names() {
    let mut map = SourceMap::default();
    let taxonomy = Taxonomy::bundled()
        .extended(&mut map, &[PathBuf::from(SMTP)])
        .unwrap();
    let smtp = taxonomy.source("smtp").unwrap();
    assert_eq!(smtp.defined_in.as_deref(), Some(SMTP));
    assert_eq!(
        taxonomy.field_type("smtp", "smtp.reply_code"),
        Some(tripline::ir::FieldType::Int)
    );
    assert!(
        taxonomy
            .field_type("process", "process.pe.product")
            .is_some()
    );
    let targets: Vec<(&str, Option<&str>, &str)> = taxonomy
        .overlays()
        .iter()
        .map(|o| (o.target.as_str(), o.mapping.as_deref(), o.source.as_str()))
        .collect();
    assert_eq!(
        targets,
        [
            ("sigma", None, "smtp"),
            ("splunk", None, "smtp"),
            ("sigma", None, "process"),
            ("splunk", None, "process"),
            ("sql", None, "process"),
            ("kql", Some("default"), "process"),
        ]
    );
    let missing = Taxonomy::bundled().extended(&mut map, &[PathBuf::from("no/such.yaml")]);
    assert!(matches!(missing, Err(ExtendError::Load(_))));
}

#[test]
fn extension_errors_point_at_file_line_and_column_with_a_did_you_mean() {
    let run = tripline(&["taxonomy", "--taxonomy", BROKEN]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("extension_errors", run.stderr);
    let check = tripline(&["check", "--taxonomy", BROKEN, SMTP_RULE]);
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains("broken.yaml:9:21"),
        "{}",
        check.stderr
    );

    let dir = std::env::temp_dir().join(format!("tripline-taxonomy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "sources:\n  smtp:\n    fields: [a\n").unwrap();
    let run = tripline(&["taxonomy", "--taxonomy", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error[E0910]"), "{}", run.stderr);
    assert!(run.stderr.contains("bad.yaml:4:1"), "{}", run.stderr);
    let twice = dir.join("twice.yaml");
    std::fs::write(
        &twice,
        "sources:\n  smtp:\n    fields:\n      a: string\n      b: int\n      a: int\n",
    )
    .unwrap();
    let run = tripline(&["taxonomy", "--taxonomy", twice.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error[E0914]: `a` is written twice in one mapping"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("twice.yaml:6:7"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        tripline(&["taxonomy", "--taxonomy", "no/such.yaml"]).code,
        2
    );
}

#[test]
fn a_pack_source_builds_where_mapped_and_is_refused_by_name_elsewhere() {
    let with = ["--taxonomy", SMTP, SMTP_RULE];
    let test = tripline(&[&["test"][..], &with].concat());
    assert_eq!(test.code, 0, "{}", test.stderr);
    assert!(test.stdout.contains("2 passed"), "{}", test.stdout);

    let built = tripline(&[&["build", "--target", "sigma,splunk"][..], &with].concat());
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert!(
        built.stdout.contains("product: mailgateway"),
        "{}",
        built.stdout
    );
    assert!(
        built
            .stdout
            .contains("search = (`tripline_smtp`) command IN (\"VRFY\", \"EXPN\")"),
        "{}",
        built.stdout
    );
    assert!(
        built
            .stdout
            .contains("[tripline_smtp]\ndefinition = index=mail sourcetype=gateway:smtp\n"),
        "{}",
        built.stdout
    );

    let kql = tripline(&[&["build", "--target", "kql"][..], &with].concat());
    assert_eq!(kql.code, 1);
    assert!(
        kql.stderr
            .contains("error[E0700]: kql cannot express source `smtp` exactly"),
        "{}",
        kql.stderr
    );

    let without = tripline(&["check", SMTP_RULE]);
    assert_eq!(without.code, 1);
    assert!(without.stderr.contains("unknown source `smtp`"));
}

#[test]
fn tripline_taxonomy_lists_sources_fields_types_and_target_names() {
    let run = tripline(&["taxonomy"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("taxonomy_table", run.stdout);

    let run = tripline(&["taxonomy", "--format", "json", "--taxonomy", SMTP]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["version"], "1.2");
    let smtp = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "smtp")
        .unwrap();
    assert_eq!(smtp["targets"], serde_json::json!(["sigma", "splunk"]));
    assert_eq!(smtp["defined_in"], SMTP);
    let command = &smtp["fields"][2];
    assert_eq!(command["name"], "smtp.command");
    assert_eq!(
        command["targets"],
        serde_json::json!({"sigma": "command", "splunk": "command", "kql": null, "sql": null})
    );
}

/// The rules on taxonomy 1.1's sources pass their tests, and each target
/// writes them or refuses them by name: the refusals, one line each, are the
/// new fields a target has no column for.
#[test]
fn rules_on_the_new_sources_build_or_are_refused_by_name() {
    let test = tripline(&["test", "tests/fixtures/sources"]);
    assert_eq!(test.code, 0, "{}", test.stdout);
    let mut refusals = Vec::new();
    for target in ["sigma", "splunk", "kql"] {
        let run = tripline(&[
            "check",
            "--target",
            target,
            "--format",
            "json",
            "tests/fixtures/sources",
        ]);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        for d in json["diagnostics"].as_array().unwrap() {
            if d["severity"] == "error" {
                let (code, message) = (d["code"].as_str().unwrap(), d["message"].as_str().unwrap());
                refusals.push(format!("{code} {}:{} {message}", d["line"], d["column"]));
            }
        }
    }
    insta::assert_snapshot!("new_sources_refusals", refusals.join("\n"));
}

/// A `TARGET/MAPPING` key gives names for one mapping over the settings of
/// its target-wide key: no settings repeated, the columns checked against
/// the target-wide table.
#[test]
fn a_mapping_key_reads_over_its_target_wide_settings() {
    let dir = std::env::temp_dir().join(format!("tripline-taxonomy-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.yaml");
    std::fs::write(
        &path,
        "sources:\n  gateway:\n    fields:\n      \"@timestamp\": time\n      gateway.verb: string\n    targets:\n      kql:\n        table: Gateway_CL\n        columns: {TimeGenerated: datetime, Verb_s: string, Verb2_s: string}\n        fields: {\"@timestamp\": TimeGenerated, gateway.verb: Verb_s}\n      kql/native:\n        fields: {gateway.verb: Verb2_s}\n      kql/default:\n        fields: {gateway.verb: Verb3_s}\n",
    )
    .unwrap();
    let mut map = SourceMap::default();
    let result = Taxonomy::bundled().extended(&mut map, std::slice::from_ref(&path));
    let Err(ExtendError::Invalid(diagnostics)) = result else {
        panic!("Verb3_s is no column of Gateway_CL")
    };
    assert_eq!(positions(&map, &diagnostics), ["E0917 14:32"]);
    std::fs::write(
        &path,
        std::fs::read_to_string(&path).unwrap().replace(
            "      kql/default:\n        fields: {gateway.verb: Verb3_s}\n",
            "",
        ),
    )
    .unwrap();
    let mut map = SourceMap::default();
    let taxonomy = Taxonomy::bundled().extended(&mut map, &[path]).unwrap();
    let folder = TargetFolder::load("kql", None).unwrap();
    let native = folder
        .mapping("native")
        .unwrap()
        .overlaid(&taxonomy, "kql", "native");
    assert_eq!(native.field("gateway", "gateway.verb"), Some("Verb2_s"));
    let default = folder
        .mapping("default")
        .unwrap()
        .overlaid(&taxonomy, "kql", "default");
    assert_eq!(default.field("gateway", "gateway.verb"), Some("Verb_s"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_documented_extension_is_the_tested_fixture() {
    let docs = include_str!("../../docs/taxonomy.md");
    assert!(docs.contains(include_str!("../fixtures/taxonomy/smtp.yaml")));
}

/// A new source's alert defaults, `entity` and `context`, name its own
/// fields; a bundled source's cannot be changed by an extension.
#[test]
fn a_new_source_may_give_its_alert_defaults() {
    let dir = std::env::temp_dir().join(format!("tripline-taxonomy-alert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.yaml");
    let text = "sources:\n  gateway:\n    entity: gateway.client\n    context: [gateway.client, gateway.verb]\n    fields:\n      \"@timestamp\": time\n      gateway.client: ip\n      gateway.verb: string\n";
    std::fs::write(&path, text).unwrap();
    let mut map = SourceMap::default();
    let taxonomy = Taxonomy::bundled()
        .extended(&mut map, std::slice::from_ref(&path))
        .unwrap();
    let gateway = taxonomy.source("gateway").unwrap();
    assert_eq!(gateway.entity, "gateway.client");
    assert_eq!(gateway.context, ["gateway.client", "gateway.verb"]);
    std::fs::write(
        &path,
        format!(
            "{}  dns:\n    entity: source.ip\n    fields:\n      dns.extra: string\n",
            text.replace(
                "context: [gateway.client, gateway.verb]",
                "context: [gateway.verbs]"
            )
        ),
    )
    .unwrap();
    let mut map = SourceMap::default();
    let Err(ExtendError::Invalid(diagnostics)) =
        Taxonomy::bundled().extended(&mut map, std::slice::from_ref(&path))
    else {
        panic!("`gateway.verbs` is no field and `dns` is bundled")
    };
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.id).collect();
    assert_eq!(codes, ["E0916", "E0914"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An extension names SQL columns too, checked like the other targets':
/// an unknown key or field with a did-you-mean, a name the `events` view
/// cannot read, `@timestamp` elsewhere than the view's time column; and a
/// new source with no `dataset` routes rows by its own name.
#[test]
fn an_extension_names_sql_columns_checked_at_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("tripline-taxonomy-sql-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("sql.yaml");
    std::fs::write(
        &bad,
        "sources:
  smtp:
    description: SMTP commands
    fields:
      \"@timestamp\": time
      smtp.command: string
      smtp.argument: string
    targets:
      sql:
        tabel: events
        fields:
          \"@timestamp\": ts
          smtp.comand: smtp.command
          smtp.argument: \"smtp'argument\"
",
    )
    .unwrap();
    let run = tripline(&["taxonomy", "--taxonomy", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    for needle in [
        "error[E0911]: unknown key `tabel`",
        "sql.yaml:10:9",
        "did you mean `table`?",
        "error[E0917]: `@timestamp` is the `events` view's time column: `@timestamp` cannot be named `ts`",
        "sql.yaml:12:25",
        "error[E0916]: source `smtp` has no field `smtp.comand`",
        "sql.yaml:13:11",
        "did you mean `smtp.command`?",
        "error[E0917]: `smtp'argument` cannot be a column of the `events` view",
        "sql.yaml:14:26",
    ] {
        assert!(run.stderr.contains(needle), "{needle}\n{}", run.stderr);
    }

    // With the target-wide key or a mapping's own key alike, a new source
    // without `dataset` routes rows by its name.
    let path = dir.join("vrfy.trip");
    std::fs::write(&path, rule("from smtp\n  where smtp.command == \"VRFY\"")).unwrap();
    for key in ["sql", "sql/default"] {
        let good = dir.join("good.yaml");
        std::fs::write(
            &good,
            format!(
                "sources:
  smtp:
    description: SMTP commands
    fields:
      \"@timestamp\": time
      smtp.command: string
    targets:
      {key}:
        fields:
          \"@timestamp\": \"@timestamp\"
          smtp.command: smtp.command
"
            ),
        )
        .unwrap();
        let built = tripline(&[
            "build",
            "--target",
            "sql",
            "--taxonomy",
            good.to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert_eq!(built.code, 0, "{key}: {}", built.stderr);
        assert!(
            built.stdout.contains(
                "FROM events\nWHERE coalesce(lower(\"event.dataset\"), '') IN ('', 'smtp')\n  AND lower(\"smtp.command\") = 'vrfy'"
            ),
            "{key}: {}",
            built.stdout
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
