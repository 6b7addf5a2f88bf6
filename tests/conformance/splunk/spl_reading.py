"""A reading of the SPL subset tripline writes: a small interpreter that runs
a search over a list of events, following Splunk's documentation.

No Splunk is available to the project. This module is the documented reading
the Splunk target is checked against (docs/targets/splunk-reading.md lists
every behaviour with the page it comes from and every assumption made where
the pages are silent). It is deliberately strict: a command, a function or an
argument it does not know raises `Unsupported`, never a guess.

Events are dicts: CIM field name -> value (a string, a number, or a list for
a multivalue field; a missing key or None is an absent field), plus `_time`
(epoch seconds) and, as ordinary fields, `tag` (a list) and `index`.

    reading = Reading(macros=parse_macros_conf(text))
    rows = reading.run(spl, events)

Each result row is a dict; the hidden key `__rows` holds the set of input
event positions that produced it (one for a streaming row, the group's
events for a `stats`/`tstats` row), so a caller can tell which events a
search selected.

Pages cited (short names used in comments):
  [SEARCH] https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/search
  [SEX]    https://help.splunk.com/splunk-enterprise/search/spl2-search-reference/search-command/search-command-examples
  [BOOL]   https://help.splunk.com/en/splunk-enterprise/search/search-manual/9.3/expressions-and-predicates
  [CASE]   https://help.splunk.com/splunk-enterprise/search/search-manual/9.0/search-primer/use-case-and-term-to-match-phrases
  [BSL]    https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/backslashes
  [WHERE]  https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/where
  [CC]     https://help.splunk.com/splunk-cloud-platform/spl-search-reference/9.3.2408/evaluation-functions/comparison-and-conditional-functions
  [MV]     https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/multivalue-eval-functions
  [TF]     https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/TextFunctions
  [CONV]   https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/ConversionFunctions
  [MATH]   https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/MathematicalFunctions
  [REGEX]  https://help.splunk.com/splunk-enterprise/search/search-manual/9.0/expressions-and-predicates/spl-and-regular-expressions
  [STATS]  https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/stats
  [SFN]    https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Aggregatefunctions
  [TSTATS] https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/tstats
  [BIN]    https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/bin
  [MX]     https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Mvexpand
  [MC]     https://docs.splunk.com/Documentation/Splunk/latest/Admin/Macrosconf
  [CMD]    https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/<name>
           (eventstats, streamstats, rename, table, fields, sort, dedup)
"""

from __future__ import annotations

import ipaddress
import math
import re

__all__ = ["Reading", "Unsupported", "SplError", "parse_macros_conf", "DATAMODELS"]


class Unsupported(Exception):
    """The search uses SPL the reading does not implement (never silently passed)."""


class SplError(Exception):
    """The search is not valid SPL as the reading parses it."""


# --------------------------------------------------------------------------- values
#
# A value is None (null), bool, int, float, str, or a list of at least two
# scalars (a multivalue). A one-element list is its element; an empty list is
# null (an empty multivalue field does not exist).

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def norm(value):
    if isinstance(value, (list, tuple)):
        values = [v for v in value if v is not None]
        if not values:
            return None
        return values[0] if len(values) == 1 else list(values)
    return value


def values_of(value):
    """The values of a field: [] when null."""
    value = norm(value)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class NumStr(str):
    """An extracted field value that looks like a number (NUMBER). Splunk
    treats such field values as numbers in eval comparisons, while a string
    literal or a text function's result stays a string (assumption: the docs
    say comparisons are numeric between numbers and lexicographic otherwise,
    [WHERE], without defining when a field value is a number)."""


def field_value(value):
    if isinstance(value, str) and not isinstance(value, NumStr) and NUMBER.fullmatch(value):
        return NumStr(value)
    if isinstance(value, list):
        return [field_value(v) for v in value]
    return value


def as_number(value):
    """The number a value is, or None: numbers, and field values that look
    like numbers. [EVAL]: "numbers are treated as double-precision
    floating-point numbers", so every number is a Python float here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, NumStr):
        return float(value)
    return None


def text_number(value):
    """The number a text reads as (tonumber(), search-term comparisons)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and NUMBER.fullmatch(value):
        return float(value)
    return None


def as_text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    return str(value)


def scalar(value, what):
    value = norm(value)
    if isinstance(value, list):
        raise Unsupported(f"{what} on a multivalue value: Splunk's docs do not say what it does")
    return value


def fold(text, mode):
    """Case folding of search terms. [CASE]: "By default, searches are
    case-insensitive"; the docs do not say how beyond ASCII. `unicode` folds
    with Python's per-character lower(); `ascii` folds A-Z only."""
    if mode == "ascii":
        return text.translate(ASCII_LOWER)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


# --------------------------------------------------------------------------- macros

def parse_macros_conf(text):
    """[MC]: stanza name -> definition. Continuation lines ending in `\\` are
    joined (.conf files); `args` are not supported."""
    macros, current, lines = {}, None, []
    raw_lines = text.splitlines()
    i = 0
    while i < len(raw_lines):
        line = raw_lines[i]
        while line.endswith("\\") and i + 1 < len(raw_lines):
            i += 1
            line = line[:-1] + "\n" + raw_lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = re.fullmatch(r"\[(.+)\]", stripped)
        if header:
            current = header.group(1)
            macros[current] = {}
            continue
        if current is None or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        macros[current][key.strip()] = value.strip()
    out = {}
    for name, settings in macros.items():
        if "args" in settings or "(" in name:
            raise Unsupported(f"macro `{name}` takes arguments")
        if settings.get("iseval", "0") not in ("0", "false"):
            raise Unsupported(f"macro `{name}` is an eval macro")
        out[name] = settings.get("definition", "")
    return out


def expand_macros(spl, macros, depth=0):
    """[MC]: a macro call `name` is replaced by its definition, textually,
    before the search is parsed. Backticks inside quoted strings are text."""
    if depth > 20:
        raise SplError("macro expansion too deep")
    out, i, changed = [], 0, False
    while i < len(spl):
        c = spl[i]
        if c == '"':
            j = skip_string(spl, i)
            out.append(spl[i:j])
            i = j
            continue
        if c == "`":
            j = spl.find("`", i + 1)
            if j < 0:
                raise SplError("unclosed macro call")
            name = spl[i + 1:j]
            if "(" in name:
                raise Unsupported(f"macro call with arguments `{name}`")
            if name not in macros:
                raise SplError(f"unknown macro `{name}`")
            out.append(macros[name])
            changed = True
            i = j + 1
            continue
        out.append(c)
        i += 1
    text = "".join(out)
    return expand_macros(text, macros, depth + 1) if changed else text


def skip_string(text, i):
    """Index after the double-quoted string starting at i ([BSL]: `\\"` is a
    quote inside, `\\\\` a backslash)."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        j += 1
    raise SplError("unterminated string")


def unquote(body):
    """The text of a quoted string's body: [BSL] `\\\\` is one backslash and
    `\\"` a quote; any other backslash is kept with the character after it
    (assumption: the docs list only these two escapes)."""
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in '\\"':
            out.append(body[i + 1])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


def split_pipeline(spl):
    """Commands separated by `|` outside quoted strings and brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(spl):
        c = spl[i]
        if c == '"':
            i = skip_string(spl, i)
            continue
        if c == "'":
            j = spl.find("'", i + 1)
            i = len(spl) if j < 0 else j + 1
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(spl[start:i])
            start = i + 1
        i += 1
    parts.append(spl[start:])
    return [p.strip() for p in parts]


