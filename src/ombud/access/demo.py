"""The access broker's part of ``ombud demo``: an allowed read, a masked read and a refused read, on the record.

``run_demo(ctx, console)`` uses the demo staff when ``ombud demo`` made them (else creates its own), opens a
support ticket about a customer of the store (creating one fictional customer only if the store is empty),
then reads through the broker three times and shows each view with its audit leaf.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ombud import clock
from ombud.access import broker, cases, guard
from ombud.access.broker import AccessView
from ombud.access.models import CaseStatus, CaseType
from ombud.access.regions import countries_served
from ombud.context import Context
from ombud.db import transaction
from ombud.retail.models import Account, AccountStatus, Address
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role

DEMO_AGENT_EMAILS = ("agent@ombud.example.com", "demo.agent@example.com")
CASE_TITLE = "Demo: customer asks where a parcel is"


@dataclass(frozen=True)
class DemoResult:
    case_id: int
    customer_id: str
    other_customer_id: str
    views: dict[str, AccessView]


def _agent(session: Any) -> Employee:
    for email in DEMO_AGENT_EMAILS:
        found = staff_service.get_employee_by_email(session, email)
        if found is not None and found.active:
            return found
    return staff_service.create_employee(session, external_id="DEMO-AGENT", name="Dana Demo-Agent",
                                         email=DEMO_AGENT_EMAILS[1], team="trust-safety", role=Role.agent,
                                         region="global")


def _customers(session: Any, agent: Employee) -> tuple[str, str]:
    served = countries_served(agent.region)
    query = select(Account.external_id).outerjoin(Address, Address.account_id == Account.id)
    if "*" not in served:
        query = query.where(Address.country.in_(served) | Address.id.is_(None))
    with guard.system_scope("demo: choose two customers the demo agent may serve"):
        ids = list(dict.fromkeys(session.scalars(query.order_by(Account.id).limit(20))))[:2]
    now = clock.now()
    while len(ids) < 2:
        n = len(ids) + 1
        account = Account(external_id=f"DEMO-C{n}", status=AccountStatus.active, created_at=now - timedelta(days=90),
                          name=f"Robin Example {n}", email=f"robin{n}@example.com", phone=f"+1 202 555 01{n:02d}",
                          updated_at=now)
        session.add(account)
        session.flush()
        ids.append(account.external_id)
    return ids[0], ids[1]


def _case(session: Any, agent: Employee, customer_id: str) -> int:
    existing = session.scalar(
        select(cases.Case.id).where(cases.Case.customer_id == customer_id, cases.Case.title == CASE_TITLE,
                                    cases.Case.assignee_id == agent.id, cases.Case.status == CaseStatus.open)
    )
    if existing is not None:
        return int(existing)
    return cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customer_id, title=CASE_TITLE,
                           actor=None, assignee=agent).id


def _show(console: Console, title: str, view: AccessView) -> None:
    if view.refused:
        console.print(f"[bold red]{title}: refused[/] — {view.reason} [dim](audit leaf {view.audit_index})[/]")
        return
    table = Table(title=f"{title}: {view.decision.value} (purpose {view.purpose}, audit leaf {view.audit_index})",
                  title_justify="left")
    table.add_column("field")
    table.add_column("value", overflow="fold")
    table.add_column("")
    for name, value in view.fields.items():
        shown = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, list | dict) else str(value)
        table.add_row(name, shown[:160], "[yellow]masked[/]" if name in view.masked else "")
    console.print(table)


def run_demo(ctx: Context, console: Console) -> DemoResult:
    """Show an allowed, a masked and a refused read through the broker; every one lands in the audit log."""
    with transaction(ctx.sessions) as session:
        agent = _agent(session)
        customer_id, other_id = _customers(session, agent)
        case_id = _case(session, agent, customer_id)
        agent_id = agent.id
    console.rule("[bold]Access broker")
    console.print(f"Agent {agent.name} ({agent.team}) works support ticket case:{case_id} about {customer_id}.")
    steps = [
        ("allowed", "Contact details for the ticket", customer_id, f"case:{case_id}", ["email", "phone"]),
        ("masked", "Cards and SSN: not an agent's to see on a ticket", customer_id, f"case:{case_id}",
         ["payment_methods", "ssn_last4", "date_of_birth"]),
        ("refused", "Another customer under the same ticket", other_id, f"case:{case_id}", ["email"]),
    ]
    views: dict[str, AccessView] = {}
    for key, title, who, purpose, fields in steps:
        with transaction(ctx.sessions) as session:
            employee = session.get(Employee, agent_id)
            assert employee is not None
            views[key] = broker.read(session, employee, customer_id=who, fields=fields, purpose=purpose,
                                     cipher=ctx.keys.field_cipher)
        _show(console, title, views[key])
    console.print("Each decision above is one leaf of the audit log (`ombud audit verify` checks them); "
                  "`ombud access decisions` lists them.")
    return DemoResult(case_id, customer_id, other_id, views)
