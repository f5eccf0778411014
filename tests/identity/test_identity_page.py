"""The discovery page: only under a purpose (an investigation case here; a victim's request runs from its own page);
enter the identifiers, see the explained accounts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from identity_testdata import JANE_DOB

from ombud.access import cases
from ombud.access.models import CaseType
from ombud.app import create_app
from ombud.identity.index import import_callback
from ombud.retail.models import AddressKind
from ombud.staff.models import Role
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing, make_employee

HTML = {"accept": "text/html"}


def _hidden(html, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


@pytest.fixture
def client(ctx):
    with fast_password_hashing():
        yield TestClient(create_app(ctx=ctx), headers=HTML, follow_redirects=False)


def _sign_in(client, employee):
    form = client.get("/login")
    response = client.post("/login", data={"email": employee.email, "password": DEFAULT_PASSWORD,
                                           "login_csrf": _hidden(form.text, "login_csrf")})
    assert response.status_code == 303
    return _hidden(client.get("/identity/discover").text, "csrf_token")


def test_an_agent_finds_the_card_on_a_thiefs_account(client, session, ctx, retail):
    jane = retail.account("Jane Q. Doe", "jane.doe@example.com", "217-555-0143", JANE_DOB)
    retail.card(jane, "4111111111111111", "Jane Doe", retail.address(jane, "12 Oak St", "Apt 4B"))
    thief = retail.account("Mallory Smith", "mallory@example.net")
    retail.card(thief, "4111111111111111", "Mallory Smith",
                retail.address(thief, "9 Elm Road", city="Dover", region="DE", postal="19901",
                               kind=AddressKind.shipping))
    import_callback(ctx.keys)(session, "accounts", [jane.id, thief.id])
    agent = make_employee(session, role=Role.agent)
    case = cases.open_case(session, case_type=CaseType.insider_investigation, customer_id=thief.external_id,
                           title="Card on two accounts", actor=None, assignee=agent)
    session.flush()
    csrf = _sign_in(client, agent)
    form = client.get("/identity/discover").text
    assert f'value="case:{case.id}"' in form
    without = client.post("/identity/discover", data={"csrf_token": csrf, "names": "Jane Doe"})
    assert without.status_code == 422 and "only under a purpose" in without.text
    page = client.post("/identity/discover", data={
        "csrf_token": csrf, "purpose": f"case:{case.id}",
        "names": "Jane Doe", "emails": "jane.doe@example.com", "line1": "12 Oak Street",
        "line2": "Apt 4B", "city": "Springfield", "region": "IL", "postal_code": "62704",
        "card_numbers": "4111 1111 1111 1111"})
    assert page.status_code == 200, page.text
    assert f'data-match="{thief.external_id}" data-verdict="suspected_fraud"' in page.text
    assert "Card ending 1111" in page.text
    assert "Mallory" not in page.text and "4111 1111 1111 1111" not in page.text

    refused = client.post("/identity/discover", data={"csrf_token": csrf, "purpose": f"case:{case.id}",
                                                      "emails": "not an email"})
    assert refused.status_code == 422 and "emails[0]" in refused.text


def test_the_page_needs_sign_in(client):
    response = client.get("/identity/discover")
    assert response.status_code in (303, 401)
