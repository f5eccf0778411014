"""Audit log append throughput: single events and batches, on SQLite and (if given) PostgreSQL.

    .venv/bin/python benchmarks/bench_audit_append.py [--pg postgresql+psycopg://postgres@127.0.0.1/ombud_bench]

Each scenario runs several times on a freshly migrated scratch store (SQLite with the product's settings:
WAL, synchronous=NORMAL); the table shows the median.
- single, own transaction: one append_event per transaction, committed (what a brokered read costs)
- single, one transaction: append_event called repeatedly inside one transaction (the append path alone)
- batched: append_events with 1,000 (and 10,000) events per call, committed per call
The events are built before the clock starts (building them is the caller's cost, not the log's).
The CPU column is this process's CPU time per event: on SQLite that is the whole cost (the database runs
in-process), so 1e6 / CPU µs is what one idle core would reach; on PostgreSQL the server's share is not in it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchutil import load_average, load_line, print_markdown, reset_postgres
from ombud import migrate
from ombud.audit import service
from ombud.audit.events import AuditEvent
from ombud.db import make_engine, make_sessionmaker, transaction


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        "access.read", "employee", f"E-{i % 50:04d}", customer_id=f"C-{i % 100_000:07d}", subject_type="case",
        subject_id=str(i % 5000), fields=("email", "phone", "shipping_address"), purpose=f"case:{i % 5000}",
        decision="allow", detail={"grant": i % 300, "masked": ["card_fingerprint"]},
    )


def _store(url: str | None, scratch: Path):
    if url is None:
        url = f"sqlite:///{scratch / 'append.db'}"
        migrate.upgrade(url)
    else:
        reset_postgres(url)
        migrate.upgrade(url)
    engine = make_engine(url)
    return engine, make_sessionmaker(engine)


def _reset(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
        conn.execute(text("UPDATE audit_sequence SET next_index = 0"))


def single_own_transaction(sessions, events: list[AuditEvent]) -> tuple[float, list[float]]:
    latencies = []
    n = len(events)
    start = time.perf_counter()
    for event in events:
        t = time.perf_counter()
        with transaction(sessions) as session:
            service.append_event(session, event)
        latencies.append(time.perf_counter() - t)
    return n / (time.perf_counter() - start), latencies


def single_one_transaction(sessions, events: list[AuditEvent]) -> tuple[float, list[float]]:
    latencies = []
    n = len(events)
    with transaction(sessions) as session:
        service.append_event(session, events[0])  # the connection and first statements are warm
        start = time.perf_counter()
        for event in events:
            t = time.perf_counter()
            service.append_event(session, event)
            latencies.append(time.perf_counter() - t)
        rate = n / (time.perf_counter() - start)
    return rate, latencies


def batched(sessions, events: list[AuditEvent], batch: int = 1000) -> tuple[float, list[float]]:
    n = len(events)
    start = time.perf_counter()
    for offset in range(0, n, batch):
        with transaction(sessions) as session:
            service.append_events(session, events[offset : offset + batch])
    return n / (time.perf_counter() - start), []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL of a scratch database (its public schema is dropped!)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=20_000, help="events per run (single scenarios use n/4)")
    args = parser.parse_args()
    load_before = load_average()
    stores = [("SQLite", None)] + ([("PostgreSQL", args.pg)] if args.pg else [])
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, url in stores:
            engine, sessions = _store(url, Path(scratch))
            for label, fn, n in (
                ("single, own transaction", single_own_transaction, args.n // 4),
                ("single, one transaction", single_one_transaction, args.n // 4),
                ("batched (1,000 per call)", batched, args.n),
                ("batched (10,000 per call)", lambda s, e: batched(s, e, 10_000), args.n),
            ):
                rates, lat, cpu = [], [], []
                events = [_event(i) for i in range(n)]
                for _ in range(args.runs):
                    _reset(engine)
                    started = time.process_time()
                    rate, latencies = fn(sessions, events)
                    cpu.append((time.process_time() - started) / n)
                    rates.append(rate)
                    lat.extend(latencies)
                p50 = f"{statistics.median(lat) * 1e6:,.0f}" if lat else ""
                p99 = f"{statistics.quantiles(lat, n=100)[98] * 1e6:,.0f}" if lat else ""
                rows.append((name, label, f"{statistics.median(rates):,.0f}", f"{statistics.median(cpu) * 1e6:,.1f}",
                             p50, p99))
            engine.dispose()
    print(load_line(load_before))
    print_markdown(("store", "scenario", f"events/s wall (median of {args.runs})", "CPU µs/event", "p50 µs", "p99 µs"),
                   rows)


if __name__ == "__main__":
    main()
