"""Random adversarial rules and events: tripline's evaluator against its Sigma.

Generates a pack of `dns` rules whose predicates take values from a nasty
alphabet (Sigma wildcards and escapes, quotes, SQL `%` `_`, controls, line
separators, characters whose case folding is special) and events that hold
such values (numbers as text, `0443`, `" 443"`, null, missing, IPv4-mapped
addresses, ...). `tripline eval` gives the reference verdicts; each rule's
Sigma, converted by pySigma's SQLite backend and run the way
`sqlite_check.py` reads Sigma, must select exactly the same events. Rules
that tripline refuses for Sigma are counted, not compared. A quarter of the
string comparisons are `cased` (version 2: Sigma's `|cased`).

    adversarial.py --tripline target/release/tripline --out DIR [--seed N] [--rules N] [--events N]
"""

import argparse
import json
import random
import re
import subprocess
import sys
from pathlib import Path

from sigma.collection import SigmaCollection

sys.path.insert(0, str(Path(__file__).resolve().parent))
import correlations  # noqa: E402
import sqlite_check  # noqa: E402

FIELDS = {  # ECS name: (Sigma name, type)
    "dns.question.name": ("query", "string"),
    "dns.question.type": ("record_type", "string"),
    "source.ip": ("src_ip", "ip"),
    "source.port": ("src_port", "int"),
}
STRINGS = ["dns.question.name", "dns.question.type"]
ALPHABET = list("aAbB*?\\'\"%_ .:#-|[]{}~") + [
    "\n", "\t", "\r", "\0", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff",
    "é", "É", "ſ", "s", "S", "\u212a", "k", "ς", "σ", "İ", "i", "ß", "ǅ", "😀",
]
WORDS = ["true", "null", "~", "1e3", "0x10", "0443", "443", "-", "yes", "No",
         "*", "?", "\\", "\\*", "a\\", "\\\\*", "%", "_", "''", "#x", ": x", "- x"]
IPS = ["10.1.2.3", "::ffff:10.1.2.3", "::FFFF:10.1.2.3", "::ffff:a01:203",
       "::10.1.2.3", "010.1.2.3", "10.1.2.3 ", "fe80::1%eth0", "[::1]", "::1",
       "fd00::1", "FD00::1", "192.168.1.255", "2001:DB8::1", "1.2.3.4", "-",
       "", "::ffff:192.168.1.7", "255.255.255.255"]
BLOCKS = ["10.0.0.0/8", "::ffff:0:0/96", "fc00::/7", "192.168.1.0/24",
          "0.0.0.0/0", "::/0", "2001:db8::/32", "10.1.2.3", "::1", "1.2.3.4/32"]
PORTS = [443, "443", "0443", " 443", "+443", "4e2", "-0", -1, 0, "", None, "abc", 9007199254740993, "00", 65535, -9007199254740993]
INTS = [-1, 0, 443, 65535, 9007199254740992, -9007199254740992]


def text(rng, lo=1, hi=4):
    if rng.random() < 0.2:
        return rng.choice(WORDS)
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))


def lit(value):
    """A tripline string literal."""
    out = ['"']
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029\ufeff":
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def lits(values):
    return "[" + ", ".join(lit(v) for v in values) + "]"


def glob(rng):
    out = []
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if r < 0.2:
            out.append("*")
        elif r < 0.3:
            out.append("?")
        else:
            c = rng.choice(ALPHABET)
            out.append("\\" + c if c in "*?\\" else c)
    return "".join(out)


def regex(rng):
    pieces = []
    if rng.random() < 0.3:
        pieces.append("^")
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.35:
            c = rng.choice("aAbé.*?+()[]{}|^$\\-#/ %_'\"ſ\u212a")
            pieces.append("\\" + c if c in ".*?+()[]{}|^$\\" else c)
        elif r < 0.45:
            pieces.append(".")
        elif r < 0.6:
            pieces.append(rng.choice([r"\d", r"\w", r"\s", r"\D", r"\W", r"\S"]))
        elif r < 0.7:
            pieces.append(rng.choice(["[a-c]", "[^a]", r"[\d.]", "[*?]", "[é-ê]"]))
        elif r < 0.8:
            pieces.append(rng.choice(["(a|b)", "(?:A|\\*)", "(|x)"]))
        elif pieces:
            pieces[-1] = "(?:" + pieces[-1] + ")" + rng.choice(["*", "+", "?", "{1,2}", "{2}", "{1,}", "*?"])
    pattern = "".join(pieces) or "a"
    if rng.random() < 0.4:
        pattern = "(?i)" + pattern
    return 'r#"' + pattern + '"#'


