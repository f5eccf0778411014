"""The 30-day clock's sweep over 100,000 open requests (SQLite or PostgreSQL).

The store holds N open requests received evenly over the last 30 days (some assigned, spread over the stages
in which the clock runs) and two privacy officers. The clock stands at yesterday for a first, catch-up sweep
(every reminder, escalation and overdue mark the backlog needs: the worst case, after the sweep never ran), then
at today for the daily sweep (what one day adds: about 3 x N/30 reminders, N/30 escalations, N/30 overdue), then
the same day again (nothing to do: every action is recorded under its dedupe key). Each sweep is one transaction,
committed; times include the commit.

    .venv/bin/python benchmarks/bench_requests_sweep.py --requests 100000 --runs 3
    .venv/bin/python benchmarks/bench_requests_sweep.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_a
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from benchutil import load_average, load_line, print_markdown, reset_postgres
from ombud import clock, migrate
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.keys import KeyRing
from ombud.staff.models import Role
from ombud.staff.testing import make_employee
from ombud.victim_requests import deadline, service
from ombud.victim_requests.models import VictimRequest
from ombud.victim_requests.protect import seal_json
from ombud.victim_requests.states import Channel, Status
from ombud.victim_requests.sweep import sweep

TODAY = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
STAGES = [Status.received, Status.verifying, Status.needs_information, Status.verified, Status.discovery,
          Status.review, Status.package]


def seed(ctx: Context, count: int, rng: random.Random) -> None:
    keys: KeyRing = ctx.keys
    zone = service.zone_of(ctx.settings)
    blob = seal_json(keys, {"names": ["Synthetic Person"]}, service.IDENTIFIERS)
    contact = seal_json(keys, {"name": "Synthetic Person", "email": "person@example.com"}, service.CONTACT)
    with transaction(ctx.sessions) as session:
        agents = [make_employee(session, role=Role.agent, team="victim-requests", password=None) for _ in range(20)]
        for _ in range(2):
            make_employee(session, role=Role.privacy_officer, team="Privacy", password=None)
        agent_ids = [a.id for a in agents]
    start = TODAY - timedelta(days=33)
    rows = []
    for i in range(count):
        received = start + timedelta(seconds=rng.uniform(0, 33 * 86400 - 3600))
        due = deadline.due_at(received, zone)
        rows.append({
            "reference": f"VR-B{i:07d}", "status": rng.choice(STAGES), "channel": Channel.portal,
            "received_at": received, "due_at": due, "entered_at": received, "reminders_sent": 0,
            "next_check_at": deadline.next_check(received, due, zone, reminder_days=(10, 20, 25), reminders_sent=0,
                                                 escalate_after=25, escalated=False, overdue=False),
            "status_changed_at": received, "assignee_id": rng.choice(agent_ids) if rng.random() < 0.7 else None,
            "team": "victim-requests", "identifiers_enc": blob, "contact_enc": contact, "cards": [],
            "status_token_hash": f"{i:064d}",
        })
    with transaction(ctx.sessions) as session:
        for i in range(0, len(rows), 5000):
            session.execute(insert(VictimRequest), rows[i:i + 5000])


def timed_sweep(ctx: Context, at: datetime) -> tuple[float, object]:
    with clock.use_clock(clock.FrozenClock(at)):
        started = time.perf_counter()
        with transaction(ctx.sessions) as session:
            report = sweep(session, ctx.settings)
        return time.perf_counter() - started, report


def one_run(url: str, count: int, seed_value: int) -> list[tuple[str, float, object]]:
    if url.startswith("postgresql"):
        reset_postgres(url)
    migrate.upgrade(url)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context(Settings(env=Environment.test, data_dir=Path(tmp), database_url=url))
        try:
            seed(ctx, count, random.Random(seed_value))
            out = []
            for label, at in (("catch-up (yesterday, backlog)", TODAY - timedelta(days=1)),
                              ("daily (today)", TODAY), ("again (today, nothing to do)", TODAY + timedelta(hours=1))):
                seconds, report = timed_sweep(ctx, at)
                out.append((label, seconds, report))
        finally:
            ctx.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    before = load_average()
    results: dict[str, list[float]] = {}
    last: dict[str, object] = {}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            for label, seconds, report in one_run(url, args.requests, run):
                results.setdefault(label, []).append(seconds)
                last[label] = report
    store = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    print(f"sweep over {args.requests:,} open requests, {store}, {args.runs} runs")
    rows = []
    for label, times in results.items():
        r = last[label]
        rows.append((label, f"{statistics.median(times):.2f}", " / ".join(f"{t:.2f}" for t in times),
                     f"{r.reminders:,}", f"{r.escalations:,}", f"{r.overdue:,}"))  # type: ignore[attr-defined]
    print_markdown(("sweep", "median s", "runs s", "reminders", "escalations", "overdue"), rows)
    print(load_line(before))


if __name__ == "__main__":
    main()
