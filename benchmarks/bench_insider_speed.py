"""Insider scan speed: the full detector scan over N access events on DuckDB (and once on Spark).

The events are a synthetic retailer's (`ombud synth --insider`) tiled to N: copy k is a new set of employees and
customers (ids suffixed) with their own copies of the contacts, reviews and orders, so explanation rates, peer
groups, per-customer densities and scenario shapes stay those of the generator while the volume grows.

    python benchmarks/bench_insider_speed.py /tmp/syn --events 10000000 --runs 3 [--spark]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from benchutil import load_average, load_line, print_markdown
from insider_inputs import build_inputs
from ombud.insider import engine


def tile(base: Path, out: Path, events: int) -> int:
    """Write inputs with about `events` events into `out` by copying the base's staff; returns the event count."""
    ev = pl.read_parquet(base / "events.parquet")
    copies = max(1, -(-events // ev.height))
    out.mkdir(parents=True, exist_ok=True)

    def copy(frame: pl.DataFrame, k: int, columns: list[str]) -> pl.DataFrame:
        return frame.with_columns([pl.col(c) + f"~{k}" for c in columns]) if k else frame

    tiled = pl.concat([copy(ev, k, ["employee_id", "customer_id", "event_id", "ticket_ref"])
                       for k in range(copies)]).head(events)
    tiled = tiled.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("row_id"))
    tiled.write_parquet(out / "events.parquet")
    emp = pl.read_parquet(base / "employees.parquet")
    pl.concat([copy(emp, k, ["employee_id"]) for k in range(copies)]).write_parquet(out / "employees.parquet")
    con = pl.read_parquet(base / "contacts.parquet")
    pl.concat([copy(con, k, ["employee_id", "customer_id", "ticket_ref"]) for k in range(copies)]).write_parquet(
        out / "contacts.parquet")
    for name in ("customers", "reviews", "orders"):
        frame = pl.read_parquet(base / f"{name}.parquet")
        pl.concat([copy(frame, k, ["customer_id"]) for k in range(copies)]).write_parquet(out / f"{name}.parquet")
    for name in ("cases", "feedback"):
        pl.read_parquet(base / f"{name}.parquet").write_parquet(out / f"{name}.parquet")
    return tiled.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spark", action="store_true", help="also one run on a local Spark session")
    args = parser.parse_args()
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-insider-speed-") as tmp:
        base, data = Path(tmp) / "base", Path(tmp) / "data"
        build_inputs(args.folder, base)
        n = tile(base, data, args.events)
        times, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            out = engine.run(data)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)  # every thread of the process: less load-sensitive
        median = statistics.median(times)
        rows = [("DuckDB", f"{n:,}", f"{median:.1f}", f"{median / n * 1e6:.2f}",
                 ", ".join(f"{t:.1f}" for t in times), f"{statistics.median(cpu):.1f}",
                 f"{out.findings.num_rows:,}")]
        if args.spark:
            started = time.perf_counter()
            spark_out = engine.run(data, engine="spark")
            seconds = time.perf_counter() - started
            rows.append(("Spark (local[*], same SQL)", f"{n:,}", f"{seconds:.1f}", f"{seconds / n * 1e6:.2f}",
                         f"{seconds:.1f}", "-", f"{spark_out.findings.num_rows:,}"))
    print_markdown(["engine", "events", "median s", "s per 1M", "runs s", "CPU s (median)", "findings"], rows)
    print(load_line(before))


if __name__ == "__main__":
    main()