CASEABLE = re.compile(r"^((?:dns\.question\.name|dns\.question\.type) )(==|!=|in|not in|contains|startswith|endswith|like) ")


def predicate(rng):
    """A predicate, a quarter of the string comparisons made `cased`."""
    p = any_predicate(rng)
    if CASEABLE.match(p) and rng.random() < 0.25:
        return CASEABLE.sub(r"\1cased \2 ", p, count=1)
    return p


def any_predicate(rng):
    kind = rng.random()
    if kind < 0.12:
        f = rng.choice(STRINGS)
        op = rng.choice(["==", "!="])
        return f"{f} {op} {lit(text(rng))}"
    if kind < 0.2:
        f = rng.choice(STRINGS)
        neg = rng.choice(["", "not "])
        return f"{f} {neg}in {lits([text(rng) for _ in range(rng.randint(1, 3))])}"
    if kind < 0.45:
        f = rng.choice(STRINGS + ["source.ip"])
        op = rng.choice(["contains", "startswith", "endswith"])
        n = rng.randint(1, 3)
        values = [text(rng) for _ in range(n)]
        if n == 1 and rng.random() < 0.5:
            return f"{f} {op} {lit(values[0])}"
        every = "all " if rng.random() < 0.5 else ""
        return f"{f} {op} {every}{lits(values)}"
    if kind < 0.6:
        f = rng.choice(STRINGS)
        n = rng.randint(1, 2)
        values = [glob(rng) for _ in range(n)]
        if n == 1:
            return f"{f} like {lit(values[0])}"
        return f"{f} like [{', '.join(lit(v) for v in values)}]"
    if kind < 0.72:
        return f"{rng.choice(STRINGS)} matches {regex(rng)}"
    if kind < 0.82:
        op = rng.choice(["==", "!=", "<", "<=", ">", ">="])
        if rng.random() < 0.2:
            return f"source.port in [{', '.join(str(rng.choice(INTS)) for _ in range(2))}]"
        return f"source.port {op} {rng.choice(INTS)}"
    if kind < 0.9:
        neg = rng.choice(["", "not "])
        blocks = rng.sample(BLOCKS, rng.randint(1, 3))
        return f"source.ip {neg}in cidr {lits(blocks)}"
    # Not on `int` fields: the harness stores non-numeric text there as NULL.
    f = rng.choice(STRINGS + ["source.ip"])
    return rng.choice(["", "not "]) + f"exists({f})"


def condition(rng):
    r = rng.random()
    if r < 0.6:
        return predicate(rng)
    if r < 0.75:
        return f"not ({predicate(rng)})"
    if r < 0.9:
        return f"{predicate(rng)} and not {predicate(rng)}"
    return f"({predicate(rng)} or {predicate(rng)}) and {predicate(rng)}"


def rule(i, where):
    return (
        f"rule adv_{i:04d} {{\n  title \"adversarial {i}\"\n"
        f"  id \"00000000-0000-4000-8000-{i:012d}\"\n  level low\n  attack T1590\n"
        f"  description \"generated\"\n  from dns\n  where {where}\n}}\n"
    )


def mutate(rng, value):
    """A value near `value`: case flipped, wrapped, cut."""
    r = rng.random()
    if r < 0.3:
        return value.swapcase()
    if r < 0.6:
        return text(rng, 0, 2) + value + text(rng, 0, 2)
    if r < 0.7 and len(value) > 1:
        return value[1:]
    return value


def event(rng, pool):
    ev = {}
    for f, (_, ty) in FIELDS.items():
        r = rng.random()
        if r < 0.12:
            continue
        if r < 0.17:
            ev[f] = None
            continue
        if ty == "int":
            ev[f] = rng.choice(PORTS)
        elif ty == "ip":
            ev[f] = rng.choice(IPS) if rng.random() < 0.8 else mutate(rng, rng.choice(pool))
        else:
            ev[f] = mutate(rng, rng.choice(pool)) if rng.random() < 0.7 else text(rng, 0, 5)
    return ev


