"""Synthetic retailer: time and rows/s of `ombud synth` for 100k and 1M accounts (with their orders).

    .venv/bin/python benchmarks/bench_synth.py                      # 100k x 3 runs, 1M x 1 run
    .venv/bin/python benchmarks/bench_synth.py --sizes 100000 --runs 5 --workers 1

Each run writes CSV into a scratch folder (deleted afterwards) exactly as `ombud synth` does. Prints one line
per run and a table of medians: seconds, rows written, rows/s, accounts/s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ombud.synth import generate
from ombud.synth.generate import default_workers


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_run(accounts: int, seed: int, workers: int, fmt: str,
            scratch: Path) -> tuple[float, float, int, dict[str, int]]:
    out = scratch / f"synth-{accounts}-{seed}"
    cpu, started = cpu_seconds(), time.perf_counter()
    summary = generate(out, accounts=accounts, seed=seed, workers=workers, fmt=fmt)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out)
    return seconds, cpu, size, summary.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="runs per size below 1M (median reported)")
    parser.add_argument("--runs-large", type=int, default=1, help="runs per size of 1M and above")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--format", default="csv", choices=("csv", "jsonl"))
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"cores: {os.cpu_count()}   workers: {args.workers}   format: {args.format}   "
          f"load average at start: {load:.1f}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        for accounts in args.sizes:
            runs = args.runs_large if accounts >= 1_000_000 else args.runs
            times, cpus, sizes, rows = [], [], [], {}
            for run in range(runs):
                seconds, cpu, size, rows = one_run(accounts, seed=run + 1, workers=args.workers, fmt=args.format,
                                                   scratch=Path(tmp))
                times.append(seconds)
                cpus.append(cpu)
                sizes.append(size)
                total = sum(rows.values())
                print(f"  {accounts:>9,} accounts  run {run + 1}/{runs}: {seconds:7.1f} s  (CPU {cpu:7.1f} s)  "
                      f"{total:>11,} rows  {total / seconds:>9,.0f} rows/s", flush=True)
            median = statistics.median(times)
            total = sum(rows.values())
            results.append((accounts, runs, median, statistics.median(cpus), total, rows["orders"],
                            rows["order_lines"], statistics.median(sizes)))
    print()
    print("| accounts | runs | median s | CPU s (all processes) | rows (all files) | orders | order lines | rows/s "
          "| accounts/s | MB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for accounts, runs, median, cpu, total, orders, lines, size in results:
        print(f"| {accounts:,} | {runs} | {median:.1f} | {cpu:.0f} | {total:,} | {orders:,} | {lines:,} | "
              f"{total / median:,.0f} | {accounts / median:,.0f} | {size / 1e6:,.0f} |")
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
