"""Every generated query parses and plans in the engine (EXPLAIN).

Creates the engine's `events` view (its generated events.sql over a
one-event JSON Lines file) and runs `EXPLAIN` on each query of the given
build folders (`OUT/sql/ENGINE/*.sql`, the view and runner files aside);
on DuckDB it also runs the pack's `run.sql`, which must write one JSON
Lines file per rule.

Usage: explain.py ENGINE OUT_DIR...   (ENGINE: duckdb or spark)
Exit 1 when a query does not plan (each printed with the engine's error).
"""

import glob
import os
import sys
import tempfile

from generated import engine


def run_pack(db, folder, tmp):
    """run.sql in a scratch folder: one alerts/NAME.jsonl per rule."""
    here = os.getcwd()
    os.chdir(tmp)
    try:
        os.makedirs("alerts", exist_ok=True)
        db.con.execute(open(os.path.join(folder, "run.sql"), encoding="utf-8").read())
        rules = [p for p in glob.glob(os.path.join(folder, "*.sql"))
                 if os.path.basename(p) not in ("events.sql", "run.sql")]
        written = glob.glob(os.path.join("alerts", "*.jsonl"))
        if len(written) != len(rules):
            return [f"{folder}/run.sql: wrote {len(written)} files for {len(rules)} rules"]
        return []
    except Exception as err:
        return [f"{folder}/run.sql: {str(err).splitlines()[0]}"]
    finally:
        for path in glob.glob(os.path.join(tmp, "alerts", "*")):
            os.remove(path)
        os.chdir(here)


def main(engine_name, *outs):
    db = engine(engine_name)
    failures, checked = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.jsonl")
        with open(events, "w", encoding="utf-8") as f:
            f.write('{"@timestamp": "2026-01-01T00:00:00Z", "source": {"ip": "10.1.2.3"}}\n')
        for out in outs:
            folder = os.path.join(out, "sql", engine_name)
            db.view(os.path.join(folder, "events.sql"), events)
            for path in sorted(glob.glob(os.path.join(folder, "*.sql"))):
                if os.path.basename(path) in ("events.sql", "run.sql"):
                    continue
                checked += 1
                try:
                    db.explain(open(path, encoding="utf-8").read())
                except Exception as err:  # the engine's own parse or plan error
                    failures.append(f"{path}: {str(err).splitlines()[0]}")
            if engine_name == "duckdb":
                failures += run_pack(db, folder, tmp)
    for failure in failures:
        print("FAILED  " + failure)
    print(f"explain ({engine_name}): {checked - len(failures)} of {checked} queries plan")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