def literals_of(where):
    """String literals of a `where` (for events that come close to them)."""
    out, i = [], 0
    while True:
        i = where.find('"', i)
        if i < 0 or where[i - 1 : i] == "#":
            return out
        j, buf = i + 1, []
        while j < len(where) and where[j] != '"':
            if where[j] == "\\":
                nxt = where[j + 1]
                if nxt == "u":
                    end = where.index("}", j)
                    buf.append(chr(int(where[j + 3 : end], 16)))
                    j = end + 1
                    continue
                buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                j += 2
                continue
            buf.append(where[j])
            j += 1
        out.append("".join(buf).replace("*", "").replace("?", ""))
        i = j + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tripline", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rules", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--thresholds", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    wheres = [condition(rng) for _ in range(args.rules)]
    pack = out / "adversarial.trip"
    pack.write_text("".join(rule(i, w) for i, w in enumerate(wheres)))
    pool = [v for w in wheres for v in literals_of(w) if v] or ["a"]
    events = [event(rng, pool) for _ in range(args.events)]
    events_path = out / "events.jsonl"
    events_path.write_text("".join(json.dumps(e) + "\n" for e in events))

    check = subprocess.run([args.tripline, "check", str(pack)], capture_output=True, text=True)
    if check.returncode != 0:
        print(check.stderr[-4000:])
        print("the generated pack does not check")
        return 2
    build = subprocess.run(
        [args.tripline, "build", str(pack), "--target", "sigma", "--skip-refused",
         "--out", str(out / "build")], capture_output=True, text=True)
    (out / "refusals.txt").write_text(build.stderr)
    run = subprocess.run(
        [args.tripline, "eval", "--rules", str(pack), "--source", "dns", str(events_path)],
        capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stderr[-4000:])
        return 2
    expected = {}
    for line in run.stdout.splitlines():
        match = json.loads(line)
        expected.setdefault(match["rule"], set()).add(match["line"] - 1)

    backend = sqlite_check.CidrBackend()
    fields = {ecs: name for ecs, (name, _) in FIELDS.items()}
    types = {ecs: ty for ecs, (_, ty) in FIELDS.items()}
    rows = [[sqlite_check.cell(e.get(ecs), types[ecs]) for ecs in fields] for e in events]
    compared = refused = failed = 0
    for i, where in enumerate(wheres):
        name = f"adv_{i:04d}"
        path = out / "build" / "sigma" / f"{name}.yml"
        if not path.exists():
            refused += 1
            continue
        compared += 1
        try:
            [query] = backend.convert(SigmaCollection.from_yaml(path.read_text()))
            got = select(query, fields, types, rows)
        except Exception as err:  # noqa: BLE001 - any pySigma failure is a defect
            failed += 1
            print(f"FAIL {name}: {where}\n  pySigma: {err}")
            continue
        want = expected.get(name, set())
        if got != want:
            failed += 1
            diff = sorted(got ^ want)[:3]
            print(f"FAIL {name}: {where}\n  {query}")
            for line in diff:
                verdict = "match" if line in want else "nomatch"
                print(f"  event {line + 1} ({verdict} in tripline): {json.dumps(events[line])}")
    print(f"adversarial: {compared} rules compared, {failed} failed, {refused} refused "
          f"(seed {args.seed}, {len(events)} events)")
    # A generator of its own, so the base rules above stay those of the seed.
    thresholds_rng = random.Random(f"thresholds-{args.seed}")
    failed += correlations.run(args.tripline, out, thresholds_rng, predicate,
                               args.thresholds, args.events)
    return 1 if failed else 0


def select(query, fields, types, rows):
    """The indexes of the rows the query selects."""
    con = sqlite_check.connect()
    columns = ", ".join(
        f'"{name}" ' + ("INTEGER" if types[ecs] == "int" else "TEXT COLLATE fold")
        for ecs, name in fields.items()
    )
    con.execute(f"CREATE TABLE logs ({columns})")
    con.executemany(f"INSERT INTO logs VALUES ({', '.join('?' * len(fields))})", rows)
    selected = {r[0] - 1 for r in con.execute(query.replace("SELECT *", "SELECT rowid", 1))}
    con.close()
    return selected


if __name__ == "__main__":
    sys.exit(main())
