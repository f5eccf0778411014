"""The audit page: latest checkpoint, its status, recent events, and a full verification on request."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ombud.app import create_app
from ombud.audit import checkpoint as checkpoints
from ombud.audit import service
from ombud.audit.events import AuditEvent
from ombud.staff.models import Role
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing, make_employee

HTML = {"accept": "text/html"}


def _hidden(html, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


@pytest.fixture
def browser(ctx, session):
    """A browser signed in as a privacy officer; returns (client, csrf token)."""
    client = TestClient(create_app(ctx=ctx), headers=HTML, follow_redirects=False)

    def sign_in(role):
        with fast_password_hashing():
            employee = make_employee(session, role=role)
            form = client.get("/login")
            response = client.post("/login", data={
                "email": employee.email, "password": DEFAULT_PASSWORD, "login_csrf": _hidden(form.text, "login_csrf"),
            })
        assert response.status_code == 303, response.text
        return client

    return sign_in


def _fill(session, ctx):
    """Five reads, a checkpoint, one grant; returns the reads' indexes, the checkpoint size and the grant's index."""
    reads = service.append_events(session, [
        AuditEvent("access.read", "employee", "E-1", customer_id=f"C-{i}", fields=("email",), purpose="case:9")
        for i in range(5)
    ])
    size = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings).checkpoint.tree_size
    grant = service.append_event(session, AuditEvent("access.grant.approve", "employee", "E-2", customer_id="C-1"))
    return reads, size, grant


def test_the_page_shows_the_checkpoint_status_and_recent_events(browser, session, ctx):
    client = browser(Role.privacy_officer)  # signing in is itself an audited event
    reads, size, grant = _fill(session, ctx)
    page = client.get("/audit")
    assert page.status_code == 200
    assert f"data-checkpoint-size>{size}<" in page.text
    assert f"data-log-size>{service.log_size(session)}<" in page.text
    assert 'data-status="ok"' in page.text
    assert page.text.index(f'data-index="{grant}"') < page.text.index(f'data-index="{reads[0]}"')  # newest first
    assert "access.grant.approve" in page.text
    filtered = client.get("/audit?customer_id=C-1")
    assert f'data-index="{reads[1]}"' in filtered.text and f'data-index="{grant}"' in filtered.text
    assert f'data-index="{reads[2]}"' not in filtered.text
    home = client.get("/")
    assert 'href="/audit"' in home.text


def test_events_name_the_staff_and_page_back_through_the_whole_log(browser, session, ctx):
    client = browser(Role.privacy_officer)
    agent = make_employee(session, role=Role.agent, name="Rosa Parks-Lee")
    reads = service.append_events(session, [
        AuditEvent("access.read", "employee", agent.external_id, customer_id=f"C-{i}", fields=("email",))
        for i in range(120)
    ])
    page = client.get("/audit?action=access.read")
    assert f"Rosa Parks-Lee <span class=\"muted\">({agent.external_id})</span>" in page.text
    shown = [int(i) for i in re.findall(r'data-index="(\d+)"', page.text)]
    assert shown == reads[::-1][:50]
    seen = list(shown)
    while (older := re.search(r'rel="next" href="([^"]+)"', page.text)) is not None:
        page = client.get(older.group(1).replace("&amp;", "&"))
        assert "action=access.read" in older.group(1)  # the filter is kept
        seen += [int(i) for i in re.findall(r'data-index="(\d+)"', page.text)]
    assert seen == reads[::-1]  # every read once, newest first, nothing skipped
    assert 'href="/audit?action=access.read">Newest events' in page.text


def test_full_verification_from_the_page_reports_tampering(browser, session, ctx):
    client = browser(Role.security_analyst)
    reads, _, _ = _fill(session, ctx)
    csrf = _hidden(client.get("/audit").text, "csrf_token")
    ok = client.post("/audit/verify", data={"csrf_token": csrf})
    assert ok.status_code == 200 and 'data-report="ok"' in ok.text
    session.execute(text("UPDATE audit_event SET purpose = 'case:8' WHERE idx = :i"), {"i": reads[3]})
    bad = client.post("/audit/verify", data={"csrf_token": csrf})
    assert 'data-report="failed"' in bad.text and f"event {reads[3]}" in bad.text
    # The quick check covers signatures and the stored tree only; the edited event shows in the full run.
    assert 'data-status="ok"' in bad.text


def test_agents_cannot_see_the_audit_page(browser):
    client = browser(Role.agent)
    assert client.get("/audit").status_code == 403
    assert 'href="/audit"' not in client.get("/").text
