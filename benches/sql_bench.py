"""Helpers of benches/sql.sh (run with the venv's python).

    sql_bench.py events N PATH          write N ECS events (the generator of
                                        tests/conformance/sql/bench.py, seed 1)
    sql_bench.py view ENGINE SRC EVENTS DEST
                                        copy a generated events.sql, reading EVENTS
    sql_bench.py duckdb VIEW RUN_SQL DIR
                                        run the view, then run.sql in DIR (alerts/ there)
    sql_bench.py count EVAL DUCKDB_ALERTS SPARK_OUT
                                        matches and alerts per rule of each, compared
"""

import glob
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "conformance", "sql"))


def events(n, path):
    from bench import event  # the generator the SQL conformance bench uses
    rng = random.Random(1)
    with open(path, "w", encoding="utf-8") as f:
        for k in range(int(n)):
            f.write(json.dumps(event(rng, k)) + "\n")


def view(engine, src, events_path, dest):
    sql = open(src, encoding="utf-8").read()
    if engine == "duckdb":
        old, new = "'events/*.jsonl'", "'" + events_path.replace("'", "''") + "'"
    else:
        old, new = "text.`events/*.jsonl`", "text.`" + events_path.replace("`", "``") + "`"
    if old not in sql:
        sys.exit(f"{src}: no {old} to replace")
    with open(dest, "w", encoding="utf-8") as f:
        f.write(sql.replace(old, new))


def duckdb_run(view_sql, run_sql, folder):
    import duckdb
    os.makedirs(os.path.join(folder, "alerts"), exist_ok=True)
    os.chdir(folder)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(open(view_sql, encoding="utf-8").read())
    con.execute(open(run_sql, encoding="utf-8").read())


def tally(lines, into):
    for line in lines:
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("kind") in ("match", "alert"):
            key = (r["rule"], r["kind"])
            into[key] = into.get(key, 0) + 1
    return into


def count(eval_out, duck_dir, spark_dir):
    counts = {"eval": tally(open(eval_out, encoding="utf-8"), {}), "duckdb": {}, "spark": {}}
    for p in glob.glob(os.path.join(duck_dir, "*.jsonl")):
        tally(open(p, encoding="utf-8"), counts["duckdb"])
    for p in glob.glob(os.path.join(spark_dir, "*", "part-*")):
        tally(open(p, encoding="utf-8"), counts["spark"])
    engines = [e for e in counts if e == "eval" or os.path.isdir({"duckdb": duck_dir, "spark": spark_dir}[e])]
    keys = sorted(set().union(*(counts[e] for e in engines)))
    print(f"{'rule':48} {'kind':6} " + " ".join(f"{e:>8}" for e in engines))
    differ = 0
    for key in keys:
        values = [counts[e].get(key, 0) for e in engines]
        mark = "" if len(set(values)) == 1 else "  DIFFERS"
        differ += bool(mark)
        print(f"{key[0]:48} {key[1]:6} " + " ".join(f"{v:>8}" for v in values) + mark)
    for kind in ("match", "alert"):
        print(f"{'total':48} {kind:6} " + " ".join(
            f"{sum(v for k, v in counts[e].items() if k[1] == kind):>8}" for e in engines))
    print("every engine agrees with tripline eval, rule by rule" if not differ
          else f"{differ} (rule, kind) counts differ from tripline eval")
    return 1 if differ else 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "events":
        events(*args)
    elif cmd == "view":
        view(*args)
    elif cmd == "duckdb":
        duckdb_run(*args)
    elif cmd == "count":
        sys.exit(count(*args))
    else:
        sys.exit(__doc__)
