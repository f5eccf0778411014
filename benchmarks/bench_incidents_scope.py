"""Exposure scoping of one actor over a 10M-event audit log (goal: <= 2 s), and the verification before it.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_incidents_scope.py --events 10000000 \
        --out /tmp/ombud-bench-d/incidents-10m.db --runs 5

The scratch store (built once, outside the repository, reused by later runs) holds `--events` brokered read
leaves of 1,000 employees over a year, written directly with their real leaf hashes, tree nodes and signed
checkpoints (so `ombud audit verify` passes), and 200,000 customers with addresses across the states. Each run
scopes one employee's incident over the whole year: the actor's leaves read through the actor index, the
exposure computed in Polars, jurisdictions looked up, the scope stored with its deadlines. The full
verification that scoping runs first is timed once, separately (it is the audit log's own figure).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.progress import Progress

from benchutil import load_average, load_line, print_markdown
from ombud import migrate
from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle
from ombud.audit.events import _encode_tail, to_micros
from ombud.audit.service import sqlite_time
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction

START = datetime(2026, 1, 1, tzinfo=UTC)
ACTORS = 1_000
CUSTOMERS = 200_000
STATES = ["CA", "TX", "NY", "FL", "CO", "DE", "WA", "IL", "PA", "OH", "GA", "NC", "MI", "NJ", "VA", "AZ"]
#: (fields asked, classes allowed, classes masked, decision): what agents' reads look like.
READS = [
    (["name", "email", "phone"], ["identity_basic", "contact"], [], "allow"),
    (["name", "email", "payment_methods", "orders"], ["identity_basic", "contact", "order_history"],
     ["payment", "login_device"], "partial"),
    (["name", "addresses"], ["identity_basic", "address"], [], "allow"),
    (["name", "orders", "support_notes"], ["identity_basic", "order_history", "support_notes"], ["login_device"],
     "partial"),
    (["name", "email"], [], [], "deny"),
]


def _row(i: int, seconds_per_event: float) -> tuple:
    actor = f"E{i % ACTORS:05d}"
    customer = f"C{(i * 7919) % CUSTOMERS:07d}"
    fields, allowed, masked, decision = READS[(i // ACTORS) % len(READS)]
    at = START + timedelta(seconds=i * seconds_per_event)
    case = (i * 31) % 90_001
    detail = json.dumps({"case_type": "support_ticket", "classes_allowed": allowed, "classes_masked": masked,
                         "policy_digest": "5f2c1e0a9b8d7c6e", "policy_ids": [], "reads_today": i % 50,
                         "reason": None if decision != "deny" else "no purpose"},
                        separators=(",", ":"), sort_keys=True)
    fields_json = json.dumps(fields, separators=(",", ":"))
    tail = _encode_tail(to_micros(at), "access.read", "employee", actor, customer, "case", str(case), fields_json,
                        f"case:{case}", decision, detail)
    leaf = hashlib.sha256(b"\x00\x01" + i.to_bytes(8, "big") + tail).digest()
    return (i, sqlite_time(at), "access.read", "employee", actor, customer, "case", str(case), fields_json,
            f"case:{case}", decision, detail, leaf)


def build(path: Path, events: int, data_dir: Path) -> Context:
    """The scratch store: read leaves with real hashes, tree nodes, checkpoints; employees; customers."""
    url = f"sqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)
    ctx = Context(Settings(env=Environment.test, data_dir=data_dir, database_url=url))
    db = sqlite3.connect(str(path), isolation_level=None)
    have = db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_event").fetchone()[0]
    if have >= events:
        db.close()
        return ctx
    if have:
        raise SystemExit(f"{path} holds {have} events; remove it to build {events}")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    now = sqlite_time(datetime.now(UTC))
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO staff_employee (external_id, name, email, team, role, region, created_at) "
        "VALUES (?, ?, ?, ?, 'agent', 'us', ?)",
        [(f"E{a:05d}", f"Agent {a}", f"agent{a}@example.com", f"support-{a % 7}", now) for a in range(ACTORS)])
    rng = random.Random(7)
    db.executemany(
        "INSERT INTO retail_account (id, external_id, status, created_at, name, email, updated_at) "
        "VALUES (?, ?, 'active', ?, ?, ?, ?)",
        [(c + 1, f"C{c:07d}", now, f"Customer {c}", f"customer{c}@example.com", now) for c in range(CUSTOMERS)])
    db.executemany(
        "INSERT INTO retail_address (external_id, account_id, kind, line1, city, region, postal_code, country, "
        "created_at) VALUES (?, ?, 'billing', '1 Main St', 'Springfield', ?, '00000', 'US', ?)",
        [(f"A{c:07d}", c + 1, rng.choice(STATES), now) for c in range(CUSTOMERS)])
    db.execute("COMMIT")
    indexes = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event'"
                         " AND sql IS NOT NULL").fetchall()
    for (sql,) in indexes:
        db.execute("DROP INDEX " + sql.split()[2])
    step = 365 * 24 * 3600 / events
    frontier = merkle.Frontier()
    started = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("writing read leaves", total=events)
        done = 0
        while done < events:
            n = min(100_000, events - done)
            rows, nodes = [], []
            for i in range(done, done + n):
                row = _row(i, step)
                rows.append(row)
                frontier.append(row[-1], nodes)
            db.execute("BEGIN")
            db.executemany("INSERT INTO audit_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)", nodes)
            db.execute("INSERT INTO audit_sequence (id, next_index) VALUES (1, ?) "
                       "ON CONFLICT (id) DO UPDATE SET next_index = excluded.next_index", (done + n,))
            db.execute("INSERT INTO audit_tree (id, size, frontier) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE "
                       "SET size = excluded.size, frontier = excluded.frontier", (frontier.size, frontier.to_bytes()))
            db.execute("COMMIT")
            done += n
            progress.update(task, completed=done)
            if done % 2_500_000 == 0 or done == events:
                with transaction(ctx.sessions) as session:
                    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    for (sql,) in indexes:
        db.execute(sql)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"built {events:,} read leaves in {time.perf_counter() - started:.0f}s")
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ombud-bench-d/incidents-10m.db"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--actor", default="E00042")
    parser.add_argument("--verify", action="store_true", help="also time the full verification once")
    args = parser.parse_args()
    before = load_average()
    ctx = build(args.out, args.events, args.out.parent / f"{args.out.stem}-data")

    from ombud.incidents import scope as scoping
    from ombud.incidents import service
    from ombud.staff.models import Employee

    with transaction(ctx.sessions) as session:
        who = session.query(Employee).filter_by(external_id="E00001").one()
        incident = service.open_incident(
            session, title="benchmark", description="one actor over a year", actors=[args.actor],
            window_start=START, window_end=START + timedelta(days=366), discovered_at=datetime.now(UTC), by=who)
        incident_id, by_id = incident.id, who.id
    with transaction(ctx.sessions) as session:
        signed = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings).checkpoint
        verified = scoping.VerifiedLog(signed.tree_size, bytes(signed.root_hash), "benchmark: verified separately")
    rows = []
    compute_s, total_s = [], []
    for run in range(args.runs):
        t0 = time.perf_counter()
        with transaction(ctx.sessions) as session:
            incident = service.get_incident(session, incident_id)
            frame, reads, imported = scoping.compute(session, incident, verified.tree_size)
            t1 = time.perf_counter()
            stored = scoping.store_scope(session, incident, frame, verified, session.get(Employee, by_id),
                                         reads_scanned=reads, imported_scanned=imported)
            customers, items = stored.customers, stored.rows
        t2 = time.perf_counter()
        compute_s.append(t1 - t0)
        total_s.append(t2 - t0)
        rows.append([str(run + 1), f"{reads:,}", f"{customers:,}", f"{items:,}", f"{t1 - t0:.3f}", f"{t2 - t0:.3f}"])
    print_markdown(["run", "actor's reads", "customers", "exposed items", "read + compute s", "scope stored s"], rows)
    print(f"median: read + compute {statistics.median(compute_s):.3f} s, whole scope stored "
          f"{statistics.median(total_s):.3f} s over {args.events:,} events (goal <= 2 s)")
    if args.verify:
        t0 = time.perf_counter()
        result = scoping.verify_and_sign(ctx)
        print(f"verification before scoping: {time.perf_counter() - t0:.1f} s ({result.message})")
    print(load_line(before))


if __name__ == "__main__":
    main()
