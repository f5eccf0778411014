"""Full verification speed (goal: >= 500,000 leaves/s).

    .venv/bin/python benchmarks/audit_store.py --events 1000000 --out /tmp/ombud-bench/audit-1m.db
    .venv/bin/python benchmarks/bench_audit_verify.py --store /tmp/ombud-bench/audit-1m.db

Runs verify_log (what `ombud audit verify` runs) on the store: the vectorised pass (worker processes:
ADBC read, Arrow encode, SHA-256 of leaves and nodes through hashlib) and, with --detailed, the row-by-row
pass too.
Reports wall-clock leaves/s and the workers' CPU seconds per leaf: on a shared machine the wall clock
depends on the load, the CPU cost much less (contention still inflates it); 2 / (CPU s per leaf) is roughly
the rate two otherwise idle cores would reach.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchutil import load_average, load_line, print_markdown
from ombud.audit import checkpoint as checkpoints
from ombud.audit import fastverify
from ombud.audit.verify import verify_log
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/ombud-bench/audit-1m.db"))
    parser.add_argument("--url", help="a database URL instead of --store")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--detailed", action="store_true", help="also time the row-by-row pass (slow)")
    args = parser.parse_args()
    load_before = load_average()
    url = args.url or f"sqlite:///{args.store.resolve()}"
    ctx = Context(Settings(env=Environment.test, data_dir=Path("/tmp/ombud-bench/keys-data"), database_url=url))
    verifier = checkpoints.verifier(ctx.keys, ctx.settings)
    cpu_per_leaf: list[float] = []
    original = fastverify.check

    def measured(*a, **kw):
        result = original(*a, **kw)
        if result.events:
            cpu_per_leaf.append(result.cpu_seconds / result.events)
        return result

    fastverify.check = measured
    rows = []
    modes = [("vectorised (2 worker processes)", True)] + ([("row by row", False)] if args.detailed else [])
    for label, fast in modes:
        rates, events = [], 0
        for _ in range(args.runs):
            with transaction(ctx.sessions) as session:
                t = time.perf_counter()
                report = verify_log(session, [verifier], ctx.settings.audit_origin, fast=fast)
                elapsed = time.perf_counter() - t
            assert report.ok, report.first_problem
            events = report.events
            rates.append(report.events / elapsed)
        cpu = f"{statistics.median(cpu_per_leaf) * 1e6:.2f}" if fast and cpu_per_leaf else ""
        idle = f"{2 / statistics.median(cpu_per_leaf):,.0f}" if fast and cpu_per_leaf else ""
        rows.append((label, f"{events:,}", f"{statistics.median(rates):,.0f}", cpu, idle))
    ctx.close()
    print(load_line(load_before))
    print_markdown(("pass", "events", f"leaves/s wall (median of {args.runs})", "worker CPU µs/leaf",
                    "2 idle cores, leaves/s"), rows)


if __name__ == "__main__":
    main()
