"""What the generated differential cases of the kql and sql targets share
(kql/generated.py, sql/generated.py): random `.trip` rules and adversarial
events drawn from a target's `Vocabulary`, and the `tripline` runs they are
compared with. Each target keeps its own alphabet, values and odds (what
its engine can run differs), so that its seeds keep generating the same
cases.
"""

import json
import os
import subprocess


def quote(s):
    """A tripline string literal holding `s`."""
    out = ['"']
    for c in s:
        out.append({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, c))
    out.append('"')
    return "".join(out)


def combine(a, b, shape):
    """One of the conditions over two tests `a` and `b` (shape 0 to 4)."""
    return [a, f"not {a}", f"{a} and {b}", f"{a} or not {b}", f"not ({a} or {b})"][shape]


def rule_id(rng, n):
    """A rule id: random head (other seeds, other ids), the rule's number as tail."""
    return f"{rng.getrandbits(32):08x}-0000-4000-8000-{n:012x}"


def rule(name, ident, sources, where, tail="", title="g"):
    """A generated rule's text; `tail` holds its lines after `where`."""
    return (f"rule {name} {{\n  title \"{title}\"\n  id \"{ident}\"\n"
            f"  level low\n  attack T1590\n  description \"generated\"\n  from {sources}\n"
            f"  where {where}\n{tail}}}\n")