# --------------------------------------------------------------------------- search language

class SearchLexer:
    """Tokens of the search command: `(`, `)`, `,`, quoted strings, words.
    A word is a run of characters other than whitespace, parentheses and
    double quotes; `field="quoted value"` joins a word ending in an operator
    to the string after it."""

    def __init__(self, text):
        self.tokens = []
        i = 0
        while i < len(text):
            c = text[i]
            if c.isspace():
                i += 1
            elif c in "(),":
                self.tokens.append(("P", c))
                i += 1
            elif c == '"':
                j = skip_string(text, i)
                self.tokens.append(("S", unquote(text[i + 1:j - 1])))
                i = j
            else:
                j = i
                while j < len(text) and not text[j].isspace() and text[j] not in '()"':
                    if text[j] == "," and not re.match(r"\S*(?:!=|<=|>=|=|<|>)", text[i:j]):
                        break
                    if text[j] == "\\" and j + 1 < len(text):
                        j += 2
                        continue
                    j += 1
                word = text[i:j]
                if j < len(text) and text[j] == '"' and re.search(r"(?:!=|<=|>=|=|<|>)$", word):
                    k = skip_string(text, j)
                    self.tokens.append(("T", word, unquote(text[j + 1:k - 1])))
                    i = k
                    continue
                self.tokens.append(("W", word))
                i = j
        self.pos = 0

    def peek(self, k=0):
        p = self.pos + k
        return self.tokens[p] if p < len(self.tokens) else None

    def next(self):
        tok = self.peek()
        self.pos += 1
        return tok


TERM = re.compile(r"([A-Za-z_][A-Za-z0-9_.:\-]*)(!=|<=|>=|=|<|>)(.*)", re.S)


def parse_search(text):
    """[BOOL]: in the search command NOT binds tightest, then OR, then the
    (implicit or explicit) AND; parentheses group."""
    lex = SearchLexer(text)
    tree = _search_and(lex)
    if lex.peek() is not None:
        raise SplError(f"unexpected {lex.peek()[1]!r} in search")
    return tree


def _search_and(lex):
    items = []
    while True:
        tok = lex.peek()
        if tok is None or tok == ("P", ")"):
            break
        if tok == ("W", "AND"):
            lex.next()
            continue
        items.append(_search_or(lex))
    return ("and", items)


def _search_or(lex):
    items = [_search_not(lex)]
    while lex.peek() == ("W", "OR"):
        lex.next()
        items.append(_search_not(lex))
    return items[0] if len(items) == 1 else ("or", items)


def _search_not(lex):
    if lex.peek() == ("W", "NOT"):
        lex.next()
        return ("not", _search_not(lex))
    return _search_primary(lex)


def _search_primary(lex):
    tok = lex.next()
    if tok is None:
        raise SplError("search ended where a term was expected")
    if tok == ("P", "("):
        inner = _search_and(lex)
        if lex.next() != ("P", ")"):
            raise SplError("expected ) in search")
        return inner  # `()` is an empty AND: true (the CIM index macros default to it)
    if tok[0] == "T":
        m = TERM.fullmatch(tok[1])
        if not m or m.group(3):
            raise SplError(f"bad search term {tok[1]!r}")
        return ("cmp", m.group(1), m.group(2), tok[2], True)
    if tok[0] == "W":
        word = tok[1]
        if lex.peek() == ("W", "IN") and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.:\-]*", word):
            lex.next()
            if lex.next() != ("P", "("):
                raise SplError("expected ( after IN")
            values = []
            while True:
                v = lex.next()
                if v is None:
                    raise SplError("unclosed IN list")
                if v == ("P", ")"):
                    break
                if v == ("P", ","):
                    continue
                if v[0] == "S":
                    values.append((v[1], True))
                elif v[0] == "W":
                    values.append((unquote(v[1]), False))
                else:
                    raise SplError(f"bad IN value {v}")
            # [SEX]: `field IN (a, b)` is `field=a OR field=b`.
            return ("or", [("cmp", word, "=", v, q) for v, q in values])
        m = TERM.fullmatch(word)
        if m:
            return ("cmp", m.group(1), m.group(2), unquote(m.group(3)), False)
        if word == "*":
            # [SEARCH]: `*` alone matches any _raw, so every event (the
            # rules' tuning macros default to `search *`).
            return ("and", [])
        raise Unsupported(f"bare search keyword {word!r}: the reading has no _raw")
    if tok[0] == "S":
        raise Unsupported(f"quoted phrase {tok[1]!r}: the reading has no _raw")
    raise SplError(f"unexpected {tok[1]!r} in search")


def wildcard_regex(pattern, mode):
    """[SEARCH]/[BSL]: `*` in a search value matches any run of characters,
    and cannot be escaped. Matching is on the whole field value."""
    parts = [re.escape(fold(p, mode)) for p in pattern.split("*")]
    return re.compile("(?s:" + ".*".join(parts) + ")")


def parse_cidr(text):
    if "/" not in text or "*" in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def parse_address(text):
    """An address as the reading reads one: Python's strict parser (no
    leading zeros in IPv4 octets), without zone ids, brackets or spaces.
    Assumption: Splunk's own parser is not documented; tripline lists values
    no address parser agrees on as an accepted difference."""
    if not isinstance(text, str) or "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def in_block(value, block):
    """Assumption (docs silent): an address is inside a block of its own
    family only; `::ffff:10.1.2.3` is IPv6 and is not inside `10.0.0.0/8`
    (it is inside `::ffff:0:0/96` and `::ffff:10.0.0.0/104`)."""
    addr = parse_address(value)
    return addr is not None and addr.version == block.version and addr in block


class SearchEval:
    def __init__(self, fold_mode, empty_is_value):
        self.fold_mode = fold_mode
        self.empty_is_value = empty_is_value

    def field_values(self, row, name):
        vals = [as_text(v) for v in values_of(row.get(name))]
        if not self.empty_is_value:
            vals = [v for v in vals if v != ""]
        return vals

    def test(self, tree, row):
        kind = tree[0]
        if kind == "and":
            return all(self.test(t, row) for t in tree[1])
        if kind == "or":
            return any(self.test(t, row) for t in tree[1])
        if kind == "not":
            # [SEX] 5: NOT f=v also returns events without f.
            return not self.test(tree[1], row)
        _, name, op, value, _quoted = tree
        vals = self.field_values(row, name)
        if op == "!=":
            # [SEX] 5: f!=v returns only events that have f. Assumption for a
            # multivalue field (docs silent): no value may match v.
            return bool(vals) and not any(self.value_matches(v, value) for v in vals)
        if op == "=":
            return any(self.value_matches(v, value) for v in vals)
        return any(compare_search(v, op, value) for v in vals)

    def value_matches(self, text, value):
        # [SEARCH]: "supports IPv4 and IPv6 addresses and subnets that use
        # CIDR notation": a value that is a CIDR block matches the addresses
        # inside it.
        block = parse_cidr(value)
        if block is not None:
            return in_block(text, block)
        if value == "*":
            return True
        return bool(wildcard_regex(value, self.fold_mode).fullmatch(fold(text, self.fold_mode)))


def compare_search(text, op, value):
    """[SEX] 2 / [SEARCH]: `f>N` compares numbers when both sides are numbers,
    otherwise strings in lexicographic order (assumption: by code point)."""
    a, b = text_number(text), text_number(value)
    if a is None or b is None:
        a, b = text, value
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


# --------------------------------------------------------------------------- eval language

