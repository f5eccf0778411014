"""A small store world for insider tests: agents with ticketed work for two weeks, then one agent's bulk lookup."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ombud.audit.events import AuditEvent
from ombud.audit.service import append_events
from ombud.insider.events import AccessEvent, ImportBatch
from ombud.retail.models import Account, AccountStatus, ContactInitiator, SupportContact
from ombud.staff.models import Employee, Role

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
_seq = itertools.count(1)


@dataclass
class StoreWorld:
    agents: list[Employee]
    analyst: Employee
    customers: list[Account]
    snooper: Employee
    bulk_indexes: list[int]


def _employee(session: Session, role: Role, team: str) -> Employee:
    n = next(_seq)
    emp = Employee(external_id=f"IE{n:05d}", name=f"Staff Member{n} Tester", email=f"insider{n}@example.com",
                   team=team, role=role, region="us", created_at=T0 - timedelta(days=400))
    session.add(emp)
    return emp


def build(session: Session, *, agents: int = 6, days: int = 12, bulk: int = 12) -> StoreWorld:
    """Agents answer three customer contacts a working day (imported support-tool looks tied to the tickets);
    on the last day the first agent reads `bulk` customers through the broker with no reason on record."""
    staff = [_employee(session, Role.agent, "insider-support") for _ in range(agents)]
    analyst = _employee(session, Role.security_analyst, "security")
    session.flush()
    n = next(_seq)
    customers = [Account(external_id=f"IC{n}-{i:04d}", status=AccountStatus.active, created_at=T0 - timedelta(days=500),
                         name=f"Customer{i} Example{i}", email=f"c{n}-{i}@example.com", updated_at=T0)
                 for i in range(agents * days * 3 + bulk)]
    session.add_all(customers)
    batch = ImportBatch(started_at=T0, files=["test.csv"], read=0, inserted=0, updated=0, unchanged=0, rejected=0)
    session.add(batch)
    session.flush()
    k = 0
    for day in range(days):
        if day % 7 in (5, 6):
            continue
        for agent in staff:
            for j in range(3):
                customer = customers[k]
                k += 1
                when = T0 + timedelta(days=day, hours=j * 2)
                ref = f"TK{n}-{k}"
                session.add(SupportContact(external_id=ref, ticket_ref=ref, account_id=customer.id,
                                           employee_id=agent.id, team=agent.team, opened_at=when,
                                           initiated_by=ContactInitiator.customer, channel="phone", topic="order"))
                session.add(AccessEvent(source_system="support_tool", external_id=f"ev{n}-{k}",
                                        employee_id=agent.id, customer_id=customer.external_id,
                                        data_class="contact", at=when + timedelta(minutes=5), ticket_ref=ref,
                                        break_glass=False, batch_id=batch.id))
    session.flush()
    last = T0 + timedelta(days=days - 1, hours=3)
    snooper = staff[0]
    indexes = append_events(session, [
        AuditEvent(action="access.read", actor_type="employee", actor_id=snooper.external_id,
                   customer_id=c.external_id, fields=("email", "phone"), decision="allow",
                   at=last + timedelta(minutes=i))
        for i, c in enumerate(customers[-bulk:])
    ])
    session.flush()
    return StoreWorld(staff, analyst, customers, snooper, indexes)
