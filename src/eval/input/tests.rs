//! The inputs' parsers and mappings, record by record.

use serde_json::{Map, Value};

use super::mapping::{
    Mappings, TRANSFORMS, account, basename, default_codes, default_routes, extension,
};
use super::*;

fn decode(format: Format, line: &str) -> Result<Map<String, Value>, Malformed> {
    let Ok(decoder) = Decoder::new(format, 2026) else {
        unreachable!("the bundled mappings read (checked below)");
    };
    let json = decoder.decode(line)?;
    match serde_json::from_str(&json) {
        Ok(map) => Ok(map),
        Err(e) => Err(Malformed::record(e.to_string())),
    }
}

fn field<'m>(event: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    event.get(name).and_then(Value::as_str)
}

#[test]
fn the_bundled_mappings_read_and_name_known_transformations() {
    let mappings = Mappings::bundled();
    assert!(mappings.is_ok(), "{mappings:?}");
    let Ok(mappings) = mappings else { return };
    let mut all: Vec<&str> = Vec::new();
    for targets in (mappings.syslog.fields.values())
        .chain(mappings.cef.header.values())
        .chain(mappings.cef.extensions.values())
        .chain(mappings.evtx.system.values())
        .chain(mappings.evtx.events.iter().flat_map(|e| e.fields.values()))
    {
        all.extend(targets.iter());
    }
    for target in all {
        if let Some((_, transform)) = target.split_once('|') {
            assert!(TRANSFORMS.contains(&transform), "{target}");
        }
    }
    let routes = default_routes();
    assert!(routes.as_ref().is_ok_and(|r| r.len() > 10), "{routes:?}");
}

/// Each bundled code route names a taxonomy source, and its dataset has a
/// route of its own for the codes it does not list.
#[test]
fn bundled_code_routes_name_sources_and_routed_datasets() {
    let taxonomy = crate::check::taxonomy::Taxonomy::bundled();
    let routes = default_routes().unwrap_or_default();
    let codes = default_codes().unwrap_or_default();
    assert!(
        codes.contains(&("windows.security".into(), "4688".into(), "process".into())),
        "{codes:?}"
    );
    for (dataset, code, source) in &codes {
        assert!(
            taxonomy.source(source).is_some(),
            "{dataset} {code}: {source}"
        );
        assert!(routes.iter().any(|(name, _)| name == dataset), "{dataset}");
        assert!(code.parse::<u32>().is_ok(), "{dataset}: {code}");
    }
}

#[test]
fn formats_are_detected_from_their_first_bytes() {
    let rows: &[(&[u8], Format)] = &[
        (b"ElfFile\0\0\0", Format::Evtx),
        (b"CEF:0|Acme|FW|1|100|deny|5|src=10.0.0.1\n", Format::Cef),
        (
            b"<134>Dec  7 18:07:30 fw1 CEF:0|Acme|FW|1|100|deny|5|\n",
            Format::Cef,
        ),
        (
            b"<134>1 2026-12-07T18:07:30Z fw1 app - - - CEF:0|A|B|1|2|n|5|\n",
            Format::Cef,
        ),
        (
            b"\n<165>1 2026-12-07T18:07:30Z h app - - - hi\n",
            Format::Syslog,
        ),
        (b"<13>Dec  7 18:07:30 host sshd[42]: hi\n", Format::Syslog),
        (
            b"<13>2026-12-07T18:07:30+01:00 host sshd: hi\n",
            Format::Syslog,
        ),
        (b"<13>hello\n", Format::Jsonl),
        (b"{\"a\":1}\n", Format::Jsonl),
        (b"", Format::Jsonl),
    ];
    for (head, expected) in rows {
        assert_eq!(
            Format::detect(head),
            *expected,
            "{}",
            String::from_utf8_lossy(head)
        );
    }
}

