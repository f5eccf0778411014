"""The outbox console page: dead letters listed with masked recipients, retried by a button; template preview."""

from __future__ import annotations

import re

from ombud.notify import templates
from ombud.notify.models import MailStatus
from ombud.notify.outbox import enqueue_mail
from pages import every_row

SAMPLE = templates.sample_context("records_package_ready")


def test_dead_letters_page_and_retry(session, browser, settings):
    client, csrf = browser
    message = enqueue_mail(session, to="jordan@example.com", template="records_package_ready", context=SAMPLE,
                           dedupe_key="w1", purpose="victim_request:VR-9", settings=settings)
    message.status = MailStatus.dead
    message.last_error = "recipient refused (550)"
    session.commit()
    page = client.get("/outbox")
    assert page.status_code == 200
    assert "recipient refused (550)" in page.text and "victim_request:VR-9" in page.text
    assert "jordan@example.com" not in page.text and "j•••@example.com" in page.text
    assert SAMPLE["link"] not in page.text  # bodies (download links) are not shown
    response = client.post(f"/outbox/mail/{message.id}/retry", data={"csrf_token": csrf})
    assert response.status_code == 303
    session.refresh(message)
    assert message.status is MailStatus.pending


def test_template_preview_names_a_missing_field(browser):
    client, csrf = browser
    page = client.get("/outbox/templates/records_package_ready")
    assert page.status_code == 200 and "VR-2026-000123" in page.text
    broken = client.post("/outbox/templates/records_package_ready",
                         data={"csrf_token": csrf, "context": '{"reference": "VR-1"}'})
    assert broken.status_code == 422
    assert re.search(r"&#39;\w+&#39; is undefined", broken.text)
    html = client.get("/outbox/templates/records_package_ready/html")
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]


def test_agents_cannot_open_the_outbox(app, session, settings):
    from fastapi.testclient import TestClient

    from ombud.staff import service as staff_service
    from ombud.staff.models import Role
    from ombud.staff.testing import make_employee

    agent = make_employee(session, role=Role.agent, password=None)
    started = staff_service.start_session(session, settings, agent, ip="127.0.0.1", user_agent="pytest")
    session.flush()
    client = TestClient(app, headers={"accept": "text/html"}, follow_redirects=False)
    client.cookies.set("ombud_session", started.token)
    assert client.get("/outbox").status_code == 403


def test_the_outbox_pages_back_through_every_message_of_a_status(session, browser, settings):
    client, _ = browser
    made = [enqueue_mail(session, to=f"p{i}@example.com", template="records_package_ready", context=SAMPLE,
                         dedupe_key=f"page{i}", purpose="lookback:run-1", settings=settings).id for i in range(230)]
    session.commit()
    seen = [int(x) for x in every_row(client, "/outbox?status=pending&purpose=lookback", "data-message",
                                      next_link=r'rel="next" data-older="mail" href="([^"]+)"')]
    assert seen == sorted(made, reverse=True)  # every one once, newest first, 100 at a time
