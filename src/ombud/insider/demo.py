"""The insider-detection part of ``ombud demo``: two weeks of a support team's work imported, one agent's
look-ups with no reason, the scan, the alert with its explanation and evidence proofs, and triage.

``run_demo(ctx, console)`` writes a small staff activity as the retailer's own files (the team in
``employees.csv``, the customers' contacts in ``support_contacts.csv``, the support tool's access log in
``access_events.csv``), imports them as a retailer would, then has one agent of the team open tickets on
customers who never made contact and read them through the access broker (each read an audit leaf). A signed
checkpoint covers the log, the scan runs, and an analyst reads the alert (pseudonymised), checks every evidence
proof against the checkpoint, assigns the alert to themselves and escalates it. The incidents step that follows
opens its incident from this escalated alert.
"""

from __future__ import annotations

import csv
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import broker, cases, guard
from ombud.access.models import CaseType
from ombud.audit import checkpoint as checkpoints
from ombud.context import Context
from ombud.db import transaction
from ombud.insider import evidence, service, triage
from ombud.insider.eventimport import import_events
from ombud.insider.models import InsiderAlert
from ombud.retail.importer import import_directory
from ombud.retail.models import Account
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role

FOLDER = "demo-insider"
TEAM = "order-support"
AGENTS = 6
DAYS = 14
CONTACTS_PER_DAY = 3
LOOKUPS = 12  # the injected scenario: customers one agent reads with no reason on record
ANALYST_EMAIL = "security@ombud.example.com"


def _analyst(session: Session) -> Employee:
    found = staff_service.get_employee_by_email(session, ANALYST_EMAIL)
    if found is not None:
        return found
    return staff_service.create_employee(session, external_id="DEMO-SEC", name="Demo security analyst",
                                         email=ANALYST_EMAIL, team="insider-risk", role=Role.security_analyst,
                                         region="us-east")