#[test]
fn rfc5424_maps_its_header_and_structured_data() {
    let line = r#"<165>1 2026-12-07T18:07:30.5+01:00 web1 nginx 4242 ID47 [origin ip="10.0.0.9" x="a\"b\]c"][meta seq="1"] BOMless message"#;
    let event = decode(Format::Syslog, line);
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    let expect = [
        ("event.dataset", "system.syslog"),
        ("@timestamp", "2026-12-07T18:07:30.5+01:00"),
        ("host.name", "web1"),
        ("process.name", "nginx"),
        ("process.pid", "4242"),
        ("event.code", "ID47"),
        ("message", "BOMless message"),
        ("log.syslog.facility.code", "20"),
        ("log.syslog.facility.name", "local4"),
        ("log.syslog.severity.name", "notice"),
        ("log.syslog.structured_data.origin.ip", "10.0.0.9"),
        ("log.syslog.structured_data.origin.x", "a\"b]c"),
        ("log.syslog.structured_data.meta.seq", "1"),
    ];
    for (name, value) in expect {
        assert_eq!(field(&event, name), Some(value), "{name}");
    }
    // Nil parts write nothing; auth facility names its dataset.
    let event = decode(Format::Syslog, "<38>1 - - - - - -");
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    assert_eq!(field(&event, "event.dataset"), Some("system.auth"));
    assert_eq!(field(&event, "@timestamp"), None);
    assert_eq!(field(&event, "host.name"), None);
    assert_eq!(field(&event, "message"), Some(""));
}

#[test]
fn rfc3164_takes_the_given_year_and_finds_its_tag() {
    let event = decode(
        Format::Syslog,
        "<86>Dec  7 18:07:30 bastion sshd[1234]: Failed password for root",
    );
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    assert_eq!(field(&event, "@timestamp"), Some("2026-12-07T18:07:30Z"));
    assert_eq!(field(&event, "host.name"), Some("bastion"));
    assert_eq!(field(&event, "process.name"), Some("sshd"));
    assert_eq!(field(&event, "process.pid"), Some("1234"));
    assert_eq!(field(&event, "message"), Some("Failed password for root"));
    assert_eq!(field(&event, "event.dataset"), Some("system.auth"));
    // No hostname: the first word is the tag.
    let event = decode(Format::Syslog, "<13>Jan 05 01:02:03 cron: ran");
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    assert_eq!(field(&event, "@timestamp"), Some("2026-01-05T01:02:03Z"));
    assert_eq!(field(&event, "host.name"), None);
    assert_eq!(field(&event, "process.name"), Some("cron"));
    assert_eq!(field(&event, "message"), Some("ran"));
}

#[test]
fn malformed_syslog_names_the_column() {
    let rows: &[(&str, usize, &str)] = &[
        ("hello", 1, "expected `<PRI>`"),
        ("<999>1 - - - - - -", 2, "priority of 0 to 191"),
        ("<13>hello", 5, "expected a timestamp"),
        ("<13>1 - - -", 11, "expected APP-NAME"),
        (
            "<13>1 - - - - - [id a=\"b]",
            24,
            "unterminated parameter value",
        ),
        ("<13>1 - - - - - x", 17, "structured data"),
        ("<13>1 - - - - - [id]x", 21, "space before the message"),
    ];
    for (line, column, words) in rows {
        match decode(Format::Syslog, line) {
            Err(malformed) => {
                assert_eq!(malformed.column, Some(*column), "{line}: {malformed:?}");
                assert!(malformed.message.contains(words), "{line}: {malformed:?}");
            }
            Ok(event) => unreachable!("{line} parsed: {event:?}"),
        }
    }
}

#[test]
fn cef_maps_header_and_extensions() {
    let line = r"CEF:0|Acme|Web Gateway|2.1|403|Blocked\|denied|7|src=10.1.1.5 spt=51515 dst=192.0.2.7 dpt=443 suser=alice request=https://x.test/a?b\=c requestMethod=GET act=blocked outcome=failure msg=two words here cs1=v cs1Label=policy rt=1796666850000";
    let event = decode(Format::Cef, line);
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    let expect = [
        ("event.dataset", "cef.log"),
        ("cef.version", "0"),
        ("observer.vendor", "Acme"),
        ("observer.product", "Web Gateway"),
        ("observer.version", "2.1"),
        ("event.code", "403"),
        ("message", "Blocked|denied"),
        ("cef.severity", "7"),
        ("source.ip", "10.1.1.5"),
        ("source.port", "51515"),
        ("destination.ip", "192.0.2.7"),
        ("destination.port", "443"),
        ("user.name", "alice"),
        ("url.original", "https://x.test/a?b=c"),
        ("http.request.method", "GET"),
        ("event.action", "blocked"),
        ("event.outcome", "failure"),
        ("cef.extensions.msg", "two words here"),
        ("cef.extensions.cs1", "v"),
        ("cef.extensions.cs1Label", "policy"),
        ("@timestamp", "1796666850000"),
    ];
    for (name, value) in expect {
        assert_eq!(field(&event, name), Some(value), "{name}");
    }
}

