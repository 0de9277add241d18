"""A stand-in for `ogi crawl` that the scheduler tests run through the real subprocess path.

    fake_crawl.py --db PATH --run-id N --trigger TEXT [--source NAME]...

Behaviour comes from the JSON plan file in $FAKE_CRAWL_PLAN:
  {"sources": {"name": {"reports_found": 5, "pages": 2, "new_reports": 1, "status": "ok"}},
   "failures": [["url", "reason"]], "exit": 0, "sleep": 0,
   "items": 0, "item_sleep": 0.05, "state": "path/state.json", "log": "path/items.log",
   "ignore_sigterm": false, "run_counts": {"mode": "light", "new_items": 2}, "run_status": "ok",
   "attempts": [{"name": {...}}, ...], "record_on_stop": false}
With "items", the crawl works through that many items one at a time, appending each to "log" and
keeping its progress in "state" (like Scrapy's JOBDIR); SIGTERM makes it finish the current item, save
and exit 0, so a second invocation resumes where it stopped. Every invocation appends its argv to
"<plan>.calls".
With "attempts", invocation i records the sources of attempts[i] (the last entry for later ones) instead of
"sources"; with "record_on_stop", a stopped invocation records them too, with status "interrupted" (as the
real pipeline does), before it exits.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from archive import open_archive


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--run-id", type=int, required=True)
    parser.add_argument("--trigger", default="")
    parser.add_argument("--source", action="append", default=[])
    args, _extra = parser.parse_known_args()
    plan_path = Path(os.environ["FAKE_CRAWL_PLAN"])
    plan = json.loads(plan_path.read_text())
    calls = Path(f"{plan_path}.calls")
    attempt = len(calls.read_text().splitlines()) if calls.exists() else 0
    with open(calls, "a") as f:
        f.write(json.dumps(sys.argv[1:]) + "\n")
    if plan.get("attempts"):
        plan["sources"] = plan["attempts"][min(attempt, len(plan["attempts"]) - 1)]

    stopping = False

    def on_term(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, signal.SIG_IGN if plan.get("ignore_sigterm") else on_term)

    time.sleep(plan.get("sleep", 0))
    items = int(plan.get("items", 0))
    stopped = False  # stopped mid-items by SIGTERM
    if items:
        state = Path(plan["state"])
        done = json.loads(state.read_text())["done"] if state.exists() else 0
        while done < items and not stopping:
            time.sleep(plan.get("item_sleep", 0.05))
            with open(plan["log"], "a") as log:
                log.write(f"item {done}\n")
            done += 1
            state.write_text(json.dumps({"done": done}))
        stopped = stopping
        if stopped and not plan.get("record_on_stop"):
            return 0
    sources = plan.get("sources", {})
    wanted = args.source or list(sources)
    arc = open_archive(args.db)
    try:
        for name in wanted:
            result = dict(sources.get(name, {}))
            if items:
                result.setdefault("reports_found", items)
            if stopped:
                result["status"] = "interrupted"
            arc.record_source_result(args.run_id, name, **result)
        if stopped:
            return 0
        for url, reason in plan.get("failures", []):
            arc.record_failure(args.run_id, url, reason)
        if plan.get("run_counts"):  # what `ogi crawl` writes into its run row when it finishes
            arc.finish_run(args.run_id, status=plan.get("run_status", "ok"), counts=plan["run_counts"],
                           detail="finish: finished")
    finally:
        arc.close()
    return int(plan.get("exit", 0))


if __name__ == "__main__":
    sys.exit(main())
