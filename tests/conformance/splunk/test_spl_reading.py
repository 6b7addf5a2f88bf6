"""Unit tests of the SPL reading: each pins one documented behaviour (or one
assumption the reading writes down). Run: python3 -m unittest (from this
folder) or python3 -m unittest discover tests/conformance/splunk."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spl_reading import (Reading, SplError, Unsupported, expand_macros, parse_macros_conf,  # noqa: E402
                         parse_search, pcre_to_python)

MACROS = """
[tripline_dns]
definition = (`cim_Network_Resolution_indexes`) tag=network tag=resolution tag=dns
iseval = 0

[tripline_summariesonly]
definition = summariesonly=false allow_old_summaries=true
iseval = 0
"""

DNS = ["network", "resolution", "dns"]


def ev(n, **fields):
    return {"_time": 1767225600 + n, "tag": DNS, "index": "main", **fields}


def run(spl, events, **options):
    return Reading(macros=parse_macros_conf(MACROS), **options).run(spl, events)


def picked(spl, events, **options):
    """Positions of the events a search keeps."""
    rows = run(spl, events, **options)
    out = set()
    for r in rows:
        out |= set(r["__rows"])
    return out


class Macros(unittest.TestCase):
    def test_macro_expands_textually(self):
        macros = parse_macros_conf(MACROS)
        self.assertEqual(expand_macros("(`tripline_dns`) x=1", {**macros, "cim_Network_Resolution_indexes": "()"}),
                         "((()) tag=network tag=resolution tag=dns) x=1")

    def test_backtick_in_a_quoted_string_is_text(self):
        self.assertEqual(expand_macros('f="a`b`"', {}), 'f="a`b`"')

    def test_unknown_macro_is_an_error(self):
        with self.assertRaises(SplError):
            expand_macros("`nope`", {})

    def test_macro_with_arguments_is_unsupported(self):
        with self.assertRaises(Unsupported):
            expand_macros("`m(1)`", {})

    def test_base_macro_selects_tagged_events(self):
        events = [ev(0), {**ev(1), "tag": ["web"]}]
        self.assertEqual(picked("(`tripline_dns`)", events), {0})


class SearchTerms(unittest.TestCase):
    def test_a_lone_star_keeps_every_row(self):
        # A rule's tuning macro defaults to `search *` at the end.
        events = [ev(0, query="a"), ev(1)]
        self.assertEqual(picked('(`tripline_dns`) | search *', events), {0, 1})

    def test_terms_ignore_case(self):
        self.assertEqual(picked('(`tripline_dns`) record_type="axfr"', [ev(0, record_type="AXFR")]), {0})

    def test_wildcard_anywhere(self):
        events = [ev(0, query="www.example.com"), ev(1, query="example.org")]
        self.assertEqual(picked('(`tripline_dns`) query="*.EXAMPLE.*"', events), {0})

    def test_star_cannot_be_escaped(self):
        # A backslash before * is not an escape in search: the value is the
        # text `a\` then a wildcard.
        self.assertEqual(picked('(`tripline_dns`) query="a\\\\*"', [ev(0, query="a\\xyz")]), {0})

    def test_any_value_of_a_multivalue_field(self):
        self.assertEqual(picked("(`tripline_dns`) answer=b", [ev(0, answer=["a", "B"])]), {0})

    def test_not_keeps_events_without_the_field(self):
        events = [ev(0, record_type="A"), ev(1)]
        self.assertEqual(picked("(`tripline_dns`) NOT record_type=A", events), {1})

    def test_ne_drops_events_without_the_field(self):
        events = [ev(0, record_type="A"), ev(1), ev(2, record_type="MX")]
        self.assertEqual(picked("(`tripline_dns`) record_type!=A", events), {2})

    def test_field_star_needs_the_field(self):
        self.assertEqual(picked("(`tripline_dns`) query=*", [ev(0, query="x"), ev(1)]), {0})

    def test_or_binds_tighter_than_implicit_and(self):
        events = [ev(0, a="1", b="0"), ev(1, a="0", b="0", c="1"), ev(2, a="1", c="1")]
        # a=1 AND (b=0 OR c=1)
        self.assertEqual(picked("(`tripline_dns`) a=1 b=0 OR c=1", events), {0, 2})

    def test_in_list(self):
        events = [ev(0, record_type="ixfr"), ev(1, record_type="A")]
        self.assertEqual(picked('(`tripline_dns`) record_type IN ("AXFR", "IXFR")', events), {0})

    def test_cidr_ipv4(self):
        events = [ev(0, src="10.1.2.3"), ev(1, src="11.0.0.1"), ev(2, src="010.1.2.3"), ev(3, src="x")]
        self.assertEqual(picked("(`tripline_dns`) src=10.0.0.0/8", events), {0})

    def test_cidr_ipv6_and_mapped(self):
        events = [ev(0, src="2001:DB8::1"), ev(1, src="::ffff:10.1.2.3"), ev(2, src="10.1.2.3")]
        self.assertEqual(picked("(`tripline_dns`) src=2001:db8::/32", events), {0})
        # Assumption: an IPv4-mapped IPv6 address is not inside an IPv4 block...
        self.assertEqual(picked("(`tripline_dns`) src=10.0.0.0/8", events), {2})
        # ...but is inside the mapped IPv6 block.
        self.assertEqual(picked('(`tripline_dns`) src="::ffff:a00:0/104"', events), {1})

    def test_comparison_numeric_or_lexicographic(self):
        events = [ev(0, src_port="9"), ev(1, src_port="10"), ev(2, src_port="abc")]
        self.assertEqual(picked("(`tripline_dns`) src_port>8", events), {0, 1, 2})  # "abc" > "8" as text
        self.assertEqual(picked("(`tripline_dns`) src_port<10", events), {0})

    def test_text_term_compares_text(self):
        self.assertEqual(picked("(`tripline_dns`) src_port=443", [ev(0, src_port="0443")]), set())

    def test_bare_keyword_is_unsupported(self):
        with self.assertRaises(Unsupported):
            run("(`tripline_dns`) error", [ev(0)])

    def test_empty_parentheses_match_everything(self):
        self.assertEqual(picked("() tag=dns", [ev(0)]), {0})

    def test_empty_string_value_knob(self):
        events = [ev(0, query="")]
        self.assertEqual(picked("(`tripline_dns`) query=*", events), {0})
        self.assertEqual(picked("(`tripline_dns`) query=*", events, empty_is_value=False), set())

    def test_index_and_tag_terms(self):
        events = [ev(0), {**ev(1), "index": "dns"}, {**ev(2), "index": "web", "tag": ["web"]}]
        self.assertEqual(picked("index IN (main, DNS) tag=dns", events), {0, 1})
        self.assertEqual(picked("index=* NOT tag=resolution", events), {2})

    def test_fields_minus(self):
        rows = run("(`tripline_dns`) | fields - query", [ev(0, query="a", src="b")])
        self.assertNotIn("query", rows[0])
        self.assertEqual(rows[0]["src"], "b")

    def test_search_after_a_pipe(self):
        self.assertEqual(picked("(`tripline_dns`) | search query=a*", [ev(0, query="ab"), ev(1, query="b")]), {0})


class WhereAndEval(unittest.TestCase):
    def test_where_is_case_sensitive(self):
        self.assertEqual(picked('(`tripline_dns`) | where record_type=="axfr"', [ev(0, record_type="AXFR")]), set())

    def test_comparison_with_null_is_null_and_not_null_is_null(self):
        events = [ev(0, query="a"), ev(1)]
        self.assertEqual(picked('(`tripline_dns`) | where query!="b"', events), {0})
        self.assertEqual(picked('(`tripline_dns`) | where NOT query=="b"', events), {0})
        self.assertEqual(picked('(`tripline_dns`) | where isnull(query) OR query!="b"', events), {0, 1})

    def test_and_binds_tighter_than_or(self):
        events = [ev(0, a="1"), ev(1, b="1", c="0")]
        self.assertEqual(picked('(`tripline_dns`) | where a=="1" OR b=="1" AND c=="1"', events), {0})

    def test_mvfilter_tests_every_value_and_is_null_when_none_kept(self):
        events = [ev(0, answer=["a", "b"]), ev(1, answer=["c"]), ev(2)]
        self.assertEqual(picked('(`tripline_dns`) | where isnotnull(mvfilter(answer=="b"))', events), {0})
        self.assertEqual(picked('(`tripline_dns`) | where NOT isnotnull(mvfilter(answer=="b"))', events), {1, 2})

    def test_comparison_on_a_multivalue_is_unsupported(self):
        with self.assertRaises(Unsupported):
            run('(`tripline_dns`) | where answer=="a"', [ev(0, answer=["a", "b"])])

    def test_match_is_pcre_unanchored(self):
        self.assertEqual(picked('(`tripline_dns`) | where match(query, "b\\\\.c")', [ev(0, query="ab.cd")]), {0})

    def test_match_z_is_the_true_end(self):
        events = [ev(0, query="ab\n"), ev(1, query="ab")]
        self.assertEqual(picked('(`tripline_dns`) | where match(query, "b$")', events), {0, 1})
        self.assertEqual(picked('(`tripline_dns`) | where match(query, "b\\\\z")', events), {1})

    def test_match_classes_are_ascii(self):
        self.assertEqual(picked('(`tripline_dns`) | where match(query, "^\\\\w$")', [ev(0, query="é")]), set())

    def test_pcre_bytes_mode(self):
        events = [ev(0, query="é")]
        self.assertEqual(picked('(`tripline_dns`) | where match(query, "^.$")', events), {0})
        self.assertEqual(picked('(`tripline_dns`) | where match(query, "^.$")', events, pcre_bytes=True), set())

    def test_like_percent_and_underscore(self):
        events = [ev(0, query="axxb"), ev(1, query="ab"), ev(2, query="AXB")]
        self.assertEqual(picked('(`tripline_dns`) | where like(query, "a%b")', events), {0, 1})
        self.assertEqual(picked('(`tripline_dns`) | where like(query, "a_b")', events), set())

    def test_cidrmatch(self):
        events = [ev(0, src="10.9.8.7"), ev(1, src="::ffff:10.9.8.7"), ev(2, src="010.9.8.7")]
        self.assertEqual(picked('(`tripline_dns`) | where cidrmatch("10.0.0.0/8", src)', events), {0})

    def test_numbers_from_fields_compare_numerically(self):
        events = [ev(0, src_port="0443"), ev(1, src_port="443")]
        self.assertEqual(picked("(`tripline_dns`) | where src_port==443", events), {0, 1})
        # A text function's result is a string: compared as text.
        self.assertEqual(picked('(`tripline_dns`) | where ltrim(src_port, "0")=="443"', events), {0, 1})
        self.assertEqual(picked('(`tripline_dns`) | where lower(src_port)=="443"', events), {1})

    def test_numbers_are_doubles(self):
        events = [ev(0, src_port="9223372036854775808")]
        self.assertEqual(picked("(`tripline_dns`) | where tonumber(src_port)<=9223372036854775807", events), {0})

    def test_eval_functions(self):
        rows = run('(`tripline_dns`) | eval a=lower("AbC"), b=upper("x") . "y", c=len("héllo"), '
                   'd=substr("abcdef", 2, 3), e=replace("a1b2", "[0-9]", "#"), f=if(1>2, "y", "n"), '
                   'g=case(1==2, "a", 1==1, "b"), h=coalesce(nope, "z"), i=mvcount(mvappend("a", "b", "a")), '
                   'j=mvindex(mvdedup(mvappend("a", "b", "a")), -1), k=floor(7/2), l=tostring(3), m=isnum(src_port), '
                   'n=isstr(query), o=mvmap(answer, upper(answer)), p=trim("  x "), q=in("b", "a", "b"), '
                   'r=tonumber("0x1F", 16)', [ev(0, src_port="12", query="q", answer=["a", "b"])])
        r = rows[0]
        self.assertEqual((r["a"], r["b"], r["c"], r["d"], r["e"], r["f"], r["g"], r["h"]),
                         ("abc", "Xy", 5, "bcd", "a#b#", "n", "b", "z"))
        self.assertEqual((r["i"], r["j"], r["k"], r["l"], r["m"], r["n"], r["o"], r["p"], r["q"], r["r"]),
                         (3, "b", 3.0, "3", True, True, ["A", "B"], "x", True, 31))

    def test_unknown_function_is_unsupported(self):
        with self.assertRaises(Unsupported):
            run('(`tripline_dns`) | eval a=sha256("x")', [ev(0)])

    def test_unknown_command_is_unsupported(self):
        with self.assertRaises(Unsupported):
            run("(`tripline_dns`) | transaction src", [ev(0)])

    def test_quoted_field_reference(self):
        self.assertEqual(picked("(`tripline_dns`) | where 'DNS.query'==\"a\"", [ev(0, **{"DNS.query": "a"})]), {0})


class Stats(unittest.TestCase):
    def test_stats_by_multivalue_counts_in_each_value(self):
        events = [ev(0, src=["a", "b"]), ev(1, src="a"), ev(2)]
        rows = run("(`tripline_dns`) | stats count dc(query) BY src", events)
        self.assertEqual({r["src"]: r["count"] for r in rows}, {"a": 2, "b": 1})

    def test_dc_is_case_sensitive(self):
        rows = run("(`tripline_dns`) | stats dc(user) AS n", [ev(0, user="A"), ev(1, user="a")])
        self.assertEqual(rows[0]["n"], 2)

    def test_earliest_latest_first_last(self):
        events = [ev(5, user="late"), ev(1, user="early"), ev(3, user="mid")]
        r = run("(`tripline_dns`) | stats earliest(user) AS e latest(user) AS l first(user) AS f last(user) AS z",
                events)[0]
        # Results run newest first: first() is the latest event.
        self.assertEqual((r["e"], r["l"], r["f"], r["z"]), ("early", "late", "late", "early"))

    def test_values_min_max_sum(self):
        r = run("(`tripline_dns`) | stats values(x) AS v min(x) AS lo max(x) AS hi sum(x) AS s",
                [ev(0, x="10"), ev(1, x="9"), ev(2, x="9")])[0]
        self.assertEqual((r["v"], r["lo"], r["hi"], r["s"]), (["10", "9"], 9.0, 10.0, 28.0))

    def test_eventstats_attaches(self):
        rows = run("(`tripline_dns`) | eventstats count AS n BY src", [ev(0, src="a"), ev(1, src="a"), ev(2)])
        self.assertEqual(sorted(r.get("n", 0) for r in rows), [0, 2, 2])

    def test_rename_wildcards_table_fields_sort_dedup(self):
        rows = run('(`tripline_dns`) | rename "D.*" AS "*" | table src n | sort - n | dedup src',
                   [ev(0, **{"D.src": "a", "D.n": "1"}), ev(1, **{"D.src": "a", "D.n": "2"}), ev(2, **{"D.src": "b", "D.n": "3"})])
        self.assertEqual([(r["src"], r["n"]) for r in rows], [("b", "3"), ("a", "2")])

    def test_bin_on_the_epoch(self):
        rows = run("(`tripline_dns`) | bin _time span=5m | stats count BY _time", [ev(0), ev(299), ev(300)])
        self.assertEqual({r["_time"]: r["count"] for r in rows}, {1767225600.0: 2, 1767225900.0: 1})

    def test_streamstats_and_mvexpand(self):
        rows = run("(`tripline_dns`) | streamstats count AS id | mvexpand src", [ev(0, src=["a", "b"]), ev(1, src="c")])
        self.assertEqual(sorted((r["id"], r["src"]) for r in rows), [(1, "c"), (2, "a"), (2, "b")])

    def test_streamstats_previous_result_of_each_group(self):
        # current=f window=1 global=f: each result gets the value of the
        # result before it in its own group; the first of a group none.
        events = [ev(0, src="a", v="1"), ev(1, src="b", v="2"), ev(2, src="a", v="3"), ev(3, src="a", v="4")]
        q = "(`tripline_dns`) | sort 0 _time | streamstats current=f window=1 global=f last(v) AS p BY src"
        self.assertEqual([(r["src"], r["v"], r.get("p")) for r in run(q, events)],
                         [("a", "1", None), ("b", "2", None), ("a", "3", "1"), ("a", "4", "3")])

    def test_streamstats_global_window_spans_groups(self):
        # global=true (the default): one window of the last result of all,
        # whose statistics count only the current result's group.
        events = [ev(0, src="a", v="1"), ev(1, src="b", v="2"), ev(2, src="a", v="3")]
        q = "(`tripline_dns`) | sort 0 _time | streamstats current=f window=1 last(v) AS p BY src"
        self.assertEqual([r.get("p") for r in run(q, events)], [None, None, None])
        q = "(`tripline_dns`) | sort 0 _time | streamstats current=f window=1 last(v) AS p"
        self.assertEqual([r.get("p") for r in run(q, events)], [None, "1", "2"])

    def test_streamstats_current_counts_the_result_itself(self):
        events = [ev(0, src="a"), ev(1, src="a")]
        q = "(`tripline_dns`) | sort 0 _time | streamstats {}count AS c"
        self.assertEqual([r["c"] for r in run(q.format(""), events)], [1, 2])
        self.assertEqual([r["c"] for r in run(q.format("current=f "), events)], [0, 1])

    def test_streamstats_functions_beyond_the_reading_are_unsupported(self):
        with self.assertRaises(Unsupported):
            run("(`tripline_dns`) | streamstats avg(v) AS a", [ev(0, v="1")])

    def test_mvrange_excludes_its_end(self):
        rows = run("(`tripline_dns`) | eval r=mvrange(120-60, 120+60, 30), one=mvrange(5, 6, 1)", [ev(0)])
        self.assertEqual((rows[0]["r"], rows[0]["one"]), ([60.0, 90.0, 120.0, 150.0], 5.0))

    def test_stats_by_a_range_counts_the_event_in_each_window(self):
        # Hopping windows: each event counted in every window holding it.
        events = [ev(0), ev(70)]
        q = ("(`tripline_dns`) | eval tl_w=mvrange(floor(_time/60)*60-60, floor(_time/60)*60+60, 60) "
             "| stats count BY tl_w | sort 0 tl_w")
        t0 = 1767225600
        self.assertEqual([(r["tl_w"], r["count"]) for r in run(q, events)],
                         [(t0 - 60, 1), (t0, 2), (t0 + 60, 1)])


class Tstats(unittest.TestCase):
    def test_tstats_reads_the_model_with_prefixed_fields(self):
        events = [ev(0, query="a", src="1.1.1.1"), ev(1, query="b", src="2.2.2.2"), {**ev(2, query="a"), "tag": ["web"]}]
        rows = run("| tstats `tripline_summariesonly` count FROM datamodel=Network_Resolution.DNS "
                   'WHERE DNS.query="A" BY DNS.src | rename DNS.* AS *', events)
        self.assertEqual([(r["src"], r["count"]) for r in rows], [("1.1.1.1", 1)])

    def test_by_splits_multivalue_and_drops_missing(self):
        events = [ev(0, src=["a", "b"]), ev(1)]
        rows = run("| tstats count FROM datamodel=Network_Resolution.DNS BY DNS.src", events)
        self.assertEqual({r["DNS.src"]: r["count"] for r in rows}, {"a": 1, "b": 1})

    def test_fillnull_value_keeps_missing(self):
        rows = run("| tstats fillnull_value=unknown count FROM datamodel=Network_Resolution.DNS BY DNS.src", [ev(0)])
        self.assertEqual(rows[0]["DNS.src"], "unknown")

    def test_span_buckets_on_the_epoch(self):
        rows = run("| tstats count FROM datamodel=Network_Resolution.DNS BY _time span=1m", [ev(0), ev(59), ev(60)])
        self.assertEqual({r["_time"]: r["count"] for r in rows}, {1767225600.0: 2, 1767225660.0: 1})

    def test_authentication_model_drops_successful_computer_logons(self):
        auth = ["authentication"]
        events = [{**ev(0, action="success", user="HOST$"), "tag": auth},
                  {**ev(1, action="failure", user="HOST$"), "tag": auth},
                  {**ev(2, action="success", user="bob"), "tag": auth}]
        rows = run("| tstats count FROM datamodel=Authentication.Authentication BY Authentication.user "
                   "Authentication.action", events)
        self.assertEqual(sorted(r["__rows"] for r in rows), [frozenset([1]), frozenset([2])])

    def test_nodename(self):
        events = [{**ev(0, url="a"), "tag": ["web"]}, {**ev(1, url="b"), "tag": ["web", "proxy"]}]
        q = "| tstats count FROM datamodel=Web.Web WHERE {} BY Web.url"
        self.assertEqual(picked(q.format("nodename=Web.Proxy"), events), {1})
        with self.assertRaises(Unsupported):
            run(q.format("NOT nodename=Web.Proxy"), events)
        self.assertEqual(picked(q.format("NOT nodename=Web.Proxy"), events, nodename_terms=True), {0})
        # CIM's `tag` field: the web events outside Web.Proxy (constraint tag=proxy).
        self.assertEqual(picked(q.format("NOT Web.tag=proxy"), events), {0})


class Addinfo(unittest.TestCase):
    def test_dispatch_range_and_slot_filter(self):
        t0 = 1767225600
        events = [ev(0, src="a"), ev(599, src="a"), ev(600, src="a"), ev(1200, src="a")]
        q = ("search src=* | eval tl_w=floor(_time/600)*600 | stats count BY tl_w | addinfo "
             "| where tl_w+600>info_max_time-600 AND tl_w+600<=info_max_time")
        # The run of [t0, t0+1200): the window [t0+600, t0+1200) ends at its end.
        rows = run(q, events, dispatch=(t0, t0 + 1200))
        self.assertEqual([(r["tl_w"], r["count"], r["info_min_time"]) for r in rows], [(t0 + 600, 1, t0)])
        # The range bounds the events read: the event at t0+1200 is outside.
        self.assertEqual(picked("search src=*", events, dispatch=(t0, t0 + 1200)), {0, 1, 2})

    def test_unbounded_and_missing_range(self):
        rows = run("search src=* | addinfo", [ev(0, src="a")], dispatch=(None, None))
        self.assertEqual((rows[0]["info_min_time"], rows[0]["info_max_time"]), (0.0, float("inf")))
        with self.assertRaises(Unsupported):
            run("search src=* | addinfo", [ev(0, src="a")])


class Pcre(unittest.TestCase):
    def test_translation(self):
        self.assertEqual(pcre_to_python(r"\d[\w-]\z"), r"[0-9][0-9A-Za-z_-]\Z")

    def test_unknown_escape_unsupported(self):
        with self.assertRaises(Unsupported):
            pcre_to_python(r"\p{L}")

    def test_search_parse_shapes(self):
        self.assertEqual(parse_search("NOT a=1")[1][0][0], "not")


if __name__ == "__main__":
    unittest.main()
