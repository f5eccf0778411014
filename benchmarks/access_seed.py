"""Seeding shared by the access benchmarks: a scratch store with an agent, customers and a case (fictional)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchutil import reset_postgres
from ombud import migrate
from ombud.access import cases, service
from ombud.access.models import AccessProfile, CaseType
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.retail.models import (
    Account,
    AccountStatus,
    Address,
    AddressKind,
    Order,
    OrderStatus,
    PaymentMethod,
)
from ombud.staff import service as staff_service
from ombud.staff.models import Role


@dataclass(frozen=True)
class Reader:
    """One agent with an API token and an open support ticket about one customer."""

    agent_id: int
    customer_id: str
    case_id: int
    token: str


@dataclass(frozen=True)
class Seeded:
    ctx: Context
    agent_id: int
    customer_id: str
    case_id: int
    token: str
    #: Every agent (the first is the one above); real traffic comes from many employees about many customers.
    readers: tuple[Reader, ...] = ()


def scratch_context(database_url: str | None) -> Context:
    """A context over a fresh SQLite file (or the given PostgreSQL database, rebuilt), migrated."""
    folder = Path(tempfile.mkdtemp(prefix="ombud-bench-access-"))
    settings = Settings(env=Environment.test, data_dir=folder, database_url=database_url)
    if database_url and database_url.startswith("postgresql"):
        reset_postgres(database_url)
    migrate.upgrade(settings.resolved_database_url)
    return Context(settings)


def seed(ctx: Context, *, customers: int = 50, agents: int = 1) -> Seeded:
    """Agents with a high daily limit, customers with an address, a card and an order, a case per agent.

    Agent i holds a support ticket about customer i (so there are at least as many customers as agents) and an
    API token; they share a team, as agents do.
    """
    customers = max(customers, agents)
    now = datetime.now(UTC)
    with transaction(ctx.sessions) as session:
        accounts = []
        for n in range(customers):
            account = Account(external_id=f"BC{n:06d}", status=AccountStatus.active, created_at=now,
                              name=f"Casey Example {n}", email=f"casey{n}@example.com", phone="+1 202 555 0100",
                              date_of_birth=date(1980, 1, 1), updated_at=now)
            session.add(account)
            session.flush()
            address = Address(external_id=f"BA{n:06d}", account_id=account.id, kind=AddressKind.shipping,
                              line1=f"{n} Elm Street", city="Springfield", region="IL", postal_code="62704",
                              country="US", created_at=now)
            session.add(address)
            session.flush()
            card = PaymentMethod(external_id=f"BP{n:06d}", account_id=account.id, card_fingerprint=f"{n:032x}",
                                 last4="4242", brand="visa", exp_month=4, exp_year=2030, added_at=now)
            session.add(card)
            session.add(Order(external_id=f"BO{n:06d}", account_id=account.id, placed_at=now - timedelta(days=3),
                              status=OrderStatus.delivered, currency="USD", total_cents=1999))
            accounts.append(account.external_id)
        readers = []
        for n in range(agents):
            suffix = "" if n == 0 else f"-{n}"
            agent = staff_service.create_employee(
                session, external_id=f"BENCH-AGENT{suffix}", name=f"Bench Agent {n}",
                email=f"bench.agent{n or ''}@example.com", team="bench", role=Role.agent, region="us")
            service.set_profile(session, agent, actor=None, daily_limit=100_000)
            # Load runs make more reads than any real day allows; lift the limit past what the service accepts.
            session.get(AccessProfile, agent.id).daily_limit = 10**9
            case = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=accounts[n],
                                   title="Benchmark", actor=None, assignee=agent)
            token = staff_service.create_api_token(session, agent, name="bench").token
            readers.append(Reader(agent.id, accounts[n], case.id, token))
        first = readers[0]
        return Seeded(ctx, first.agent_id, first.customer_id, first.case_id, first.token, tuple(readers))