#[test]
fn cef_after_a_syslog_header_takes_its_time_and_host() {
    let line =
        "<134>Dec  7 18:07:30 fw1 CEF:0|Acme|FW|1|100|deny|5|src=10.0.0.1 rt=Dec 07 2026 18:07:31";
    let event = decode(Format::Cef, line);
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    assert_eq!(field(&event, "observer.hostname"), Some("fw1"));
    // The record's `rt` wins over the header's time.
    assert_eq!(field(&event, "@timestamp"), Some("2026-12-07T18:07:31Z"));
    let line = "<134>Dec  7 18:07:30 fw1 CEF:0|Acme|FW|1|100|deny|5|src=10.0.0.1";
    let event = decode(Format::Cef, line);
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    assert_eq!(field(&event, "@timestamp"), Some("2026-12-07T18:07:30Z"));
}

#[test]
fn malformed_cef_names_the_column() {
    let rows: &[(&str, usize, &str)] = &[
        (
            "CEF:0|Acme|FW|1|100|deny",
            21,
            "found 5 (the name is missing)",
        ),
        ("CEF:0|A|B|1|2|n|5|=x", 19, "expected an extension"),
        ("CEF:0|A|B|1|2|n|5|a=b=c", 22, "unescaped `=`"),
        ("<13>1 - - - - - - hello", 19, "expected `CEF:`"),
        ("hello", 1, "expected `<PRI>`"),
    ];
    for (line, column, words) in rows {
        match decode(Format::Cef, line) {
            Err(malformed) => {
                assert_eq!(malformed.column, Some(*column), "{line}: {malformed:?}");
                assert!(malformed.message.contains(words), "{line}: {malformed:?}");
            }
            Ok(event) => unreachable!("{line} parsed: {event:?}"),
        }
    }
}

#[test]
fn evtx_records_map_system_and_event_data() {
    let record = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":4625,"TimeCreated":{"#attributes":{"SystemTime":"2026-12-07T18:07:30.123456Z"}},"EventRecordID":7,"Channel":"Security","Computer":"DC1"},"EventData":{"TargetUserName":"admin","TargetDomainName":"CORP","IpAddress":"-","LogonType":3,"SubStatus":"0xc000006a"}}}"##;
    let event = decode(Format::Evtx, record);
    let Ok(event) = event else {
        unreachable!("{event:?}")
    };
    let expect = [
        ("event.dataset", "windows.security"),
        ("@timestamp", "2026-12-07T18:07:30.123456Z"),
        ("event.code", "4625"),
        ("winlog.channel", "Security"),
        ("host.name", "DC1"),
        (
            "winlog.provider_name",
            "Microsoft-Windows-Security-Auditing",
        ),
        ("winlog.record_id", "7"),
        ("winlog.event_data.LogonType", "3"),
        ("winlog.event_data.IpAddress", "-"),
        ("winlog.logon.type", "Network"),
        ("user.name", "admin"),
        ("user.domain", "CORP"),
        ("error.code", "0xc000006a"),
        ("event.outcome", "failure"),
    ];
    for (name, value) in expect {
        assert_eq!(field(&event, name), Some(value), "{name}");
    }
    // `-` means none: not written to the taxonomy's field.
    assert_eq!(field(&event, "source.ip"), None);
    let error = decode(Format::Evtx, r#"{"$tripline_evtx_error":"bad chunk"}"#);
    assert_eq!(
        error.err().map(|m| (m.column, m.message)),
        Some((None, "bad chunk".into()))
    );
}

#[test]
fn path_transformations() {
    assert_eq!(basename(r"C:\Windows\System32\cmd.exe"), "cmd.exe");
    assert_eq!(basename("/usr/bin/curl"), "curl");
    assert_eq!(extension(r"C:\x\run.PS1"), Some("PS1"));
    assert_eq!(extension("/etc/.profile"), None);
    assert_eq!(extension("/usr/bin/curl"), None);
    assert_eq!(account(r"CORP\carol"), (Some("CORP"), "carol"));
    assert_eq!(account("carol"), (None, "carol"));
}
