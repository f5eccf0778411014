"""Small helpers the benchmark scripts share: a scratch PostgreSQL schema, the load average, result tables."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

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
