"""A customer opens their "who accessed my data" link in Chromium with JavaScript off: accesses without names;
a tampered link gets the bare 403 page."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from ombud.access import broker, cases
from ombud.access.models import Case, CaseType
from ombud.db import transaction
from ombud.incidents import links
from ombud.retail.models import Account, AccountStatus
from ombud.staff.models import Employee, Role

pytestmark = pytest.mark.browser


@pytest.fixture
def looked_at(server_ctx, make_staff) -> Iterator[tuple[str, str]]:
    """A committed customer an agent read through the broker; (customer id, the agent's name)."""
    tag = secrets.token_hex(3)
    customer_id = f"TR{tag}"
    agent = make_staff(role=Role.agent, team="returns-desk", name=f"Quinn Lookup {tag}")
    now = datetime.now(UTC)
    with transaction(server_ctx.sessions) as session:
        session.add(Account(external_id=customer_id, status=AccountStatus.active, created_at=now - timedelta(days=9),
                            updated_at=now, name="Robin Example", email=f"robin.{tag}@example.com"))
        session.flush()
        employee = session.get(Employee, agent.id)
        case = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customer_id, title="Return",
                               actor=None, assignee=employee)
        broker.read(session, employee, customer_id=customer_id, purpose=f"case:{case.id}", fields=["email"])
    yield customer_id, agent.name
    with transaction(server_ctx.sessions) as session:
        session.execute(delete(Case).where(Case.customer_id == customer_id))
        session.execute(delete(Account).where(Account.external_id == customer_id))


def test_the_link_works_without_javascript_and_names_nobody(chromium, live_server, server_ctx, looked_at):
    customer_id, agent_name = looked_at
    context = chromium.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        token = links.sign(links.link_key(server_ctx.settings), customer_id)
        response = page.goto(f"/my-data?token={token}")
        assert response.status == 200
        assert page.get_by_role("heading", name="Who accessed your data, and why").is_visible()
        row = page.locator("tbody tr").first
        assert "returns-desk" in row.inner_text() and "a customer-service request" in row.inner_text()
        assert agent_name not in page.content() and "<script" not in page.content()
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        refused = page.goto(f"/my-data?token={tampered}")
        assert refused.status == 403
        assert page.get_by_role("heading", name="This link is not valid").is_visible()
        assert customer_id not in page.content()
    finally:
        context.close()
