"""Notify fixtures: a real SMTP server on 127.0.0.1 that dedupes by Message-ID, settings that send to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from ombud.db import make_sessionmaker
from ombud.notify import outbox
from ombud.notify.models import OutboxMessage, WebhookDelivery
from ombud.notify.sink import DedupingHandler, SmtpSink, running_sink


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_sink(DedupingHandler()) as server:
        yield server


@pytest.fixture
def smtp_settings(settings, sink):
    """Settings sending through the test server, fast retries."""
    updated = settings.model_copy(update={
        "mailer": "smtp", "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_starttls": False,
        "smtp_timeout_seconds": 5.0, "outbox_backoff_seconds": 1.0, "outbox_max_attempts": 3,
    })
    outbox.configure(updated)
    yield updated
    outbox.configure(settings)


@pytest.fixture
def committed(engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit (for workers in other processes); the notify tables are emptied after."""
    factory = make_sessionmaker(engine)
    yield factory
    with factory() as session, session.begin():
        session.execute(delete(OutboxMessage))
        session.execute(delete(WebhookDelivery))


HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def officer(session):
    from ombud.staff.models import Role
    from ombud.staff.testing import make_employee

    return make_employee(session, role=Role.privacy_officer, password=None)


@pytest.fixture
def browser(app, session, settings, officer):
    """A browser-like client signed in as a privacy officer, and the session's CSRF token."""
    from fastapi.testclient import TestClient

    from ombud.staff import service as staff_service

    started = staff_service.start_session(session, settings, officer, ip="127.0.0.1", user_agent="pytest")
    session.flush()
    client = TestClient(app, headers=HTML, follow_redirects=False)
    client.cookies.set("ombud_session", started.token)
    return client, started.record.csrf_token
