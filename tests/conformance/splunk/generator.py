"""Adversarial rules and events for the splunk differential (differential.py).

Rules: one to three predicates under `not` / `and` / `or`, over every source
of the taxonomy and every operator (`==`, `!=`, `in`, `not in`, `contains`,
`startswith`, `endswith` with lists and `all`, `like` globs with `*` `?` and
escapes, `matches`, `in cidr` with IPv4, IPv6 and IPv4-mapped blocks,
`exists`, the integer comparisons), with values drawn from an alphabet of
search-language and regex metacharacters, quotes, backslashes, backticks,
controls, non-ASCII letters and case variants; and threshold rules (`count()`
and `distinct(f)`, with and without one or two `by` fields, every
comparison, several window lengths, tumbling or hopping). Version 2: `cased` comparisons (every
string operator), `by cased f` / `distinct(cased f)`, and `having`
conditions over `count()`, `distinct(f)`, `min(f)`, `max(f)` and `sum(f)`
with `and`, `or`, `not`; hopping windows (`over W step H`); rules over
two sources (`from web, proxy`, `from dns, network`) on the fields both hold;
`first seen` over one or two fields.

Events: values close to the rules' literals (as is, case swapped, padded),
missing fields, `""`, null, arrays (with duplicates and case variants),
numbers as text (`"0443"`, `" 443"`, `"4e2"`), IPv4-mapped and malformed
addresses, spread over a few windows so that groups accumulate.

Stdlib only; deterministic for a seed.
"""

import datetime as dt
import json

# The taxonomy (language.md "Taxonomy"): source -> {ECS field: type}.
SOURCES = {
    "dns": {"source.ip": "ip", "source.port": "int", "destination.ip": "ip", "dns.question.name": "string",
            "dns.question.type": "string", "dns.response_code": "string", "dns.answers.data": "string",
            "host.name": "string"},
    "network": {"source.ip": "ip", "source.port": "int", "destination.ip": "ip", "destination.port": "int",
                "network.transport": "string", "network.protocol": "string", "event.action": "string",
                "observer.name": "string"},
    "web": {"source.ip": "ip", "http.request.method": "string", "url.path": "string", "url.query": "string",
            "url.original": "string", "url.domain": "string", "http.response.status_code": "int",
            "user_agent.original": "string", "http.request.referrer": "string", "destination.ip": "ip"},
    "proxy": {"source.ip": "ip", "user.name": "string", "url.domain": "string", "url.original": "string",
              "url.path": "string", "http.request.method": "string", "http.response.status_code": "int",
              "user_agent.original": "string"},
    "authentication": {"source.ip": "ip", "user.name": "string", "user.domain": "string",
                       "event.outcome": "string", "event.reason": "string", "error.code": "string",
                       "service.name": "string", "user_agent.original": "string"},
    "process": {"host.name": "string", "user.name": "string", "process.name": "string",
                "process.executable": "string", "process.command_line": "string",
                "process.parent.name": "string"},
}

ALPHABET = (list("aAbBsSkK") + list("*?\\'\"%_ .:#-|=()[]{}$`,;/<>!~^+@") +
            ["\n", "\t", "é", "É", "ß", "ſ", "\u212a", "ς", "σ", "İ", "i", "😀", "\x01", "\x7f"])
WORDS = ["success", "failure", "Success", "AXFR", "axfr", "NXDOMAIN", "GET", "post", "admin", "ADMIN$",
         "host$", "true", "null", "443", "0443", "-", "*", "?", "\\", "a*b", "a\\*", "%", "_", "unknown",
         "10.1.2.3", "a b", "x=y", "NOT", "OR", "'q'", '"q"']
INT_VALUES = [443, "443", "0443", " 443", "443.0", "abc", "-0", "-1", -1, 0, "0", "00", "+443", "4e2",
              "9223372036854775808", "-9223372036854775808", 9223372036854775807, 22, "22", 65535, 1024, "", None, True,
              "9007199254740993", 9007199254740993, [443, "22"], ["0443", "x"], "-9223372036854775809",
              "09223372036854775807", "-09223372036854775808", "18446744073709551616", "-9007199254740993",
              "9007199254740992", "-00"]