EVAL_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<str>"(?:\\.|[^"\\])*")
  | (?P<qf>'[^']*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|[-+*/%.<>=(),!])
""", re.X | re.S)


def eval_tokens(text):
    out, i = [], 0
    while i < len(text):
        m = EVAL_TOKEN.match(text, i)
        if not m:
            raise SplError(f"unexpected {text[i]!r} in eval expression")
        i = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        val = m.group()
        if kind == "str":
            val = unquote(val[1:-1])
        elif kind == "qf":
            val = val[1:-1]
        out.append((kind, val))
    return out


class EvalParser:
    """[BOOL]: in eval and where, NOT binds tightest of the Boolean operators,
    then AND, then XOR, then OR. Comparison binds tighter than NOT; `.` and
    `+`/`-` share a level above comparisons; `*`, `/`, `%` above them."""

    def __init__(self, text):
        self.toks = eval_tokens(text)
        self.pos = 0

    def parse_all(self):
        node = self.expr()
        if self.pos != len(self.toks):
            raise SplError(f"unexpected {self.toks[self.pos][1]!r} in eval expression")
        return node

    def peek(self, k=0):
        p = self.pos + k
        return self.toks[p] if p < len(self.toks) else (None, None)

    def accept(self, kind, val=None):
        t = self.peek()
        if t[0] == kind and (val is None or t[1] == val):
            self.pos += 1
            return t
        return None

    def expect(self, kind, val=None):
        t = self.accept(kind, val)
        if t is None:
            raise SplError(f"expected {val or kind}, found {self.peek()[1]!r}")
        return t

    def expr(self):
        return self.binary_chain(["OR"], self.xor_expr, "bool")

    def xor_expr(self):
        return self.binary_chain(["XOR"], self.and_expr, "bool")

    def and_expr(self):
        return self.binary_chain(["AND"], self.not_expr, "bool")

    def binary_chain(self, words, sub, kind):
        node = sub()
        while self.peek()[0] == "name" and self.peek()[1] in words:
            word = self.toks[self.pos][1]
            self.pos += 1
            node = (kind, word, node, sub())
        return node

    def not_expr(self):
        if self.peek() == ("name", "NOT") or self.peek() == ("op", "!"):
            self.pos += 1
            return ("not", self.not_expr())
        return self.comparison()

    def comparison(self):
        node = self.additive()
        while True:
            t = self.peek()
            if t[0] == "op" and t[1] in ("=", "==", "!=", "<", "<=", ">", ">="):
                self.pos += 1
                node = ("cmp", t[1], node, self.additive())
            elif t == ("name", "LIKE"):
                self.pos += 1
                node = ("call", "like", [node, self.additive()])
            else:
                return node

    def additive(self):
        node = self.multiplicative()
        while self.peek()[0] == "op" and self.peek()[1] in "+-.":
            op = self.toks[self.pos][1]
            self.pos += 1
            node = ("arith", op, node, self.multiplicative())
        return node

    def multiplicative(self):
        node = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in "*/%":
            op = self.toks[self.pos][1]
            self.pos += 1
            node = ("arith", op, node, self.unary())
        return node

    def unary(self):
        if self.accept("op", "-"):
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        t = self.peek()
        self.pos += 1
        if t[0] == "num":
            return ("lit", float(t[1]))
        if t[0] == "str":
            return ("lit", t[1])
        if t[0] == "qf":
            return ("field", t[1])
        if t == ("op", "("):
            node = self.expr()
            self.expect("op", ")")
            return node
        if t[0] == "name":
            if self.accept("op", "("):
                args = []
                if not self.accept("op", ")"):
                    while True:
                        args.append(self.expr())
                        if self.accept("op", ")"):
                            break
                        self.expect("op", ",")
                return ("call", t[1].lower(), args)
            return ("field", t[1])
        raise SplError(f"unexpected {t[1]!r} in eval expression")


def fields_in(node):
    if node[0] == "field":
        return {node[1]}
    out = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            out |= fields_in(part)
        elif isinstance(part, list):
            for p in part:
                out |= fields_in(p)
    return out


def truth(v):
    """A condition's value: True, False or None (null)."""
    v = norm(v)
    if v is None or isinstance(v, bool):
        return v
    raise SplError(f"a condition evaluated to {v!r}, not a Boolean")


def equal(a, b):
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na == nb
    return as_text(a) == as_text(b)


def ordered(a, op, b):
    na, nb = as_number(a), as_number(b)
    if na is None or nb is None:
        na, nb = as_text(a), as_text(b)
    return {"<": na < nb, "<=": na <= nb, ">": na > nb, ">=": na >= nb}[op]


