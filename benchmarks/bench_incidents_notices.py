"""100,000 breach notices rendered and queued (goal: <= 60 s), and the dry run that renders them first.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_incidents_notices.py --customers 100000 --runs 3
    PYTHONPATH=src .venv/bin/python benchmarks/bench_incidents_notices.py --url postgresql+psycopg://…/bench_d

Each run builds a fresh store: N customers with an email address and a billing address across the states, and
an incident whose scope exposes each one's name and email (the scope rows written directly: verification and
scoping have their own benchmark). Then, timed: the dry run (every notice rendered, nothing queued), the
privacy officer's approval (which runs the dry run again and pins the wording version), and the send: every
notice rendered from exactly the approved wording version (strict, sandboxed Jinja) and queued through the outbox,
with its notice row, in one transaction.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from benchutil import load_average, load_line, print_markdown, reset_postgres
from ombud import migrate
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction

STATES = ["CA", "TX", "NY", "FL", "CO", "DE", "WA", "IL", "PA", "OH", "GA", "NC", "MI", "NJ", "VA", "AZ"]


def seed(ctx: Context, customers: int) -> tuple[int, int]:
    """Customers, staff, an incident and its scope; returns (incident id, privacy officer id)."""
    from ombud.incidents import service
    from ombud.incidents.models import Exposure, IncidentScope
    from ombud.incidents.scope import refresh_deadlines
    from ombud.retail.models import Account, Address
    from ombud.staff.models import Employee, Role

    now = datetime.now(UTC)
    start = now - timedelta(days=20)
    with transaction(ctx.sessions) as session:
        session.execute(insert(Account), [
            {"external_id": f"C{c:07d}", "status": "active", "created_at": now, "name": f"Customer Number {c}",
             "email": f"customer{c}@example.com", "updated_at": now} for c in range(customers)])
        ids = dict(session.execute(select(Account.external_id, Account.id)).all())
        session.execute(insert(Address), [
            {"external_id": f"A{c:07d}", "account_id": ids[f"C{c:07d}"], "kind": "billing", "line1": "1 Main St",
             "city": "Springfield", "region": STATES[c % len(STATES)], "postal_code": "00000", "country": "US",
             "created_at": now} for c in range(customers)])
        staff = [Employee(external_id=f"E{n}", name=f"Staff {n}", email=f"staff{n}@example.com", team="privacy",
                          role=role, region="us", created_at=now)
                 for n, role in ((1, Role.agent), (2, Role.privacy_officer))]
        session.add_all(staff)
        session.flush()
        incident = service.open_incident(
            session, title="Contact details sold", description="An employee sold customers' contact details.",
            actors=["E1"], window_start=start, window_end=now, discovered_at=now, by=staff[1])
        incident.what_happened = "An employee looked up customers' email addresses without reason and sold them."
        incident.what_we_are_doing = "We ended the employee's access and review every look at customer data daily."
        scope = IncidentScope(
            incident_id=incident.id, version=1, computed_at=now, actors=["E1"], window_start=start, window_end=now,
            tree_size=0, root_hash="0" * 64, verification="benchmark: written directly", reads_scanned=0,
            imported_scanned=0, customers=customers, rows=2 * customers, by_jurisdiction={}, diff=None)
        session.add(scope)
        session.flush()
        rows = []
        for c in range(customers):
            at = start + timedelta(seconds=c)
            for item, cls in (("name", "identity_basic"), ("email", "contact")):
                rows.append({"scope_id": scope.id, "customer_id": f"C{c:07d}", "item": item, "data_class": cls,
                             "source": "audit", "jurisdiction": STATES[c % len(STATES)] if STATES[c % len(STATES)]
                             in ("CA", "TX", "NY", "FL", "CO", "DE") else "default", "first_at": at, "last_at": at,
                             "events": 1, "leaves": [c], "imported": []})
        for i in range(0, len(rows), 10_000):
            session.execute(insert(Exposure), rows[i:i + 10_000])
        incident.current_scope_id = scope.id
        incident.status = service.IncidentStatus.scoped
        counts = dict(session.execute(select(Exposure.jurisdiction, func.count(func.distinct(Exposure.customer_id)))
                                      .where(Exposure.scope_id == scope.id).group_by(Exposure.jurisdiction)).all())
        refresh_deadlines(session, incident, counts)
        return incident.id, staff[1].id


def run_once(url: str | None, customers: int, workdir: Path) -> dict[str, float]:
    from ombud.incidents import notices
    from ombud.incidents.scope import current_scope
    from ombud.incidents.service import get_incident
    from ombud.notify.models import OutboxMessage
    from ombud.staff.models import Employee

    if url is None:
        url = f"sqlite:///{workdir / 'notices.db'}"
    else:
        reset_postgres(url)
    migrate.upgrade(url)
    ctx = Context(Settings(env=Environment.test, data_dir=workdir / "data", database_url=url,
                           audit_checkpoint_schedule=False))
    incident_id, officer_id = seed(ctx, customers)
    out: dict[str, float] = {}
    with transaction(ctx.sessions) as session:
        incident = get_incident(session, incident_id)
        t0 = time.perf_counter()
        run = notices.dry_run(session, incident, current_scope(session, incident), ctx.settings)
        out["dry run s"] = time.perf_counter() - t0
        assert run.customers == customers and not run.problems, run.problems[:3]
    with transaction(ctx.sessions) as session:
        t0 = time.perf_counter()
        notices.approve(session, get_incident(session, incident_id), session.get(Employee, officer_id), ctx.settings)
        out["approve s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with transaction(ctx.sessions) as session:
        result = notices.send(session, get_incident(session, incident_id), session.get(Employee, officer_id),
                              ctx.settings)
    out["render + queue s"] = time.perf_counter() - t0
    with transaction(ctx.sessions) as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert result.emails == customers == queued, (result, queued)
    ctx.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL database of your own (reset each run); default: SQLite")
    args = parser.parse_args()
    before = load_average()
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="ombud-bench-notices-") as folder:
            results.append(run_once(args.url, args.customers, Path(folder)))
    keys = list(results[0])
    rows = [[str(i + 1), *(f"{r[k]:.1f}" for k in keys)] for i, r in enumerate(results)]
    rows.append(["median", *(f"{statistics.median(r[k] for r in results):.1f}" for k in keys)])
    print_markdown(["run", *keys], rows)
    print(f"{args.customers:,} notices, store: {'PostgreSQL' if args.url else 'SQLite'} (goal: render + queue <= 60 s)")
    print(load_line(before))


if __name__ == "__main__":
    main()
