"""Every generated query parses and plans in the engine (EXPLAIN).

Creates the engine's `events` view (its generated events.sql over a
one-event JSON Lines file) and runs `EXPLAIN` on each query of the given
build folders (`OUT/sql/ENGINE/*.sql`, the view file aside).

Usage: explain.py ENGINE OUT_DIR...   (ENGINE: duckdb or spark)
Exit 1 when a query does not plan (each printed with the engine's error).
"""

import glob
import os
import sys
import tempfile

from generated import engine


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
                if os.path.basename(path) == "events.sql":
                    continue
                checked += 1
                try:
                    db.explain(open(path, encoding="utf-8").read())
                except Exception as err:  # the engine's own parse or plan error
                    failures.append(f"{path}: {str(err).splitlines()[0]}")
    for failure in failures:
        print("FAILED  " + failure)
    print(f"explain ({engine_name}): {checked - len(failures)} of {checked} queries plan")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