def write_activity(folder: Path, customers: list[str], *, seed: int = 7) -> list[str]:
    """Write the team, its customers' contacts and the support tool's access log as import files; the agents'
    ids. Every look is tied to a contact the customer started (ticket, same day) and most happen within hours."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    agents = [f"DEMO-OS{i:02d}" for i in range(1, AGENTS + 1)]
    with (folder / "employees.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["employee_id", "name", "email", "team", "role", "region", "hired_on"])
        today = clock.now().date()
        for i, agent in enumerate(agents, start=1):
            w.writerow([agent, f"Order Agent {i}", f"order.agent{i}@ombud.example.com", TEAM, "agent", "us-east",
                        (today - timedelta(days=400 + 30 * i)).isoformat()])
    pool = iter(customers)
    contacts, events = [], []
    for when in _workdays():
        for agent in agents:
            for j in range(CONTACTS_PER_DAY):
                customer = next(pool)
                opened = when + timedelta(hours=1 + 2 * j, minutes=rng.randrange(60))
                ref = f"DEMO-TK-{len(contacts) + 1:05d}"
                contacts.append([ref, ref, customer, agent, TEAM, opened.isoformat(), "customer", "phone", "order"])
                for k, data_class in enumerate(("contact", "order_history", "address")):
                    at = opened + timedelta(minutes=3 + 4 * k + rng.randrange(3))
                    events.append([f"DEMO-EV-{len(events) + 1:06d}", "order_tool", agent, customer, data_class,
                                   at.isoformat(), ref, "false"])
    with (folder / "support_contacts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["contact_id", "ticket_ref", "account_id", "employee_id", "team", "opened_at", "initiated_by",
                    "channel", "topic"])
        w.writerows(contacts)
    with (folder / "access_events.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "source_system", "employee_id", "customer_id", "data_class", "at", "ticket_ref",
                    "break_glass"])
        w.writerows(events)
    return agents


def _workdays() -> list[datetime]:
    """8:00 UTC of each working day of the last DAYS days."""
    start = clock.now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    days = (start + timedelta(days=d) for d in range(DAYS))
    return [d for d in days if d.weekday() < 5]


def _customers(ctx: Context, n: int) -> list[str]:
    with ctx.sessions() as session, guard.system_scope("demo: choose customers for the staff activity"):
        return list(session.scalars(select(Account.external_id).order_by(Account.id).limit(n)))


def run_demo(ctx: Context, console: Console) -> int | None:
    """Import a team's activity, inject one agent's unexplained look-ups, scan, explain, prove, triage; the alert."""
    console.rule("[bold]Insider detection: every staff look, explained or scored")
    contacts_needed = AGENTS * len(_workdays()) * CONTACTS_PER_DAY
    customers = _customers(ctx, contacts_needed + LOOKUPS)
    if len(customers) < contacts_needed + LOOKUPS:
        console.print(f"[yellow]skipped[/]: the store holds fewer than {contacts_needed + LOOKUPS} customers")
        return None
    folder = ctx.settings.data_dir / FOLDER
    agents = write_activity(folder, customers[:contacts_needed])
    staff = import_directory(ctx, folder)
    events = import_events(ctx, folder)
    console.print(f"imported {TEAM}'s last {DAYS} days from {folder}: {staff.read:,} staff and contact rows, "
                  f"{events.read:,} access events of the order tool ({events.rejected} rejected)")

    # The injected scenario: one agent opens tickets on customers who never made contact and reads them.
    targets = customers[-LOOKUPS:]
    with transaction(ctx.sessions) as session:
        snooper = staff_service.get_employee_by_external_id(session, agents[0])
        assert snooper is not None
        for customer in targets:
            case = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customer,
                                   title="Order question", actor=snooper)
            broker.read(session, snooper, customer_id=customer, fields=["email", "phone"], purpose=f"case:{case.id}",
                        cipher=ctx.keys.field_cipher)
        snooper_id = snooper.id
    console.print(f"{agents[0]} opened {LOOKUPS} tickets of their own on customers who never contacted the store "
                  "and read each one's email and phone through the broker")

    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        result = service.run_scan(session, identifier_key=ctx.keys.identifier_hash_key)
        summary = (f"scan: {result.scan.events:,} access events, {result.scan.explained_share:.1%} explained by a "
                   f"contact, a case or an order; {result.scan.findings} finding(s), {result.alerts_new} new "
                   f"alert(s) in {time.perf_counter() - started:.1f} s")
    console.print(summary)

    with transaction(ctx.sessions) as session:
        analyst = _analyst(session)
        alerts, _ = service.list_alerts(session, limit=20)
        if alerts:
            triage.record_read(session, analyst, [a.id for a in alerts], what="list")
        alert = next((a for a in alerts if a.employee_id == snooper_id), None)
        if alert is None:
            console.print("[red]no alert on the injected look-ups[/]")
            return None
        key = ctx.keys.identifier_hash_key
        console.print(f"alert {alert.id} on [bold]{triage.pseudonym(key, alert.employee_id)}[/] (pseudonymised "
                      f"until escalation), score {alert.score:.2f}:")
        for finding in alert.findings:
            console.print(f"  - {finding['text']}")
        rows = service.alert_events(session, alert.id)
        table = Table("at (UTC)", "customer", "class", "source", "audit leaf", title="evidence", title_justify="left")
        for e in rows[:8]:
            table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.customer_id, e.data_class, e.source,
                          "" if e.audit_index is None else str(e.audit_index))
        console.print(table)
        proofs = evidence.proofs(session, rows)
        verifier = checkpoints.verifier(ctx.keys, ctx.settings)
        good = sum(evidence.verify(p, proofs.checkpoint, verifier) for p in proofs.proofs) if proofs.checkpoint else 0
        console.print(f"evidence: {len(rows)} event(s); {good} of {len(proofs.proofs)} inclusion proof(s) verify "
                      f"against the signed checkpoint of {proofs.tree_size} leaves, with the public key alone")
        triage.assign(session, alert.id, analyst)
        triage.escalate(session, alert.id, analyst, note="Own tickets on customers who never contacted us.")
        escalated = session.get(InsiderAlert, alert.id)
        assert escalated is not None
        console.print(f"{analyst.email} assigned the alert to themselves, then escalated it: the employee is "
                      f"revealed as {agents[0]}; both moves are audit leaves (insider.alert.assign, "
                      "insider.alert.escalate)")
        return escalated.id
