"""Broker decision latency in-process (purpose check, volume count, Cedar, field load, masking, audit leaf,
decision row), measured in the same run as raw `cedarpy` calls on the same policies, entities and requests.

    .venv/bin/python benchmarks/bench_access_decision.py [--runs 5] [--reads 2000] [--database-url URL]

Each run interleaves blocks of broker reads with blocks of raw calls so both see the same machine load. The read
is a support agent's read of a customer's email and phone for their case (two data classes: identity_basic,
always included, and contact). Raw calls on the same policy set, schema and entities: one `cedarpy.is_authorized`
of the gate request (the one Cedar evaluation a warm read makes: the class answers are memoised), and one
`cedarpy.is_authorized_batch` of the gate plus both class requests (a cold read). Prints p50/p99 per run and the
median of runs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import cedarpy
from rich.console import Console
from rich.table import Table

from access_seed import scratch_context, seed
from ombud import clock
from ombud.access import broker
from ombud.access.classes import DataClass
from ombud.access.models import Decision
from ombud.access.policy import default_engine
from ombud.staff.models import Employee

BLOCK = 100


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(seeded, reads: int) -> dict[str, list[float]]:
    engine = default_engine()
    ctx = seeded.ctx
    times: dict[str, list[float]] = {"broker": [], "raw_single": [], "raw_batch": []}
    with ctx.sessions() as session:
        session.begin()
        employee = session.get(Employee, seeded.agent_id)
        purpose = f"case:{seeded.case_id}"
        # The exact Cedar inputs of the broker's decision, for the raw calls.
        principal, hour = broker.principal_of(session, employee, clock.now())
        context = {"purpose": "case", "case_type": "support_ticket", "granted": [], "customer_country": "US",
                   "local_hour": hour, "reads_today": 1}
        requests = engine.requests(principal, [DataClass.identity_basic, DataClass.contact], context,
                                   seeded.customer_id)
        entities = engine.entities_for(principal)
        # The one Cedar request every read makes (the gate: guards with the volatile context); the class
        # answers are memoised per employee facts and purpose, so a warm read asks only this.
        single = dict(requests[0], context=engine.split_context(context)[0])
        assert broker.read(session, employee, customer_id=seeded.customer_id, fields=["email", "phone"],
                           purpose=purpose).decision is Decision.allowed
        assert cedarpy.is_authorized(single, engine.policy_set, entities, engine.schema).allowed
        gc.collect()
        gc.disable()
        try:
            done = 0
            while done < reads:
                for _ in range(BLOCK):
                    t0 = time.perf_counter_ns()
                    broker.read(session, employee, customer_id=seeded.customer_id, fields=["email", "phone"],
                                purpose=purpose)
                    times["broker"].append(time.perf_counter_ns() - t0)
                session.commit()  # a request commits; outside the timed call
                session.begin()
                for _ in range(BLOCK):
                    t0 = time.perf_counter_ns()
                    cedarpy.is_authorized(single, engine.policy_set, entities, engine.schema)
                    times["raw_single"].append(time.perf_counter_ns() - t0)
                for _ in range(BLOCK):
                    t0 = time.perf_counter_ns()
                    cedarpy.is_authorized_batch(requests, engine.policy_set, entities, engine.schema)
                    times["raw_batch"].append(time.perf_counter_ns() - t0)
                done += BLOCK
        finally:
            gc.enable()
        session.commit()
    return {k: [v / 1000 for v in vals] for k, vals in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (rebuilt!); default: scratch SQLite")
    args = parser.parse_args()
    ctx = scratch_context(args.database_url)
    seeded = seed(ctx)
    console = Console()
    table = Table("run", "broker p50 µs", "broker p99 µs", "raw is_authorized p50", "raw batch (cold) p50",
                  "ratio vs raw call", "ratio vs raw batch", title=f"decision latency ({ctx.engine.dialect.name})")
    summary: dict[str, list[float]] = {k: [] for k in ("b50", "b99", "r50", "rb50", "ratio", "ratio_b")}
    for run in range(1, args.runs + 1):
        t = one_run(seeded, args.reads)
        b50, b99 = percentile(t["broker"], 0.5), percentile(t["broker"], 0.99)
        r50, rb50 = percentile(t["raw_single"], 0.5), percentile(t["raw_batch"], 0.5)
        values = (b50, b99, r50, rb50, b50 / r50, b50 / rb50)
        for key, value in zip(summary, values, strict=True):
            summary[key].append(value)
        table.add_row(str(run), *(f"{v:.1f}" if i < 4 else f"{v:.2f}" for i, v in enumerate(values)))
    med = [statistics.median(summary[k]) for k in summary]
    table.add_row("median", *(f"{v:.1f}" if i < 4 else f"{v:.2f}" for i, v in enumerate(med)), style="bold")
    console.print(table)
    ctx.close()


if __name__ == "__main__":
    main()