class Evaluator:
    def __init__(self, reading):
        self.reading = reading

    def eval(self, node, row):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "field":
            return norm(row.get(node[1]))
        if kind == "neg":
            v = as_number(scalar(self.eval(node[1], row), "unary -"))
            return None if v is None else -v
        if kind == "not":
            # [WHERE]/[CC]: a comparison with null is null; NOT null stays null
            # (assumption: three-valued logic as in SQL, docs silent).
            v = truth(self.eval(node[1], row))
            return None if v is None else not v
        if kind == "bool":
            return self.boolean(node, row)
        if kind == "cmp":
            a = scalar(self.eval(node[2], row), f"comparison {node[1]}")
            b = scalar(self.eval(node[3], row), f"comparison {node[1]}")
            if a is None or b is None:
                return None
            if node[1] in ("=", "=="):
                return equal(a, b)
            if node[1] == "!=":
                return not equal(a, b)
            return ordered(a, node[1], b)
        if kind == "arith":
            return self.arith(node[1], scalar(self.eval(node[2], row), node[1]), scalar(self.eval(node[3], row), node[1]))
        if kind == "call":
            return self.call(node[1], node[2], row)
        raise SplError(f"bad node {node}")

    def boolean(self, node, row):
        _, word, left, right = node
        a = truth(self.eval(left, row))
        if word == "AND" and a is False:
            return False
        if word == "OR" and a is True:
            return True
        b = truth(self.eval(right, row))
        if word == "AND":
            return False if b is False else (None if a is None or b is None else True)
        if word == "OR":
            return True if b is True else (None if a is None or b is None else False)
        return None if a is None or b is None else a != b

    def arith(self, op, a, b):
        if a is None or b is None:
            return None
        if op == ".":
            return as_text(a) + as_text(b)
        na, nb = as_number(a), as_number(b)
        if op == "+" and (na is None or nb is None):
            # [WHERE] eval expressions: `+` on two strings concatenates.
            return as_text(a) + as_text(b) if isinstance(a, str) and isinstance(b, str) else None
        if na is None or nb is None:
            return None
        if op == "+":
            return na + nb
        if op == "-":
            return na - nb
        if op == "*":
            return na * nb
        if nb == 0:
            return None
        if op == "/":
            return na / nb
        return math.fmod(na, nb)

    def call(self, name, args, row):
        fn = getattr(self, "fn_" + name, None)
        if fn is None:
            raise Unsupported(f"eval function {name}()")
        return fn(args, row)

    def arg(self, args, i, row, what):
        if i >= len(args):
            raise SplError(f"{what}: missing argument {i + 1}")
        return scalar(self.eval(args[i], row), what)

    # -- [CC] comparison and conditional functions
    def fn_if(self, args, row):
        # [CC]: if(X,Y,Z) is Y when X is TRUE, else Z (assumption: a null X is not TRUE).
        return self.eval(args[1], row) if truth(self.eval(args[0], row)) is True else self.eval(args[2], row)

    def fn_case(self, args, row):
        # [CC]: the value of the first condition that is TRUE; NULL when none is.
        for i in range(0, len(args) - 1, 2):
            if truth(self.eval(args[i], row)) is True:
                return self.eval(args[i + 1], row)
        return None

    def fn_coalesce(self, args, row):
        for a in args:
            v = norm(self.eval(a, row))
            if v is not None:
                return v
        return None

    def fn_isnull(self, args, row):
        return norm(self.eval(args[0], row)) is None

    def fn_isnotnull(self, args, row):
        return norm(self.eval(args[0], row)) is not None

    def fn_isnum(self, args, row):
        # Assumption: a string that reads as a number is a number (as_number).
        v = self.arg(args, 0, row, "isnum")
        return as_number(v) is not None

    def fn_isstr(self, args, row):
        v = self.arg(args, 0, row, "isstr")
        return isinstance(v, str) and as_number(v) is None

    def fn_null(self, args, row):
        return None

    def fn_true(self, args, row):
        return True

    def fn_false(self, args, row):
        return False

    def fn_match(self, args, row):
        # [CC]: match(SUBJECT, "REGEX") is TRUE when the regex finds a match
        # anywhere in SUBJECT; PCRE [REGEX], read by pcre_compile below.
        s, r = self.arg(args, 0, row, "match"), self.arg(args, 1, row, "match")
        if s is None or r is None:
            return None
        return self.reading.regex_search(as_text(r), as_text(s))

    def fn_like(self, args, row):
        # [CC]: like(TEXT, PATTERN): `%` any run of characters, `_` one
        # character; no escape is documented (assumption: none). Assumption:
        # case-sensitive, `%` spans newlines.
        s, p = self.arg(args, 0, row, "like"), self.arg(args, 1, row, "like")
        if s is None or p is None:
            return None
        rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in as_text(p))
        return re.fullmatch("(?s:" + rx + ")", as_text(s)) is not None

    def fn_cidrmatch(self, args, row):
        # [CC]: cidrmatch("X", Y) is TRUE when the address Y is inside the
        # subnet X, IPv4 or IPv6 (family and address text: see in_block).
        c, ip = self.arg(args, 0, row, "cidrmatch"), self.arg(args, 1, row, "cidrmatch")
        if c is None or ip is None:
            return None
        try:
            block = ipaddress.ip_network(as_text(c), strict=False)
        except ValueError:
            raise SplError(f"cidrmatch: {c!r} is not a subnet")
        return in_block(as_text(ip), block)

    def fn_searchmatch(self, args, row):
        raise Unsupported("searchmatch()")

    # -- [TF] text functions
    def fn_lower(self, args, row):
        v = self.arg(args, 0, row, "lower")
        return None if v is None else as_text(v).lower()

    def fn_upper(self, args, row):
        v = self.arg(args, 0, row, "upper")
        return None if v is None else as_text(v).upper()

    def fn_len(self, args, row):
        v = self.arg(args, 0, row, "len")
        return None if v is None else len(as_text(v))

    def trim_chars(self, args, row, what):
        s = self.arg(args, 0, row, what)
        # [TF]: trim(X[, Y]) removes the characters in Y (default: spaces and tabs).
        chars = " \t" if len(args) < 2 else as_text(self.arg(args, 1, row, what))
        return None if s is None or chars is None else (as_text(s), chars)

    def fn_trim(self, args, row):
        v = self.trim_chars(args, row, "trim")
        return None if v is None else v[0].strip(v[1])

    def fn_ltrim(self, args, row):
        v = self.trim_chars(args, row, "ltrim")
        return None if v is None else v[0].lstrip(v[1])

    def fn_rtrim(self, args, row):
        v = self.trim_chars(args, row, "rtrim")
        return None if v is None else v[0].rstrip(v[1])

    def fn_in(self, args, row):
        # [CC]: in(FIELD, VALUE-LIST) is TRUE when one of the values equals
        # the field's value (equality as `==`).
        v = self.arg(args, 0, row, "in")
        if v is None:
            return None
        return any(equal(v, self.arg(args, i, row, "in")) for i in range(1, len(args)))

    def fn_replace(self, args, row):
        s, r, t = (self.arg(args, i, row, "replace") for i in range(3))
        if s is None or r is None or t is None:
            return None
        repl = re.sub(r"\\([0-9])", r"\\g<\1>", as_text(t))
        return self.reading.regex(as_text(r)).sub(repl, as_text(s)) if not self.reading.pcre_bytes else \
            self.reading.regex(as_text(r)).sub(repl.encode(), as_text(s).encode()).decode("utf-8", "replace")

    def fn_substr(self, args, row):
        # [TF]: substr(X, Y, Z): from position Y (1-based; negative counts
        # from the end) for Z characters.
        s = self.arg(args, 0, row, "substr")
        start = as_number(self.arg(args, 1, row, "substr"))
        if s is None or start is None:
            return None
        s = as_text(s)
        start = int(start)
        begin = start - 1 if start > 0 else len(s) + start if start < 0 else 0
        begin = max(begin, 0)
        if len(args) > 2:
            n = as_number(self.arg(args, 2, row, "substr"))
            return None if n is None else s[begin:begin + max(int(n), 0)]
        return s[begin:]

    # -- [CONV] conversion functions
    def fn_tonumber(self, args, row):
        # [CONV]: tonumber(X[, base]); null when X does not convert.
        v = self.arg(args, 0, row, "tonumber")
        base = 10 if len(args) < 2 else as_number(self.arg(args, 1, row, "tonumber"))
        if v is None:
            return None
        if base == 10:
            return text_number(as_text(v))
        try:
            return int(as_text(v), int(base))
        except ValueError:
            return None

    def fn_tostring(self, args, row):
        if len(args) > 1:
            raise Unsupported("tostring() with a format")
        v = self.arg(args, 0, row, "tostring")
        return as_text(v)

    # -- [MATH]
    def fn_floor(self, args, row):
        v = as_number(self.arg(args, 0, row, "floor"))
        return None if v is None else float(math.floor(v))

    def fn_abs(self, args, row):
        v = as_number(self.arg(args, 0, row, "abs"))
        return None if v is None else abs(v)

    # -- [MV] multivalue functions
    def fn_mvfilter(self, args, row):
        # [MV]: mvfilter(<predicate>) keeps the values of ONE multivalue field
        # for which the predicate is TRUE. Assumption (docs silent): when no
        # value is kept (or the field is null) the result is null.
        names = fields_in(args[0])
        if len(names) != 1:
            raise SplError(f"mvfilter() must reference exactly one field, got {sorted(names)}")
        (name,) = names
        kept = []
        for v in values_of(row.get(name)):
            if truth(self.eval(args[0], {**row, name: v})) is True:
                kept.append(v)
        return norm(kept)

    def fn_mvmap(self, args, row):
        # [MV]: mvmap(X, EXPR) evaluates EXPR for each value of the field X
        # (EXPR names X for the current value).
        if args[0][0] != "field":
            raise Unsupported("mvmap() over an expression, not a field")
        name = args[0][1]
        out = []
        for v in values_of(row.get(name)):
            out.extend(values_of(self.eval(args[1], {**row, name: v})))
        return norm(out)

    def fn_mvdedup(self, args, row):
        out = []
        for v in values_of(self.eval(args[0], row)):
            if v not in out:
                out.append(v)
        return norm(out)

    def fn_mvcount(self, args, row):
        # Assumption: mvcount of null is null ([MV] counts the values of a field).
        vals = values_of(self.eval(args[0], row))
        return len(vals) if vals else None

    def fn_mvindex(self, args, row):
        vals = values_of(self.eval(args[0], row))
        start = as_number(self.arg(args, 1, row, "mvindex"))
        end = as_number(self.arg(args, 2, row, "mvindex")) if len(args) > 2 else start
        if not vals or start is None or end is None:
            return None
        n, start, end = len(vals), int(start), int(end)
        start, end = (start + n if start < 0 else start), (end + n if end < 0 else end)
        return norm(vals[max(start, 0):end + 1])

    def fn_mvrange(self, args, row):
        # [MV]: mvrange(X, Y, Z): the numbers from X up to, not including,
        # Y, by Z. A time step ("7d") is not read here.
        start, end, step = (as_number(self.arg(args, i, row, "mvrange")) for i in range(3))
        if start is None or end is None or step is None:
            raise Unsupported("mvrange() over values that are not numbers")
        if step <= 0:
            raise Unsupported("mvrange() with a step that is not positive")
        out, v = [], start
        while v < end:
            out.append(v)
            v += step
        return norm(out)

    def fn_mvappend(self, args, row):
        out = []
        for a in args:
            out.extend(values_of(self.eval(a, row)))
        return norm(out)

    def fn_split(self, args, row):
        # [MV]: split(X, "delim") splits the text at each occurrence of the
        # delimiter into a multivalue result. Assumption (docs silent): empty
        # pieces are kept (tripline's searches never read one).
        s, d = (self.arg(args, i, row, "split") for i in range(2))
        if s is None or d is None:
            return None
        if as_text(d) == "":
            raise Unsupported("split() with an empty delimiter")
        return norm(as_text(s).split(as_text(d)))

    def fn_mvjoin(self, args, row):
        vals = values_of(self.eval(args[0], row))
        sep = self.arg(args, 1, row, "mvjoin")
        return None if not vals else as_text(sep).join(as_text(v) for v in vals)