class Vocabulary:
    """One target's material for rules and events (the two targets differ in
    values and odds; kept as they were, so that a seed still generates the
    same cases):

    alphabet      characters of text values
    int_literals  integers that rules compare with
    regexes       patterns of `matches`
    addresses     spellings of addresses that events' `ip` fields hold
    blocks        CIDR blocks of `in cidr` tests on `ip` fields, which then
                  also compare with `addresses`; None: `ip` fields are
                  tested as text
    v2_odds       (cased, length): a version 2 predicate is a `cased` test
                  where its roll is below `cased`, `len(f)` below `length`,
                  else a version 1 one
    value_odds    (null, empty, address, scalar, near): where one roll falls
                  among these, an event's text value is null, "", an
                  address (`ip` fields), 0/1/true/false, near a rule's
                  literal, else random text

    `pool` keeps the rules' literals, which events reuse (mutated) so that
    predicates hold; clear it when a seed starts.
    """

    def __init__(self, alphabet, int_literals, regexes, addresses, v2_odds, value_odds, blocks=None):
        self.alphabet = alphabet
        self.int_literals = int_literals
        self.regexes = regexes
        self.addresses = addresses
        self.v2_odds = v2_odds
        self.value_odds = value_odds
        self.blocks = blocks
        self.pool = []

    def draw(self, rng, low, high):
        """Random text (not kept in the pool)."""
        return "".join(rng.choice(self.alphabet) for _ in range(rng.randint(low, high)))

    def text(self, rng, low=1, high=4):
        """A rule's literal (kept in the pool)."""
        value = self.draw(rng, low, high)
        self.pool.append(value)
        return value

    def near(self, rng):
        """A value close to one of the rules' literals: as is, case swapped, or
        with characters around it."""
        value = rng.choice(self.pool)
        roll = rng.random()
        if roll < 0.3:
            return value.swapcase()
        if roll < 0.6:
            return rng.choice(self.alphabet) + value + rng.choice(["", rng.choice(self.alphabet)])
        return value

    def glob(self, rng):
        pieces = []
        for _ in range(rng.randint(1, 4)):
            pieces.append(rng.choice(["*", "?", "\\*", "\\?", "\\\\", self.text(rng, 1, 2).replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")]))
        return "".join(pieces)

    def literals(self, rng, op):
        """The text operands of a string test: globs for `like`."""
        if op == "like":
            return [self.glob(rng) for _ in range(rng.randint(1, 2))]
        return [self.text(rng) for _ in range(rng.randint(1, 3))]

    def predicate(self, rng, fields):
        """A test of one field (fields: name -> kind)."""
        field = rng.choice(sorted(fields))
        kind = fields[field]
        if kind == "int":
            op = rng.choice(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "exists"])
            if op == "exists":
                return f"exists({field})"
            if op in ("in", "not in"):
                values = rng.sample(self.int_literals, rng.randint(1, 3))
                return f"{field} {op} [{', '.join(map(str, values))}]"
            return f"{field} {op} {rng.choice(self.int_literals)}"
        ip_tests = kind == "ip" and self.blocks is not None
        ops = ["==", "!=", "in", "not in", "contains", "startswith", "endswith", "like", "matches", "exists"]
        if ip_tests:
            ops += ["in cidr", "not in cidr", "in cidr", "==", "in"]
        op = rng.choice(ops)
        if op == "exists":
            return f"exists({field})"
        if op == "matches":
            return f'{field} matches r#"{rng.choice(self.regexes)}"#'
        if "cidr" in op:
            blocks = rng.sample(self.blocks, rng.randint(1, 3))
            return f"{field} {op} [{', '.join(map(quote, blocks))}]"
        if ip_tests and op in ("==", "in", "not in", "!="):
            values = rng.sample(self.addresses, rng.randint(1, 3))
        else:
            values = self.literals(rng, op)
        return string_test(rng, field, op, values)

    def predicate_v2(self, rng, fields):
        """A version 2 predicate: a `cased` string test or `len(f)`, else any."""
        field = rng.choice(sorted(f for f, kind in fields.items() if kind != "int"))
        cased, length = self.v2_odds
        roll = rng.random()
        if roll < cased:
            op = rng.choice(["==", "!=", "in", "not in", "contains", "startswith", "endswith", "like"])
            return string_test(rng, field, f"cased {op}", self.literals(rng, op))
        if roll < length:
            # Comparisons that hold for length 0 are refused by the kql target
            # (a missing value reads as ""): generated too, counted as refusals.
            op = rng.choice(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
            if op in ("in", "not in"):
                return f"len({field}) {op} [{', '.join(map(str, rng.sample(range(6), 2)))}]"
            return f"len({field}) {op} {rng.randint(0, 5)}"
        return self.predicate(rng, fields)

    def condition(self, rng, fields, v2=False):
        shape = rng.randint(0, 4)
        make = self.predicate_v2 if v2 else self.predicate
        a, b = make(rng, fields), make(rng, fields)
        return combine(a, b, shape)

    def event_value(self, rng, kind, int_values):
        """A field's value in an event: of its kind or not, often near a rule's literal."""
        if kind == "int":
            return rng.choice(int_values)
        null, empty, address, scalar, near = self.value_odds
        roll = rng.random()
        if roll < null:
            return None
        if roll < empty:
            return ""
        if kind == "ip" and roll < address:
            return rng.choice(self.addresses)
        if roll < scalar:
            return rng.choice([0, 1, True, False])
        if self.pool and roll < near:
            return self.near(rng)
        return self.draw(rng, 1, 5)


def string_test(rng, field, op, values):
    """`field op values` with one value or a list (`all` at random where the
    operator takes it)."""
    listed = f"[{', '.join(map(quote, values))}]"
    bare = op.removeprefix("cased ")
    if bare in ("in", "not in"):
        return f"{field} {op} {listed}"
    if bare in ("==", "!=") or len(values) == 1:
        return f"{field} {op} {quote(values[0])}"
    every = "all " if rng.random() < 0.5 else ""
    return f"{field} {op} {every}{listed}"


def write_case(tmp, source, rules, stream):
    """Writes a pack and its events (JSON Lines); returns their paths."""
    rules_path = os.path.join(tmp, f"{source}.trip")
    events_path = os.path.join(tmp, f"{source}.jsonl")
    with open(rules_path, "w", encoding="utf-8") as f:
        f.write(rules)
    with open(events_path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in stream)
    return rules_path, events_path


def evaluate(tripline, seed, rules_path, events_path, *options):
    """`tripline eval`'s output (the reference), one JSON object a line."""
    evaluated = subprocess.run([tripline, "eval", "--rules", rules_path, *options, events_path],
                               capture_output=True, text=True)
    if evaluated.returncode != 0:
        raise SystemExit(f"seed {seed}: tripline eval failed:\n{evaluated.stderr}\n{open(rules_path).read()}")
    return [json.loads(line) for line in evaluated.stdout.splitlines()]


def build(tripline, seed, rules_path, target, out):
    """Builds the pack for `target`, refused rules left out (counted by the caller)."""
    built = subprocess.run([tripline, "build", rules_path, "--target", target, "--skip-refused", "--out", out],
                           capture_output=True, text=True)
    if built.returncode != 0:
        raise SystemExit(f"seed {seed}: tripline build failed:\n{built.stderr}")


def rule_text(rules_path, name):
    """The text of rule `name` in a generated pack (for reports)."""
    return [b for b in open(rules_path, encoding="utf-8").read().split("\n\n") if f"rule {name} " in b][0]


def built_queries(directory, names, suffix, counts):
    """(name, query) of each named rule the target wrote in `directory`; the
    others were refused (`--skip-refused`) and are counted as such."""
    for name in names:
        path = os.path.join(directory, name + suffix)
        if not os.path.exists(path):
            counts["refused"] += 1
            continue
        yield name, open(path, encoding="utf-8").read()


def disagreements(got, want, counts, key=None):
    """What only one of the engine (`got`) and the evaluator (`want`) has,
    sorted; where they agree, nothing, and the agreement is counted."""
    if got == want:
        counts["agree"] += 1
        return []
    return sorted(got ^ want, key=key)


def tally(total, problems, found, counts):
    """Adds one run's problems and counts to the totals (a rule that
    disagrees on several items is one disagreement)."""
    problems += found
    total["disagree"] += len({p.split(":")[0] for p in found})
    for k, v in counts.items():
        total[k] += v