INT_LITERALS = [0, 1, 22, 443, -1, 1024, 65535, 9223372036854775807, -9223372036854775808, 9007199254740992,
                -9007199254740992, 9223372036854775806, -9223372036854775807, -443]
#: Values real logs of a source hold, so that data-model constraints and
#: pack-like rules meet them (Authentication's model drops successful logons
#: of accounts ending in `$`).
TYPICAL = {"event.outcome": ["success", "failure", "Success", "FAILURE"],
           "user.name": ["HOST$", "admin", "svc$", "Admin"],
           "dns.question.type": ["AXFR", "a", "TXT"], "event.action": ["allowed", "blocked", "Deny"]}
IPS = ["10.1.2.3", "10.1.2.30", "::ffff:10.1.2.3", "::FFFF:10.1.2.3", "::ffff:a01:203", "::10.1.2.3",
       "010.1.2.3", "10.1.2.3 ", "fe80::1%eth0", "[::1]", "::1", "fd00::1", "FD00::1", "192.168.1.255",
       "2001:DB8::1", "2001:db8::1", "1.2.3.4", "-", "255.255.255.255", "0.0.0.0", "172.16.0.1", "ABC"]
BLOCKS = ["10.0.0.0/8", "::ffff:0:0/96", "fc00::/7", "192.168.1.0/24", "0.0.0.0/0", "::/0",
          "2001:db8::/32", "10.1.2.3", "::1", "1.2.3.4/32", "::ffff:10.0.0.0/104", "10.1.2.0/30"]
REGEXES = [r"a", r"^a", r"b$", r"\d", r"\w+", r"\s", r"(?i)é", r"(?i)^a", r"a.b", r"^.$", r"\bA",
           r"[%_]", r"\\", r'"', r"a|b", r"\.", r"[^a-z]", r"^-?[0-9]+$", r"\*", r"^\W", r"x\b",
           r"\B4", r"(a|b)+$", r"\S\s\S", r"^$|a", r"[$]", r"`", r"\$$", r"(?i)ADMIN\$$", r"a{2,3}",
           r"^[A-Z]+$", r"(?:ab)?c", r".*", r"^10\.", r"é", r"\|"]