# --------------------------------------------------------------------------- PCRE

PCRE_CLASS_ESC = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\x0b\\f\\r "}
PCRE_ESC = {"d": "[0-9]", "w": "[0-9A-Za-z_]", "s": "[\\t\\n\\x0b\\f\\r ]",
            "D": "[^0-9]", "W": "[^0-9A-Za-z_]", "S": "[^\\t\\n\\x0b\\f\\r ]",
            "b": "(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))",
            "B": "(?:(?<=[0-9A-Za-z_])(?=[0-9A-Za-z_])|(?<![0-9A-Za-z_])(?![0-9A-Za-z_]))",
            "z": "\\Z", "Z": "(?=\\n?\\Z)", "A": "\\A"}


def pcre_to_python(pattern):
    """A PCRE pattern (no UCP: `\\d \\w \\s \\b` are ASCII) as a Python
    pattern. Unknown constructs raise Unsupported. `$` means the same in both
    (end, or before a final newline); PCRE `\\z` is Python `\\Z`."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern):
                raise SplError("regex ends in a backslash")
            e = pattern[i + 1]
            if e == "x":
                m = re.match(r"x([0-9A-Fa-f]{2})", pattern[i + 1:])
                if not m:
                    raise Unsupported(f"regex escape \\x{pattern[i + 2:i + 4]}")
                out.append("\\x" + m.group(1))
                i += 4
                continue
            if in_class and e in PCRE_CLASS_ESC:
                out.append(PCRE_CLASS_ESC[e])
            elif in_class and e in "DWSbB":
                raise Unsupported(f"\\{e} inside a class")
            elif not in_class and e in PCRE_ESC:
                out.append(PCRE_ESC[e])
            elif e in "tnrfv0" or not e.isalnum():
                out.append("\\" + e if e != "v" else "\\x0b")
            elif e.isdigit():
                out.append("\\" + e)
            else:
                raise Unsupported(f"regex escape \\{e}")
            i += 2
            continue
        if in_class:
            if c == "[" and i + 1 < len(pattern) and pattern[i + 1] == ":":
                raise Unsupported("POSIX class in a regex")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < len(pattern) and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < len(pattern) and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            m = re.match(r"\(\?(?:[:=!]|<[=!]|[imsx]+\)|[imsx-]+:)", pattern[i:])
            if not m:
                raise Unsupported(f"regex group {pattern[i:i + 4]}")
        if c == "{" and re.match(r"\{,[0-9]*\}", pattern[i:]):
            raise Unsupported("regex {,n} (PCRE versions differ)")
        out.append(c)
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------- data models

#: CIM data models the reading knows: "Model.Object" -> (prefix, constraint
#: search). The constraints are the CIM root datasets' (index macro then
#: tags); `Authentication` also excludes successful computer-account logons.
DATAMODELS = {
    "Network_Resolution.DNS": ("DNS", "(`cim_Network_Resolution_indexes`) tag=network tag=resolution tag=dns"),
    "Network_Traffic.All_Traffic": ("All_Traffic", "(`cim_Network_Traffic_indexes`) tag=network tag=communicate"),
    "Web.Web": ("Web", "(`cim_Web_indexes`) tag=web"),
    "Authentication.Authentication": ("Authentication",
                                      "(`cim_Authentication_indexes`) tag=authentication NOT (action=success user=*$)"),
    "Endpoint.Processes": ("Processes", "(`cim_Endpoint_indexes`) tag=process tag=report"),
}
#: Child datasets usable as `nodename` in a tstats WHERE: name -> constraint.
NODES = {"Web.Proxy": "tag=proxy"}
#: CIM's index macros default to `()` (every index).
CIM_MACROS = {f"cim_{m}_indexes": "()" for m in
              ("Network_Resolution", "Network_Traffic", "Web", "Authentication", "Endpoint")}
#: Fields the CIM models compute with an eval that, as far as the reading
#: assumes, writes "unknown" for a missing or empty value (the catalogue marks
#: them "(Eval)"; the expression is not verified here). Off unless
#: Reading(cim_unknown=True).
CIM_UNKNOWN = {"Authentication.Authentication": ["action", "app", "dest", "src", "src_user", "user"]}

UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
         "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
         "d": 86400, "day": 86400, "days": 86400}


def span_seconds(text):
    m = re.fullmatch(r"([0-9]*)([a-z]+)", text)
    if not m or m.group(2) not in UNITS:
        raise Unsupported(f"span={text}")
    return int(m.group(1) or 1) * UNITS[m.group(2)]


# --------------------------------------------------------------------------- the reading

class Reading:
    """fold: 'unicode' or 'ascii' (search-term case folding, see fold()).
    empty_is_value: whether an extracted "" is a field value (True) or no
    field (False); Splunk's docs do not say. pcre_bytes: run match() and
    replace() on UTF-8 bytes (PCRE without UTF mode) instead of characters.
    tz_offset: the searching user's UTC offset in seconds (day spans).
    dispatch: the search's time range (earliest, latest) in epoch seconds,
    either None for unbounded: the search reads the events with earliest <=
    _time < latest, and `addinfo` reports the range; without it `addinfo` is
    Unsupported."""

    def __init__(self, macros=None, fold="unicode", empty_is_value=True, pcre_bytes=False,
                 tz_offset=0, cim_unknown=False, datamodels=None, nodename_terms=False, dispatch=None):
        self.dispatch = dispatch
        self.nodename_terms = nodename_terms
        self.macros = {**CIM_MACROS, **(macros or {})}
        self.search_eval = SearchEval(fold, empty_is_value)
        self.empty_is_value = empty_is_value
        self.pcre_bytes = pcre_bytes
        self.tz_offset = tz_offset
        self.cim_unknown = cim_unknown
        self.datamodels = datamodels or DATAMODELS
        self.evaluator = Evaluator(self)
        self._regex = {}

    # -- regular expressions
    def regex(self, pattern):
        key = pattern
        if key not in self._regex:
            py = pcre_to_python(pattern)
            try:
                self._regex[key] = re.compile(py.encode("utf-8") if self.pcre_bytes else py)
            except re.error as err:
                raise SplError(f"bad regex {pattern!r}: {err}")
        return self._regex[key]

    def regex_search(self, pattern, text):
        rx = self.regex(pattern)
        subject = text.encode("utf-8") if self.pcre_bytes else text
        return rx.search(subject) is not None

    # -- running
    def run(self, spl, events):
        if self.dispatch is not None:
            lo, hi = self.dispatch
            # [AI]/[TSTATS]: a search reads the events of its time range,
            # earliest inclusive, latest exclusive; positions are kept.
            events = [e if (lo is None or float(e.get("_time", 0)) >= lo) and
                      (hi is None or float(e.get("_time", 0)) < hi) else None for e in events]
        spl = expand_macros(spl, self.macros)
        commands = split_pipeline(spl)
        rows = None
        if commands[0] == "":
            commands = commands[1:]
            if not commands or not commands[0].startswith("tstats"):
                raise Unsupported(f"generating command {commands[0].split()[0] if commands else ''}")
        elif not re.match(r"search\b", commands[0]):
            commands[0] = "search " + commands[0]
        for i, command in enumerate(commands):
            name, _, rest = command.partition(" ")
            if rows is None and name not in ("search", "tstats"):
                raise SplError(f"{name} cannot start a search")
            handler = getattr(self, "cmd_" + name, None)
            if handler is None:
                raise Unsupported(f"command {name}")
            if name in ("search", "tstats") and rows is None:
                rows = handler(rest, None, events)
            else:
                rows = handler(rest, rows, events)
        return rows

    def event_rows(self, events):
        """The events as the search's first results: newest first (Splunk
        returns events in reverse time order; ties keep input order)."""
        rows = []
        for n, e in enumerate(events):
            if e is None:  # outside the dispatch range
                continue
            row = {k: field_value(norm(v)) if k != "_time" else v for k, v in e.items()}
            row = {k: v for k, v in row.items() if v is not None}
            row["__rows"] = frozenset([n])
            row["__n"] = n
            rows.append(row)
        rows.sort(key=lambda r: (-float(r.get("_time", 0)), r["__n"]))
        return rows

    def cmd_addinfo(self, text, rows, events):
        """[AI]: each result gets info_min_time and info_max_time (the
        search's time range: 0 and +Infinity when unbounded),
        info_search_time and info_sid."""
        if text.strip():
            raise Unsupported(f"addinfo options {text.strip()}")
        if self.dispatch is None:
            raise Unsupported("addinfo without a dispatch range (Reading(dispatch=(earliest, latest)))")
        lo, hi = self.dispatch
        info = {"info_min_time": 0.0 if lo is None else float(lo),
                "info_max_time": float("inf") if hi is None else float(hi),
                "info_search_time": float("inf") if hi is None else float(hi), "info_sid": "tripline_reading"}
        return [{**r, **info} for r in rows]

    def cmd_search(self, text, rows, events):
        tree = parse_search(text)
        if rows is None:
            rows = self.event_rows(events)
        return [r for r in rows if self.search_eval.test(tree, r)]

    def cmd_where(self, text, rows, events):
        node = EvalParser(text).parse_all()
        # [WHERE]: keeps only the results for which the expression is TRUE.
        return [r for r in rows if truth(self.evaluator.eval(node, r)) is True]

    def cmd_eval(self, text, rows, events):
        assignments = []
        for part in split_top(text, ","):
            m = re.match(r"\s*('[^']*'|[A-Za-z_][A-Za-z0-9_.]*)\s*=(?!=)(.*)", part, re.S)
            if not m:
                raise SplError(f"bad eval assignment {part!r}")
            name = m.group(1).strip("'")
            assignments.append((name, EvalParser(m.group(2)).parse_all()))
        out = []
        for r in rows:
            r = dict(r)
            for name, node in assignments:
                v = norm(self.evaluator.eval(node, r))
                if v is None:
                    r.pop(name, None)
                else:
                    r[name] = v
            out.append(r)
        return out

    def cmd_fillnull(self, text, rows, events):
        m = re.fullmatch(r'\s*(?:value=("(?:\\.|[^"\\])*"|\S+))?\s*(.*)', text, re.S)
        value = m.group(1) or "0"
        value = unquote(value[1:-1]) if value.startswith('"') else value
        names = m.group(2).split()
        if not names:
            raise Unsupported("fillnull without a field list")
        return [{**r, **{n: value for n in names if norm(r.get(n)) is None}} for r in rows]

    def cmd_streamstats(self, text, rows, events):
        """[CMD] streamstats: statistics of each result and the results
        before it, in the order of the results. Options read: `current`
        (default true: the result itself is counted), `window=N` (the last N
        results; without it every result before, assumption: no more than
        max_stream_window, which the searches tripline writes never reach)
        and `global` (default true: with a window and a BY clause, one
        window over all results; false: a window per group). Functions:
        `count`, `last(f)`, `first(f)` (as stats reads them, over the
        window), each with `AS name`, then an optional BY clause."""
        options = {}
        rest = text.strip()
        while True:
            m = re.match(r"(current|window|global)=(\S+)\s+", rest)
            if not m:
                break
            options[m.group(1)] = m.group(2)
            rest = rest[m.end():]
        aggs, by = self.parse_aggs(rest)
        if not aggs or any(fn not in ("count", "last", "first") or (fn == "count") != (arg is None)
                           for fn, arg, _ in aggs):
            raise Unsupported(f"streamstats {text}")
        flags = {"true": True, "t": True, "false": False, "f": False}
        current = flags.get(options.get("current", "true").lower())
        global_window = flags.get(options.get("global", "true").lower())
        window = options.get("window", "0")
        if current is None or global_window is None or not window.isdigit():
            raise SplError(f"streamstats options {options}")
        window = int(window)
        out, seen = [], {}
        for r in rows:
            group = None
            if by:
                key = [norm(r.get(b)) for b in by]
                # Assumption (docs silent): a result without a BY field, or
                # with a multivalue one, is not what tripline writes.
                if any(v is None or isinstance(v, list) for v in key):
                    raise Unsupported("streamstats over a result with a null or multivalue BY field")
                group = tuple(as_text(v) for v in key)
            shared = "all" if (window and global_window) else group
            before = seen.setdefault(shared, [])
            # The results this one is counted over: those before it in its
            # window's stream (of its group, or of all with a global window),
            # of its own group, then itself when `current`.
            pool = before + [r] if current else list(before)
            if window:
                pool = pool[-window:]
            if by:
                pool = [p for p in pool if tuple(as_text(norm(p.get(b))) for b in by) == group]
            row = dict(r)
            for fn, arg, name in aggs:
                v = len(pool) if fn == "count" else self.aggregate(fn, arg, pool)
                if v is None:
                    row.pop(name, None)
                else:
                    row[name] = v
            out.append(row)
            before.append(r)
        return out

    def cmd_mvexpand(self, text, rows, events):
        name = text.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
            raise Unsupported(f"mvexpand {text}")
        out = []
        for r in rows:
            vals = values_of(r.get(name))
            # [MX]: one result per value. Assumption: a row without the field
            # is kept as is.
            if not vals:
                out.append(r)
            for v in vals:
                out.append({**r, name: v})
        return out

    def cmd_rename(self, text, rows, events):
        pairs = []
        for part in split_top(text, ","):
            m = re.fullmatch(r'\s*("[^"]*"|\S+)\s+AS\s+("[^"]*"|\S+)\s*', part, re.I)
            if not m:
                raise SplError(f"bad rename {part!r}")
            pairs.append((m.group(1).strip('"'), m.group(2).strip('"')))
        out = []
        for r in rows:
            r = dict(r)
            for old, new in pairs:
                if "*" in old:
                    rx = re.compile("(.*)".join(re.escape(p) for p in old.split("*")))
                    for k in [k for k in r if not k.startswith("__")]:
                        m = rx.fullmatch(k)
                        if m:
                            parts = new.split("*")
                            target = parts[0] + "".join(g + p for g, p in zip(m.groups(), parts[1:]))
                            r[target] = r.pop(k)
                elif old in r:
                    r[new] = r.pop(old)
            out.append(r)
        return out

    def keep(self, rows, names, remove=False):
        pats = [re.compile(".*".join(re.escape(p) for p in n.split("*"))) for n in names]
        out = []
        for r in rows:
            hit = lambda k: any(p.fullmatch(k) for p in pats)
            out.append({k: v for k, v in r.items() if k.startswith("__") or (hit(k) != remove)})
        return out

    def cmd_table(self, text, rows, events):
        return self.keep(rows, [n for n in re.split(r"[\s,]+", text.strip()) if n])

    def cmd_fields(self, text, rows, events):
        text = text.strip()
        remove = text.startswith("-")
        text = text.lstrip("+-").strip()
        return self.keep(rows, [n for n in re.split(r"[\s,]+", text) if n], remove)

    def cmd_sort(self, text, rows, events):
        toks = [t for t in re.split(r"[\s,]+", text.strip()) if t]
        if toks and toks[0].isdigit():
            toks = toks[1:]
        keys, sign = [], "+"
        for t in toks:
            if t in "+-":
                sign = t
                continue
            if t[0] in "+-":
                sign, t = t[0], t[1:]
            keys.append((t, sign == "-"))
            sign = "+"
        for name, desc in reversed(keys):
            def key(r, name=name):
                v = scalar(r.get(name), "sort")
                n = as_number(v)
                return (v is None, 0 if n is not None else 1, n if n is not None else as_text(v) or "")
            present = [r for r in rows if norm(r.get(name)) is not None]
            absent = [r for r in rows if norm(r.get(name)) is None]
            rows = sorted(present, key=key, reverse=desc) + absent
        return rows

    def cmd_dedup(self, text, rows, events):
        names = [n for n in re.split(r"[\s,]+", text.strip()) if n]
        if any("=" in n for n in names):
            raise Unsupported(f"dedup options {text}")
        seen, out = set(), []
        for r in rows:
            vals = [norm(r.get(n)) for n in names]
            # [CMD] dedup: keepempty=false by default drops results missing a field.
            if any(v is None for v in vals):
                continue
            key = tuple(tuple(v) if isinstance(v, list) else v for v in vals)
            if key not in seen:
                seen.add(key)
                out.append(r)
        return out

    def bucket(self, t, span):
        """[BIN]: span buckets. Assumption: spans under a day start at
        multiples of the span since the epoch; day spans at the searching
        user's midnight (tz_offset)."""
        t = float(t)
        if span >= 86400:
            return float(math.floor((t + self.tz_offset) / span) * span - self.tz_offset)
        return float(math.floor(t / span) * span)

    def cmd_bin(self, text, rows, events):
        m = re.fullmatch(r"\s*(?:span=(\S+)\s+)?(\S+)(?:\s+span=(\S+))?(?:\s+AS\s+(\S+))?\s*", text, re.I)
        if not m or not (m.group(1) or m.group(3)):
            raise Unsupported(f"bin {text}")
        span = span_seconds(m.group(1) or m.group(3))
        field, target = m.group(2), m.group(4) or m.group(2)
        out = []
        for r in rows:
            v = as_number(scalar(r.get(field), "bin"))
            out.append({**r, target: self.bucket(v, span)} if v is not None else r)
        return out

    # -- stats family
    def parse_aggs(self, text):
        """`count`, `count(f)`, `dc(f)`... each with optional `AS name`,
        then an optional `BY f1 f2 ...` (commas allowed)."""
        m = re.search(r"\s(?:BY|by)\s", " " + text + " ")
        agg_text, by_text = (text, "") if not m else (text[:m.start()], text[m.end() - 1:])
        aggs = []
        for m in re.finditer(r"""([A-Za-z_]+)(?:\(\s*('[^']*'|"[^"]*"|[^)\s]*)\s*\))?(?:\s+AS\s+('[^']*'|"[^"]*"|[^\s,]+))?""",
                             agg_text, re.I):
            fn, arg, alias = m.group(1), m.group(2), m.group(3)
            if fn.upper() == "AS":
                continue
            arg = arg.strip("'\"") if arg else None
            name = alias.strip("'\"") if alias else (f"{fn}({arg})" if arg else fn)
            aggs.append((fn.lower(), arg, name))
        by = [b.strip("'\"") for b in re.split(r"[\s,]+", by_text.strip()) if b]
        return aggs, by

    def aggregate(self, fn, arg, group):
        """[SFN] for the rows of one group (in result order)."""
        if fn == "count":
            if arg is None:
                return len(group)
            return sum(len(values_of(r.get(arg))) for r in group)
        vals = [(r, v) for r in group for v in values_of(r.get(arg))]
        if fn in ("dc", "distinct_count"):
            # [SFN]: dc() counts distinct values exactly (estdc() estimates);
            # values compare as text, case-sensitively.
            return len({as_text(v) for _, v in vals})
        if fn == "values":
            # [SFN]: the distinct values, in lexicographic order.
            return norm(sorted({as_text(v) for _, v in vals})) if vals else None
        if fn in ("earliest", "latest"):
            # [SFN]: the value of the chronologically earliest/latest result
            # that has the field (assumption: ties go to the first in result order).
            have = [r for r in group if values_of(r.get(arg))]
            if not have:
                return None
            times = [float(r.get("_time", 0)) for r in have]
            t = min(times) if fn == "earliest" else max(times)
            # Assumption (docs silent): of a multivalue field, its first value.
            return values_of(next(r for r in have if float(r.get("_time", 0)) == t).get(arg))[0]
        if fn in ("first", "last"):
            have = [r for r in group if values_of(r.get(arg))]
            return None if not have else values_of(have[0 if fn == "first" else -1].get(arg))[0]
        if fn in ("min", "max", "sum"):
            nums = [as_number(v) for _, v in vals]
            if fn == "sum":
                nums = [n for n in nums if n is not None]
                return sum(nums) if nums else None
            # [SFN]: min/max compare numbers numerically; when no value is a
            # number, lexicographically (assumption for a mix: numbers only).
            if not vals:
                return None
            numeric = [n for n in nums if n is not None]
            if numeric:
                return min(numeric) if fn == "min" else max(numeric)
            texts = [as_text(v) for _, v in vals]
            return min(texts) if fn == "min" else max(texts)
        raise Unsupported(f"stats function {fn}()")

    def groups(self, rows, by, fillnull=None):
        """[STATS]: one group per distinct combination of BY values. A
        multivalue BY field puts the result in the group of each of its
        (distinct) values; a result with a null BY field is in no group
        (unless fillnull: tstats fillnull_value)."""
        groups = {}
        for r in rows:
            combos = [()]
            for name in by:
                vals = []
                for v in values_of(r.get(name)):
                    t = v if isinstance(v, (int, float)) and not isinstance(v, bool) else as_text(v)
                    if t == "" and not self.empty_is_value:
                        continue
                    if t not in vals:
                        vals.append(t)
                if not vals:
                    if fillnull is None:
                        combos = []
                        break
                    vals = [fillnull]
                combos = [c + (v,) for c in combos for v in vals]
            for c in combos:
                groups.setdefault(c, []).append(r)
        return groups

    def stats_rows(self, groups, aggs, by, has_by):
        out = []
        if not has_by and not groups:
            groups = {(): []}
        for key in sorted(groups, key=lambda k: tuple(map(repr, k))):
            group = groups[key]
            row = dict(zip(by, key))
            for fn, arg, name in aggs:
                v = self.aggregate(fn, arg, group)
                if v is not None:
                    row[name] = v
            row["__rows"] = frozenset().union(*(r["__rows"] for r in group)) if group else frozenset()
            out.append(row)
        return out

    def cmd_stats(self, text, rows, events):
        aggs, by = self.parse_aggs(text)
        return self.stats_rows(self.groups(rows, by), aggs, by, bool(by))

    def cmd_eventstats(self, text, rows, events):
        aggs, by = self.parse_aggs(text)
        groups = self.groups(rows, by)
        member = {}
        for key, group in groups.items():
            for r in group:
                if id(r) in member:
                    raise Unsupported("eventstats with a multivalue BY field (a result in several groups)")
                member[id(r)] = key
        results = {key: {name: self.aggregate(fn, arg, g) for fn, arg, name in aggs} for key, g in groups.items()}
        out = []
        for r in rows:
            key = member.get(id(r))
            extra = {} if key is None else {k: v for k, v in results[key].items() if v is not None}
            out.append({**r, **extra})
        return out

    def check_nodename(self, tree, top=True):
        """[TSTATS] documents `where nodename = Root.Child` as part of FROM;
        a nodename term under NOT or OR is not documented and is refused
        unless Reading(nodename_terms=True) reads it as a Boolean term."""
        kind = tree[0]
        if kind == "cmp" and tree[1] == "nodename":
            if tree[3] not in NODES:
                raise Unsupported(f"nodename {tree[3]}")
            if not (top and tree[2] == "=") and not self.nodename_terms:
                raise Unsupported("nodename under NOT or OR in a tstats WHERE (undocumented)")
        elif kind == "and":
            for t in tree[1]:
                self.check_nodename(t, top)
        elif kind == "or":
            for t in tree[1]:
                self.check_nodename(t, False)
        elif kind == "not":
            self.check_nodename(tree[1], False)

    def cmd_tstats(self, text, rows, events):
        """[TSTATS] `tstats [options] FUNCTIONS FROM datamodel=M.O [WHERE
        search] [BY fields [span=S]]` over a model's summary: the reading's
        summary of `M.O` is the events its constraint search selects, each
        field `f` as `O.f`, plus `_time`, `index`, `O.tag`."""
        if rows is not None:
            raise SplError("tstats must start the search")
        opts = {}
        while True:
            m = re.match(r"\s*(prestats|local|append|summariesonly|include_reduced_buckets|allow_old_summaries|chunk_size|fillnull_value)=(\"[^\"]*\"|\S+)", text)
            if not m:
                break
            opts[m.group(1)] = m.group(2).strip('"')
            text = text[m.end():]
        if opts.get("prestats", "false").lower() in ("t", "true", "1") or opts.get("append", "false").lower() in ("t", "true", "1"):
            raise Unsupported("tstats prestats/append")
        funcs, rest = split_keyword(text, "FROM")
        if rest is None:
            raise Unsupported(f"tstats without FROM datamodel: {text}")
        rest, by_text = split_keyword(rest, "BY")
        rest, where = split_keyword(rest, "WHERE")
        m = re.fullmatch(r"\s*datamodel\s*=\s*(\S+)\s*", rest)
        if not m:
            raise Unsupported(f"tstats FROM {rest}")
        model = m.group(1)
        if model not in self.datamodels:
            raise Unsupported(f"data model {model}")
        prefix, constraint = self.datamodels[model]
        span = None
        if by_text:
            sm = re.search(r"\bspan\s*=\s*(\S+)", by_text)
            if sm:
                span = span_seconds(sm.group(1))
                by_text = by_text[:sm.start()] + by_text[sm.end():]
        aggs, _ = self.parse_aggs(funcs)
        by = [b for b in re.split(r"[\s,]+", (by_text or "").strip()) if b]
        # The summary.
        tree = parse_search(expand_macros(constraint, self.macros))
        summary = []
        for r in self.event_rows(events):
            if not self.search_eval.test(tree, r):
                continue
            row = {"__rows": r["__rows"], "__n": r["__n"]}
            for k, v in r.items():
                if k.startswith("__"):
                    continue
                if k in ("_time", "index", "sourcetype", "source", "host"):
                    row[k] = v
                else:
                    row[f"{prefix}.{k}"] = v
            if self.cim_unknown:
                for f in CIM_UNKNOWN.get(model, []):
                    v = norm(row.get(f"{prefix}.{f}"))
                    if v is None or v == "":
                        row[f"{prefix}.{f}"] = "unknown"
            summary.append(row)
        if where:
            tree = parse_search(where)
            self.check_nodename(tree)
            # A row's datasets, for `nodename=` terms: the root and each child
            # whose constraint the event meets.
            for r in summary:
                r["nodename"] = [model.split(".")[0] + "." + prefix] + [
                    name for name, c in NODES.items()
                    if name.startswith(model.split(".")[0] + ".") and
                    self.search_eval.test(parse_search(c.replace("tag=", f"{prefix}.tag=")), r)]
            summary = [r for r in summary if self.search_eval.test(tree, r)]
        if span is not None:
            if "_time" not in by:
                raise SplError("span without _time in BY")
            summary = [{**r, "_time": self.bucket(r["_time"], span)} for r in summary]
        fill = opts.get("fillnull_value")
        # [TSTATS]: results whose BY fields are null are dropped unless
        # fillnull_value is given.
        groups = {}
        for key, group in self.groups(summary, [b for b in by if b != "_time"], fill).items():
            if "_time" in by:
                for r in group:
                    groups.setdefault(key + (r["_time"],), []).append(r)
            else:
                groups[key] = group
        names = [b for b in by if b != "_time"] + (["_time"] if "_time" in by else [])
        out = self.stats_rows(groups, aggs, names, bool(by))
        if "_time" in by:
            for r in out:
                r["_time"] = float(r["_time"])
        return out


def split_keyword(text, word):
    """(before, after) the first `word` (any case, as a whole word) outside
    quotes and parentheses; after is None when there is none."""
    depth, i = 0, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = skip_string(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and text[i:i + len(word)].upper() == word and (i == 0 or text[i - 1].isspace()) \
                and (i + len(word) == len(text) or text[i + len(word)].isspace()):
            return text[:i], text[i + len(word):]
        i += 1
    return text, None


def split_top(text, sep):
    """Split on `sep` outside quotes and parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = skip_string(text, i)
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = len(text) if j < 0 else j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]
