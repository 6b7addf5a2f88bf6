"""Reads a `splunk-appinspect --data-format json` report and fails unless it
has no failures and no errors (warnings are listed, not fatal)."""

import json
import sys

report = json.load(open(sys.argv[1], encoding="utf-8"))
summary = report["summary"]
print("  " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
for app in report.get("reports", []):
    for group in app.get("groups", []):
        for check in group.get("checks", []):
            if check.get("result") in ("failure", "error", "warning"):
                messages = "; ".join(m.get("message", "") for m in check.get("messages", []))
                print(f"  {check['result']}: {check['name']}: {messages[:300]}")
sys.exit(1 if summary.get("failure", 0) or summary.get("error", 0) else 0)
