"""Events per second of the pack on DuckDB and Spark beside `tripline eval`.

Writes N ECS events (JSON Lines, nested, a mix of the six sources routed by
`event.dataset`, values drawn so that the pack's rules fire now and then),
then times, on the same file:
  - `tripline eval --rules rules/` (one process, all rules);
  - DuckDB: the generated events.sql view materialised as a table (the
    JSON parse), then every rule's query over it;
  - Spark local mode (when `spark` is among the engines): the view cached,
    then every rule's query collected.
Prints one line per engine with the seconds and events/s, parse included
and not.

Usage: bench.py TRIPLINE_BIN BUILD_DIR N [ENGINES]   (BUILD_DIR: build --target sql --out)
"""

import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from generated import Spark, strip_comments

ADDRESSES = ["10.1.2.3", "192.168.7.20", "203.0.113.9", "198.51.100.23", "8.8.8.8",
             "2001:db8::5", "::ffff:203.0.113.9", "172.16.4.4"]
WORDS = ["admin", "alice", "bob", "svc-backup", "root", "guest"]
PATHS = ["/", "/login", "/wp-login.php", "/owa/auth/logon.aspx", "/api/v1/users", "/.env"]
AGENTS = ["Mozilla/5.0", "curl/8.4.0", "python-requests/2.31", "sqlmap/1.7", "Nmap Scripting Engine"]


def event(rng, k):
    source = rng.choice(["dns", "network", "web", "proxy", "authentication", "process"])
    ts = 1767225600 + k // 50
    e = {"@timestamp": ts, "event": {"dataset": source}, "source": {"ip": rng.choice(ADDRESSES)}}
    if source == "dns":
        e["dns"] = {"question": {"name": rng.choice(["a.example.com", "x" * 40 + ".evil.test", "_ldap._tcp.corp.local"]),
                                 "type": rng.choice(["A", "AAAA", "TXT", "AXFR", "ANY", "PTR"])},
                    "response_code": rng.choice(["NOERROR", "NXDOMAIN"])}
    elif source == "network":
        e["destination"] = {"ip": rng.choice(ADDRESSES), "port": rng.choice([22, 80, 443, 3389, 445, rng.randint(1, 65535)])}
        e["network"] = {"transport": rng.choice(["tcp", "udp", "icmp"])}
        e["event"]["action"] = rng.choice(["allow", "deny", "drop"])
    elif source in ("web", "proxy"):
        e["url"] = {"path": rng.choice(PATHS), "domain": "www.example.com", "original": "https://www.example.com" + rng.choice(PATHS)}
        e["http"] = {"request": {"method": rng.choice(["GET", "POST", "PROPFIND"])},
                     "response": {"status_code": rng.choice([200, 302, 401, 403, 404, 500])}}
        e["user_agent"] = {"original": rng.choice(AGENTS)}
        e["user"] = {"name": rng.choice(WORDS)}
    elif source == "authentication":
        e["user"] = {"name": rng.choice(WORDS), "domain": "CORP"}
        e["event"]["outcome"] = rng.choice(["success", "failure", "failure"])
        e["error"] = {"code": rng.choice(["50126", "50076", "0"])}
        e["service"] = {"name": rng.choice(["vpn", "owa", "sso"])}
    else:
        e["host"] = {"name": "ws-1"}
        e["user"] = {"name": rng.choice(WORDS)}
        e["process"] = {"name": rng.choice(["cmd.exe", "powershell.exe", "nltest.exe", "net.exe"]),
                        "command_line": rng.choice(["whoami /all", "nltest /dclist:corp", "net group \"domain admins\" /domain"]),
                        "parent": {"name": "explorer.exe"}}
    return e


def rules(folder):
    return [p for p in sorted(glob.glob(os.path.join(folder, "*.sql")))
            if os.path.basename(p) not in ("events.sql", "run.sql")]


def report(name, n, total, parse):
    print(f"{name:>14}: {total:7.2f} s, {n / total:>11,.0f} events/s"
          + (f" ({total - parse:.2f} s and {n / (total - parse):,.0f} events/s after the {parse:.2f} s parse)" if parse else ""))


def main(tripline, build, n, engines="duckdb,spark"):
    n = int(n)
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "events.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for k in range(n):
                f.write(json.dumps(event(rng, k)) + "\n")
        start = time.perf_counter()
        out = subprocess.run([tripline, "eval", "--rules", "rules", path], capture_output=True, text=True)
        report("tripline eval", n, time.perf_counter() - start, 0)
        print(f"{'':>14}  {len(out.stdout.splitlines())} matches and alerts")
        if "duckdb" in engines:
            import duckdb
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            folder = os.path.join(build, "sql", "duckdb")
            view = open(os.path.join(folder, "events.sql"), encoding="utf-8").read()
            start = time.perf_counter()
            con.execute(view.replace("'events/*.jsonl'", "'" + path + "'"))
            con.execute("CREATE TABLE events_table AS SELECT * FROM events; DROP VIEW events; "
                        "ALTER TABLE events_table RENAME TO events")
            parse = time.perf_counter() - start
            rows = sum(len(con.execute(open(p, encoding="utf-8").read()).fetchall()) for p in rules(folder))
            report("duckdb", n, time.perf_counter() - start, parse)
            print(f"{'':>14}  {rows} rows")
        if "spark" in engines:
            spark = Spark()
            folder = os.path.join(build, "sql", "spark")
            start = time.perf_counter()
            spark.view(os.path.join(folder, "events.sql"), path)
            spark.session.table("events").cache().count()
            parse = time.perf_counter() - start
            rows = sum(spark.session.sql(strip_comments(open(p, encoding="utf-8").read()).strip().rstrip(";")).count()
                       for p in rules(folder))
            report("spark local", n, time.perf_counter() - start, parse)
            print(f"{'':>14}  {rows} rows")


if __name__ == "__main__":
    main(*sys.argv[1:])
