"""Small helpers the benchmark scripts share: a scratch PostgreSQL schema, the load average, result tables."""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import text

from ombud.db import make_engine


def reset_postgres(url: str) -> None:
    """Drop and recreate the `public` schema of a benchmark's own PostgreSQL database (never `test`)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as "a / b / c"."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def load_line(before: str) -> str:
    """The line a benchmark prints about the machine's load before and after its runs."""
    return f"load average (1 / 5 / 15 min) on {os.cpu_count()} cores: {before} before, {load_average()} after"


def print_markdown(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A Markdown table, ready for benchmarks/README.md."""
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def per_request_args() -> argparse.Namespace:
    """--requests (per run) and --runs, the options of the per-request CPU benchmarks."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()


def interleaved_medians(bare: Callable[[], float], measured: Callable[[], float], runs: int) -> tuple[float, float]:
    """The medians of `runs` runs of each, taken in turn so both see the same machine."""
    first, second = [], []
    for _ in range(runs):
        first.append(bare())
        second.append(measured())
    return statistics.median(first), statistics.median(second)
