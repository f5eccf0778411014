"""Synthetic insider data: time to generate staff activity (access events, contacts) and injected scenarios.

    .venv/bin/python benchmarks/bench_synth_insider.py                           # ~10M events, 3 runs
    .venv/bin/python benchmarks/bench_synth_insider.py --load 20 --runs 1        # fewer events

Each run is `generate(..., insider=InsiderOptions(...))` into a scratch folder (deleted afterwards), exactly what
`ombud synth --insider` does. The retailer's own part (accounts, orders, ...) is timed apart from the insider
part (reading the retailer back, sellers and reviews, activity, scenarios, writing files and truth): the figure
that matters for detector benchmarks is the insider part's seconds for its events.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from benchutil import load_average, load_line, print_markdown
from ombud.synth import generate
from ombud.synth.insider import InsiderOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--staff", type=int, default=600)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--load", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    before = load_average()
    options = InsiderOptions(days=args.days, load=args.load, staff=args.staff)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-insider-") as tmp:
        for run in range(args.runs):
            out = Path(tmp) / f"run{run}"
            summary = generate(out, accounts=args.accounts, seed=run + 1, workers=args.workers, insider=options)
            events = summary.rows["access_events"]
            results.append((summary.seconds, summary.insider_seconds, events, summary.rows["support_contacts"]))
            print(f"run {run + 1}: total {summary.seconds:.1f} s, insider part {summary.insider_seconds:.1f} s, "
                  f"{events:,} events, {summary.rows['support_contacts']:,} contacts, load {load_average()}",
                  flush=True)
            shutil.rmtree(out)
    insider = statistics.median(r[1] for r in results)
    events = statistics.median(r[2] for r in results)
    print(load_line(before))
    print_markdown(
        ("accounts", "staff", "days", "load", "runs", "events", "contacts", "insider part s (median)",
         "events/s", "s per 1M events", "whole run s (median)"),
        [(f"{args.accounts:,}", f"{args.staff:,}", str(args.days), f"{args.load:g}", str(args.runs), f"{events:,.0f}",
          f"{statistics.median(r[3] for r in results):,.0f}", f"{insider:.1f}", f"{events / insider:,.0f}",
          f"{insider / events * 1e6:.1f}", f"{statistics.median(r[0] for r in results):.1f}")],
    )


if __name__ == "__main__":
    main()