WINDOWS = ["30s", "1m", "5m", "7m", "10m", "1h", "1d"]
#: Steps of hopping windows (`over W step H`), each dividing its window.
#: Not H = W: `tripline eval` lets such windows tumble (every satisfying
#: window alerts), where the language keeps one alert per run of windows.
STEPS = {"30s": ["10s", "15s"], "1m": ["20s", "30s"], "5m": ["1m", "150s"], "7m": ["1m", "210s"],
         "10m": ["2m", "5m"], "1h": ["10m", "15m"], "1d": ["1h", "6h"]}
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.pool = []

    def text(self, lo=1, hi=4):
        rng = self.rng
        if rng.random() < 0.3:
            value = rng.choice(WORDS)
        else:
            value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))
        self.pool.append(value)
        return value

    def near(self):
        rng = self.rng
        value = rng.choice(self.pool) if self.pool else self.text()
        roll = rng.random()
        if roll < 0.3:
            return value.swapcase()
        if roll < 0.5:
            return rng.choice(ALPHABET) + value + rng.choice(["", rng.choice(ALPHABET)])
        if roll < 0.6:
            return value.upper()
        return value

    def glob(self):
        rng = self.rng
        pieces = []
        for _ in range(rng.randint(1, 4)):
            pieces.append(rng.choice(["*", "?", "\\*", "\\?", "\\\\",
                                      self.text(1, 2).replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")]))
        return "".join(pieces)

    # -- rules
    def predicate(self, fields):
        rng = self.rng
        field = rng.choice(sorted(fields))
        kind = fields[field]
        if kind == "int":
            op = rng.choice(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "exists"])
            if op == "exists":
                return f"exists({field})"
            if op in ("in", "not in"):
                return f"{field} {op} [{', '.join(map(str, rng.sample(INT_LITERALS, rng.randint(1, 3))))}]"
            return f"{field} {op} {rng.choice(INT_LITERALS)}"
        ops = ["==", "!=", "in", "not in", "contains", "startswith", "endswith", "like", "matches", "exists"]
        if kind == "ip":
            ops += ["in cidr", "not in cidr", "in cidr"]
        op = rng.choice(ops)
        if op == "exists":
            return f"exists({field})"
        # Version 2: a case-sensitive comparison on a string field.
        if kind == "string" and op != "matches" and rng.random() < 0.25:
            op = f"cased {op}"
        if op.endswith("cidr"):
            blocks = rng.sample(BLOCKS, rng.randint(1, 3))
            return f"{field} {op} [{', '.join(quote(b) for b in blocks)}]"
        if op == "matches":
            return f'{field} matches r#"{rng.choice(REGEXES)}"#'
        if kind == "ip" and op in ("==", "!=", "in", "not in") and rng.random() < 0.5:
            values = rng.sample(IPS[:-1], rng.randint(1, 3))
            values = [v for v in values if v.strip()] or ["10.1.2.3"]
            self.pool.extend(values)
        elif op.endswith("like"):
            values = [self.glob() for _ in range(rng.randint(1, 2))]
        else:
            values = [self.text() for _ in range(rng.randint(1, 3))]
        if field in TYPICAL and rng.random() < 0.5:
            values = rng.sample(TYPICAL[field], len(values) if len(values) <= 2 else 2)
        if op.removeprefix("cased ") in ("in", "not in"):
            return f"{field} {op} [{', '.join(map(quote, values))}]"
        if op.removeprefix("cased ") in ("==", "!="):
            return f"{field} {op} {quote(values[0])}"
        if len(values) == 1:
            return f"{field} {op} {quote(values[0])}"
        every = "all " if rng.random() < 0.4 else ""
        return f"{field} {op} {every}[{', '.join(map(quote, values))}]"

    def condition(self, fields):
        rng = self.rng
        a, b, c = (self.predicate(fields) for _ in range(3))
        return rng.choice([a, a, f"not {a}", f"{a} and {b}", f"{a} or not {b}", f"not ({a} or {b})",
                           f"{a} and ({b} or {c})", f"not not {a}", f"({a} or {b}) and not {c}"])

    def threshold(self, fields):
        rng = self.rng
        names = sorted(fields)
        by = rng.sample(names, rng.choice([0, 1, 1, 1, 2]))
        # Version 2: string fields grouped or counted by exact text.
        cased = lambda f: f"cased {f}" if fields[f] == "string" and rng.random() < 0.3 else f
        agg = "count()" if rng.random() < 0.5 else f"distinct({cased(rng.choice(names))})"
        by_text = f" by {', '.join(map(cased, by))}" if by else ""
        op = rng.choice([">", ">=", "==", "<", "<="])
        window = rng.choice(WINDOWS)
        # Version 2: hopping windows, a step dividing the window.
        if rng.random() < 0.3:
            window = f"{window} step {rng.choice(STEPS[window])}"
        if rng.random() < 0.35:
            return f"threshold{by_text} over {window} having {self.having(fields, cased)}"
        return f"threshold {agg}{by_text} over {window} {op} {rng.randint(0, 4)}"

    def first_seen(self, fields):
        """`first seen F[, G] in D`, D about the events' spacing."""
        rng = self.rng
        names = rng.sample(sorted(fields), rng.choice([1, 1, 2]))
        names = [f"cased {f}" if fields[f] == "string" and rng.random() < 0.3 else f for f in names]
        return f"first seen {', '.join(names)} in {rng.choice(['1m', '5m', '20m', '1h'])}"

    def having(self, fields, cased, depth=0):
        """A `having` condition: comparisons of aggregates under and/or/not."""
        rng = self.rng
        roll = rng.random()
        if depth < 2 and roll < 0.25:
            word = rng.choice(["and", "or"])
            return f"({self.having(fields, cased, depth + 1)} {word} {self.having(fields, cased, depth + 1)})"
        if depth < 2 and roll < 0.35:
            return f"not {self.having(fields, cased, depth + 1)}"
        ints = sorted(f for f, k in fields.items() if k == "int")
        op = rng.choice([">", ">=", "==", "<", "<="])
        kind = rng.random()
        if ints and kind < 0.45:
            fn = rng.choice(["min", "max", "max", "min", "sum"])
            value = rng.choice(INT_LITERALS + [22, 443, 0, -1, 1024])
            return f"{fn}({rng.choice(ints)}) {op} {value}"
        if kind < 0.7:
            return f"distinct({cased(rng.choice(sorted(fields)))}) {op} {rng.randint(0, 4)}"
        return f"count() {op} {rng.randint(0, 4)}"

    def rule(self, source, n, thresholded, also=None):
        """A rule over `source`, or with `also` over both (`from web, proxy`),
        reading only the fields both sources hold with one type."""
        fields = SOURCES[source]
        if also is not None:
            fields = {f: k for f, k in fields.items() if SOURCES[also].get(f) == k}
        where = self.condition(fields) if not thresholded or self.rng.random() < 0.7 else "exists(@timestamp)"
        if thresholded and self.rng.random() < 0.3:
            where = self.predicate(fields)
        extra = f"\n  {self.threshold(fields)}" if thresholded else ""
        if thresholded and self.rng.random() < 0.25:
            extra = f"\n  {self.first_seen(fields)}"
        name = f"g_{source}_{n}" if also is None else f"g_{source}_{also}_{n}"
        sources = source if also is None else f"{source}, {also}"
        return name, (
            f"rule {name} {{\n  title \"g\"\n  id \"{self.rng.getrandbits(32):08x}-0000-4000-8000-{n:012x}\"\n"
            f"  level low\n  attack T1590\n  description \"generated\"\n  from {sources}\n"
            f"  where {where}{extra}\n}}\n")

    # -- events
    def value(self, kind):
        rng = self.rng
        if kind == "int":
            return rng.choice(INT_VALUES)
        roll = rng.random()
        if roll < 0.08:
            return None
        if roll < 0.16:
            return ""
        if roll < 0.26:
            return [self.value(kind) for _ in range(rng.randint(0, 3))] if rng.random() < 0.8 else \
                [self.near()] * 2
        if kind == "ip" and roll < 0.6:
            return rng.choice(IPS)
        if roll < 0.3:
            return rng.choice([0, 1, True, False, 443])
        if self.pool and roll < 0.8:
            return self.near()
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))

    def events(self, source, count):
        rng = self.rng
        out = []
        # A few recurring values per field so that groups and distinct counts grow.
        recurring = {f: [self.value(k) for _ in range(3)] for f, k in SOURCES[source].items()}
        t = START + dt.timedelta(seconds=rng.randint(0, 86400))
        for _ in range(count):
            t += dt.timedelta(seconds=rng.choice([0, 1, 5, 20, 45, 90, 300]))
            event = {"@timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ")}
            for field, kind in SOURCES[source].items():
                roll = rng.random()
                if roll < 0.15:
                    continue
                value = rng.choice(recurring[field]) if roll < 0.6 else self.value(kind)
                if field in TYPICAL and rng.random() < 0.4:
                    value = rng.choice(TYPICAL[field])
                if isinstance(value, list) and any(isinstance(v, list) for v in value):
                    value = [v for v in value if not isinstance(v, list)]
                event[field] = value
            out.append(event)
        return out


def quote(s):
    """A tripline string literal holding `s`."""
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F:
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def dumps(event):
    return json.dumps(event, ensure_ascii=False)
