"""An agent reads a customer's data through the broker in a real browser: shown, masked, on record."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from ombud.access import cases
from ombud.access.models import Case, CaseType
from ombud.audit.models import AuditEntry
from ombud.db import transaction
from ombud.retail.models import Account, AccountStatus, PaymentMethod
from ombud.staff.models import Employee, Role

pytestmark = pytest.mark.browser


@pytest.fixture
def customers(server_ctx) -> Iterator[list[str]]:
    """Two committed customers (fictional), each with a card; deleted afterwards with their cases."""
    tag = secrets.token_hex(3)
    ids = [f"BR{tag}{n}" for n in (1, 2)]
    now = datetime.now(UTC)
    with transaction(server_ctx.sessions) as session:
        for n, external_id in enumerate(ids, 1):
            account = Account(external_id=external_id, status=AccountStatus.active, created_at=now - timedelta(days=90),
                              updated_at=now, name=f"Robin Example {n}", email=f"robin{n}.{tag}@example.com",
                              phone="+1 555 010 0199")
            session.add(account)
            session.flush()
            session.add(PaymentMethod(external_id=f"{external_id}P", account_id=account.id,
                                      card_fingerprint=secrets.token_hex(16), last4="4242", brand="visa",
                                      exp_month=4, exp_year=2030, cardholder_name="R Example", added_at=now))
    yield ids
    with transaction(server_ctx.sessions) as session:
        session.execute(delete(Case).where(Case.customer_id.in_(ids)))
        accounts = select(Account.id).where(Account.external_id.in_(ids))
        session.execute(delete(PaymentMethod).where(PaymentMethod.account_id.in_(accounts)))
        session.execute(delete(Account).where(Account.external_id.in_(ids)))


def _open_case(server_ctx, agent_id: int, customer_id: str) -> int:
    with transaction(server_ctx.sessions) as session:
        agent = session.get(Employee, agent_id)
        return cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customer_id,
                               title="Where is my order?", actor=None, assignee=agent).id


def _leaf(server_ctx, index: int) -> AuditEntry:
    with transaction(server_ctx.sessions) as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.idx == index)).one()


def test_an_agent_reads_contact_details_sees_cards_masked_and_each_read_is_on_record(
    page, live_server, make_staff, server_ctx, customers
):
    agent = make_staff(name="Avery Agent", role=Role.agent)
    case_id = _open_case(server_ctx, agent.id, customers[0])
    page.goto("/login")
    page.get_by_label("Work email").fill(agent.email)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"/access/cases/{case_id}")
    page.locator("input[name=classes][value=payment]").check()  # contact is checked already
    page.get_by_role("button", name="Read through the broker").click()
    page.wait_for_load_state()

    heading = page.get_by_role("heading", name=f"Customer {customers[0]}")
    assert heading.inner_text().endswith("masked")  # contact allowed, payment masked: the read as a whole
    email_row = page.locator("tr[data-field=email]")
    assert customers[0] not in email_row.inner_text() and "@example.com" in email_row.inner_text()
    assert "masked" not in email_row.inner_text()
    cards = page.locator("tr[data-field=payment_methods]")
    assert "masked" in cards.inner_text() and "•••• 4242" in cards.inner_text()
    audit_text = page.get_by_text("audit leaf").first.inner_text()
    index = int(audit_text.split("audit leaf ")[1].split(" ")[0])
    leaf = _leaf(server_ctx, index)
    assert (leaf.action, leaf.customer_id, leaf.decision) == ("access.read", customers[0], "partial")
    assert leaf.purpose == f"case:{case_id}" and '"email"' in leaf.fields
    assert "@" not in leaf.detail + leaf.fields  # references only: never the values read

    # A case that is neither the agent's nor their team's is not theirs to open at all.
    with transaction(server_ctx.sessions) as session:
        other = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customers[1],
                                title="Someone else's ticket", actor=None, assignee=None, team="Elsewhere").id
    page.goto(f"/access/cases/{other}")
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"  # not this agent's case to see
