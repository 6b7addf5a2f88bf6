//! Routing by `event.dataset` and `--source` (language.md 1.2, 1.4).

use super::kit::*;
use crate::eval::{Engine, LineReport, Output, Routing};

fn sources() -> Vec<String> {
    [
        "dns",
        "network",
        "web",
        "proxy",
        "authentication",
        "process",
    ]
    .map(String::from)
    .to_vec()
}

/// The rules (by name) that match `line`, and the line's report.
fn run(routing: Routing, line: &str) -> (Vec<String>, LineReport) {
    let rules = [rule("d", "dns", any(), None), rule("w", "web", any(), None)];
    let Ok(mut engine) = Engine::new(&rules, routing, None) else {
        return (Vec::new(), LineReport::default());
    };
    let mut hits = Vec::new();
    let report = engine.process(line, &mut |out| {
        if let Output::Match { rule, .. } = out {
            hits.push(rule);
        }
    });
    let names = hits
        .iter()
        .map(|&i| engine.rules()[i].name.clone())
        .collect();
    (names, report)
}

#[test]
fn events_reach_the_rules_of_their_source() {
    let by_field = || Routing::by_field(Routing::DEFAULT_FIELD, sources());
    let rows: &[(&str, &[&str], bool)] = &[
        (r#"{"event":{"dataset":"dns"}}"#, &["d"], false),
        (r#"{"event.dataset":"DNS"}"#, &["d"], false),
        (r#"{"event":{"dataset":"web"}}"#, &["w"], false),
        (r#"{}"#, &["d", "w"], false),
        (r#"{"event":{"dataset":null}}"#, &["d", "w"], false),
        (r#"{"event":{"dataset":""}}"#, &["d", "w"], false),
        (r#"{"event":{"dataset":[]}}"#, &["d", "w"], false),
        (r#"{"event":{"dataset":"process"}}"#, &[], false),
        (r#"{"event":{"dataset":"zeek.dns"}}"#, &[], true),
        (r#"{"event":{"dataset":7}}"#, &[], true),
        (r#"{"event":{"dataset":["dns"]}}"#, &[], true),
    ];
    for (line, expected, unrouted) in rows {
        let (hits, report) = run(by_field(), line);
        assert_eq!(hits, *expected, "{line}");
        assert_eq!(report.unrouted, *unrouted, "{line}");
    }
    let (hits, _) = run(
        Routing::by_field("kind", sources()),
        r#"{"kind":"web","event":{"dataset":"dns"}}"#,
    );
    assert_eq!(hits, ["w"]);
    let (hits, report) = run(
        Routing::Fixed("dns".into()),
        r#"{"event":{"dataset":"zeek"}}"#,
    );
    assert_eq!(hits, ["d"]);
    assert!(!report.unrouted);
}

#[test]
fn dataset_names_route_through_the_table_and_data_stream_dataset() {
    let routing = || Routing::Field {
        paths: Routing::DEFAULT_FIELDS.map(String::from).to_vec(),
        sources: sources(),
        routes: vec![
            ("zeek.dns".into(), "dns".into()),
            ("Nginx.Access".into(), "web".into()),
            // A route to a source the routing does not know is left out.
            ("x.y".into(), "nope".into()),
        ],
        codes: Vec::new(),
    };
    let rows: &[(&str, &[&str], Option<&str>)] = &[
        (r#"{"event":{"dataset":"zeek.dns"}}"#, &["d"], None),
        (r#"{"event":{"dataset":"NGINX.access"}}"#, &["w"], None),
        (r#"{"data_stream":{"dataset":"zeek.dns"}}"#, &["d"], None),
        // event.dataset decides when it has a value, even an unknown one.
        (
            r#"{"event":{"dataset":"web"},"data_stream":{"dataset":"zeek.dns"}}"#,
            &["w"],
            None,
        ),
        (
            r#"{"event":{"dataset":"zeek.conn"},"data_stream":{"dataset":"dns"}}"#,
            &[],
            Some("zeek.conn"),
        ),
        (
            r#"{"event":{"dataset":""},"data_stream":{"dataset":"zeek.dns"}}"#,
            &["d"],
            None,
        ),
        (r#"{"data_stream":{"dataset":"x.y"}}"#, &[], Some("x.y")),
        (r#"{"data_stream":{"dataset":7}}"#, &[], Some("<number>")),
        (
            r#"{"data_stream":{"dataset":{"a":1}}}"#,
            &[],
            Some("<object>"),
        ),
        (r#"{}"#, &["d", "w"], None),
    ];
    for (line, expected, unrouted_as) in rows {
        let (hits, report) = run(routing(), line);
        assert_eq!(hits, *expected, "{line}");
        assert_eq!(report.unrouted_as.as_deref(), *unrouted_as, "{line}");
        assert_eq!(report.unrouted, unrouted_as.is_some(), "{line}");
    }
}

#[test]
fn a_rule_over_several_sources_sees_each_event_once() {
    // `from web, proxy` (proxy twice: still once): a web and a proxy event
    // match once each, a dns event not; a threshold counts both sources.
    let mut both = rule("wp", "web", any(), None);
    both.more_sources = vec!["proxy".into(), "PROXY".into()];
    let routing = Routing::by_field(Routing::DEFAULT_FIELD, sources());
    let Ok(mut engine) = Engine::new(&[both.clone()], routing.clone(), None) else {
        unreachable!("the rule compiles");
    };
    let mut hits = 0;
    for line in [
        r#"{"event":{"dataset":"web"}}"#,
        r#"{"event":{"dataset":"proxy"}}"#,
        r#"{"event":{"dataset":"dns"}}"#,
    ] {
        engine.process(line, &mut |out| {
            if let Output::Match { .. } = out {
                hits += 1;
            }
        });
    }
    assert_eq!(hits, 2);
    both.detection =
        crate::ir::Detection::Aggregation(count(&[], 60, crate::ir::Comparison::Ge, 1));
    let Ok(mut engine) = Engine::new(&[both], routing, None) else {
        unreachable!("the rule compiles");
    };
    let mut alerts = Vec::new();
    let mut collect = |out: Output<'_>| {
        if let Output::Alert { alert, .. } = out {
            alerts.push(alert.value());
        }
    };
    for line in [
        r#"{"@timestamp":1,"event":{"dataset":"web"}}"#,
        r#"{"@timestamp":2,"event":{"dataset":"proxy"}}"#,
        r#"{"@timestamp":3,"event":{"dataset":"dns"}}"#,
    ] {
        engine.process(line, &mut collect);
    }
    engine.finish(&mut collect);
    assert_eq!(alerts, [2]);
}

/// A dataset with code routes sends an event by its `event.code` (text or
/// integer) first, else by the dataset's own route.
#[test]
fn code_routes_pick_the_source_by_event_code_before_the_dataset_route() {
    let routing = || Routing::Field {
        paths: Routing::DEFAULT_FIELDS.map(String::from).to_vec(),
        sources: sources(),
        routes: vec![("win.sec".into(), "dns".into())],
        codes: vec![
            ("Win.Sec".into(), "4688".into(), "web".into()),
            // A code route to a source the routing does not know is left out.
            ("win.sec".into(), "1".into(), "nope".into()),
        ],
    };
    let rows: &[(&str, &[&str])] = &[
        (r#"{"event":{"dataset":"win.sec","code":"4688"}}"#, &["w"]),
        (r#"{"event":{"dataset":"WIN.SEC","code":4688}}"#, &["w"]),
        (r#"{"event":{"dataset":"win.sec","code":"4625"}}"#, &["d"]),
        (r#"{"event":{"dataset":"win.sec","code":" 4688"}}"#, &["d"]),
        (r#"{"event":{"dataset":"win.sec","code":"1"}}"#, &["d"]),
        (
            r#"{"event":{"dataset":"win.sec","code":["4688","1"]}}"#,
            &["d"],
        ),
        (r#"{"event":{"dataset":"win.sec"}}"#, &["d"]),
        // Codes apply to the dataset they name only.
        (r#"{"event":{"dataset":"dns","code":"4688"}}"#, &["d"]),
    ];
    for (line, want) in rows {
        let (hits, report) = run(routing(), line);
        assert_eq!(hits, *want, "{line}");
        assert!(!report.unrouted, "{line}");
    }
}
