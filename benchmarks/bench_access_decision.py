"""Broker decision latency in-process (purpose check, volume count, Cedar, field load, masking, the audit leaf
that is the decision's one record), measured in the same run as raw `cedarpy.is_authorized` calls on the same
policies and entities.

    .venv/bin/python benchmarks/bench_access_decision.py [--runs 5] [--reads 2000] [--agents 16] [--mixed]
        [--database-url URL]

One timed broker call = `broker.read()` of a support agent's read of a customer's email and phone for their
case (two data classes: identity_basic, always included, and contact), rotating over `--agents` agents, each
with their own customer and case. The commit (every 100 reads, as a request would) is outside the timed call.

With `--mixed` the broker's reads are a varied workload instead: every agent also reads a customer of a case they
opened for themselves (contact masked: `origin.self_opened`) and a customer of an incident case, each with a few
different field sets (name only, email, email and phone), and privacy officers read for victim-request cases:
5 roles-and-purposes combinations, 3 field sets, allowed and masked decisions, over 3x as many customers and
cases as agents, in a shuffled order. The raw calls stay the same gate request.

Measured in the same run, interleaved in blocks so everything sees the same machine load:
- broker: the broker as it runs (class answers and, when the policies allow it, gate answers memoised;
  `ombud.access.gate`): on a warm process a read asks Cedar nothing new;
- broker, gate asked: the same with the gate memo off, so every read makes one Cedar call (what the first read
  of an employee in an hour, or a policy set that defeats the memo, costs);
- raw call, naive: `cedarpy.is_authorized(request, policy_text, entity_list, schema_text)`, the plain call of an
  integration that hands Cedar its policies and entities as data, parsed anew on every call;
- raw call, pre-parsed: the same request on the parsed `PolicySet`, `Entities` and `Schema` handles;
- raw batch, pre-parsed: the gate and both class requests in one `is_authorized_batch` (a cold read).
The request of the raw calls is the gate request of the read (the one Cedar question a read asks when nothing
is memoised). Percentiles are of wall time per call; "CPU p50" is the calling thread's CPU time per call,
which other work on the machine inflates less. Prints each run and the median of runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import time
from dataclasses import replace

import cedarpy
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from access_seed import scratch_context, seed
from ombud import clock
from ombud.access import broker, cases, service
from ombud.access.classes import DataClass
from ombud.access.models import AccessProfile, CaseType, Decision
from ombud.access.policy import POLICY_DIR, SCHEMA_FILE, PolicyEngine, default_engine
from ombud.db import transaction
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role

BLOCK = 100
KINDS = ("broker", "broker_gate_asked", "raw_naive", "raw_parsed", "raw_batch")
LABELS = {"broker": "broker", "broker_gate_asked": "broker, gate asked", "raw_naive": "raw call, naive",
          "raw_parsed": "raw call, pre-parsed", "raw_batch": "raw batch, pre-parsed"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


FIELD_SETS = (("email", "phone"), ("name",), ("email",))


def mixed_reads(seeded, customers: list[str]) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """(employee id, customer, purpose, fields) of a varied workload: own tickets, self-opened tickets (masked),
    incidents, and privacy officers' victim requests, over many customers, shuffled (fixed seed)."""
    n = len(seeded.readers)
    out = []
    with transaction(seeded.ctx.sessions) as session:
        for i, r in enumerate(seeded.readers):
            agent = session.get(Employee, r.agent_id)
            own = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customers[n + i],
                                  title="Benchmark, self-opened", actor=agent, assignee=agent)
            incident = cases.open_case(session, case_type=CaseType.incident, customer_id=customers[2 * n + i],
                                       title="Benchmark incident", actor=None, assignee=agent)
            for fields in FIELD_SETS:
                out.append((agent.id, r.customer_id, f"case:{r.case_id}", fields))
                out.append((agent.id, customers[n + i], f"case:{own.id}", fields))
                out.append((agent.id, customers[2 * n + i], f"case:{incident.id}", fields))
        for k in range(max(2, n // 4)):
            officer = staff_service.create_employee(
                session, external_id=f"BENCH-PO-{k}", name=f"Bench Officer {k}", email=f"bench.po{k}@example.com",
                team="privacy", role=Role.privacy_officer, region="global")
            service.set_profile(session, officer, actor=None, daily_limit=100_000)
            session.get(AccessProfile, officer.id).daily_limit = 10**9
            for j in range(3):
                customer = customers[(3 * n + 3 * k + j) % len(customers)]
                case = cases.open_case(session, case_type=CaseType.victim_request, customer_id=customer,
                                       title="Benchmark victim request", actor=None, assignee=officer)
                for fields in FIELD_SETS:
                    out.append((officer.id, customer, f"case:{case.id}", fields))
    random.Random(7).shuffle(out)
    return out


def one_run(seeded, reads: int, engines: dict[str, PolicyEngine],
            mixed: list[tuple[int, str, str, tuple[str, ...]]] | None = None) -> dict[str, dict[str, list[float]]]:
    engine = engines["broker"]
    ctx = seeded.ctx
    wall: dict[str, list[float]] = {k: [] for k in KINDS}
    cpu: dict[str, list[float]] = {k: [] for k in KINDS}
    policy_text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(POLICY_DIR.glob("*.cedar")))
    schema_text = (POLICY_DIR / SCHEMA_FILE).read_text(encoding="utf-8")
    with ctx.sessions() as session:
        session.begin()
        readers = [(session.get(Employee, r.agent_id), r.customer_id, f"case:{r.case_id}", ("email", "phone"))
                   for r in seeded.readers]
        # The exact Cedar inputs of the first reader's decision, for the raw calls.
        employee, customer, _purpose, _fields = readers[0]
        if mixed:
            readers = [(session.get(Employee, e), c, p, f) for e, c, p, f in mixed]
        principal, hour = broker.principal_of(session, employee, clock.now())
        context = {"purpose": "case", "case_type": "support_ticket", "granted": [], "customer_country": "US",
                   "local_hour": hour, "reads_today": 1}
        requests = engine.requests(principal, [DataClass.identity_basic, DataClass.contact], context, customer)
        entities = engine.entities_for(principal)
        gate_context = engine.split_context(context)[0]
        parsed_request = dict(requests[0], context=gate_context)
        naive_request = dict(requests[0], context=dict(gate_context))
        entity_list = json.loads(str(entities))  # the same entities, as plain data
        for emp, cust, why, fields in readers:
            view = broker.read(session, emp, customer_id=cust, fields=fields, purpose=why, engine=engine)
            assert view.decision in (Decision.allowed, Decision.masked), view.reason
        naive = cedarpy.is_authorized(naive_request, policy_text, entity_list, schema_text)
        parsed = cedarpy.is_authorized(parsed_request, engine.policy_set, entities, engine.schema)
        assert naive.allowed and parsed.allowed and naive.diagnostics.reasons == parsed.diagnostics.reasons

        calls = {
            "raw_naive": lambda: cedarpy.is_authorized(naive_request, policy_text, entity_list, schema_text),
            "raw_parsed": lambda: cedarpy.is_authorized(parsed_request, engine.policy_set, entities, engine.schema),
            "raw_batch": lambda: cedarpy.is_authorized_batch(requests, engine.policy_set, entities, engine.schema),
        }
        gc.collect()
        gc.disable()
        try:
            done = 0
            while done < reads:
                for kind in ("broker", "broker_gate_asked"):
                    which = engines[kind]
                    for n in range(BLOCK):
                        emp, cust, why, fields = readers[((done if mixed else 0) + n) % len(readers)]
                        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
                        broker.read(session, emp, customer_id=cust, fields=fields, purpose=why, engine=which)
                        wall[kind].append(time.perf_counter_ns() - t0)
                        cpu[kind].append(time.thread_time_ns() - c0)
                    session.commit()  # a request commits; outside the timed call
                    session.begin()
                for kind, call in calls.items():
                    for _ in range(BLOCK // 5 if kind == "raw_naive" else BLOCK):
                        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
                        call()
                        wall[kind].append(time.perf_counter_ns() - t0)
                        cpu[kind].append(time.thread_time_ns() - c0)
                done += BLOCK
        finally:
            gc.enable()
        session.commit()
    return {"wall": {k: [v / 1000 for v in vals] for k, vals in wall.items()},
            "cpu": {k: [v / 1000 for v in vals] for k, vals in cpu.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--mixed", action="store_true",
                        help="a varied workload (see above) instead of one read per agent")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (rebuilt!); default: scratch SQLite")
    args = parser.parse_args()
    ctx = scratch_context(args.database_url)
    seeded = seed(ctx, customers=max(50, 4 * args.agents) if args.mixed else 50, agents=args.agents)
    mixed = None
    if args.mixed:
        with ctx.sessions() as session:
            from ombud.retail.models import Account
            customers = list(session.scalars(select(Account.external_id).order_by(Account.id)))
        mixed = mixed_reads(seeded, customers)
    memo = default_engine()
    asking = PolicyEngine()
    asking.gate_shape = replace(asking.gate_shape, memo=False)  # every read asks Cedar the gate question
    engines = {"broker": memo, "broker_gate_asked": asking}
    console = Console(width=160)
    load_before = os.getloadavg()[0]
    results = [one_run(seeded, args.reads, engines, mixed) for _ in range(args.runs)]
    load_after = os.getloadavg()[0]

    table = Table("run", *(f"{LABELS[k]}\np50 / p99 µs\n(CPU p50)" for k in KINDS),
                  "ratio p50\nbroker / naive", "ratio p50\nbroker / pre-parsed",
                  "ratio p50 gate asked\n/ pre-parsed",
                  title=f"decision latency ({ctx.engine.dialect.name}, {args.agents} agents"
                        f"{f', mixed: {len(mixed)} distinct reads' if mixed else ''}, "
                        f"load avg {load_before:.1f} -> {load_after:.1f})")
    summary: dict[str, list[float]] = {}

    def add(key: str, value: float) -> float:
        summary.setdefault(key, []).append(value)
        return value

    for run, r in enumerate(results, 1):
        cells = []
        p50 = {}
        for k in KINDS:
            p50[k] = add(f"{k}.p50", percentile(r["wall"][k], 0.5))
            p99 = add(f"{k}.p99", percentile(r["wall"][k], 0.99))
            c50 = add(f"{k}.cpu", percentile(r["cpu"][k], 0.5))
            cells.append(f"{p50[k]:.1f} / {p99:.0f} ({c50:.1f})")
        ratios = (add("r.naive", p50["broker"] / p50["raw_naive"]), add("r.parsed", p50["broker"] / p50["raw_parsed"]),
                  add("r.asked", p50["broker_gate_asked"] / p50["raw_parsed"]))
        table.add_row(str(run), *cells, *(f"{x:.2f}" for x in ratios))
    med = {k: statistics.median(v) for k, v in summary.items()}
    table.add_row("median", *(f"{med[f'{k}.p50']:.1f} / {med[f'{k}.p99']:.0f} ({med[f'{k}.cpu']:.1f})" for k in KINDS),
                  f"{med['r.naive']:.2f}", f"{med['r.parsed']:.2f}", f"{med['r.asked']:.2f}", style="bold")
    console.print(table)
    ctx.close()


if __name__ == "__main__":
    main()
