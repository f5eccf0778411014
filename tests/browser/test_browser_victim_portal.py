"""A victim in a real browser with JavaScript switched off: the portal's form, a mistake kept and named, an upload,
the receipt page with the reference and the due date, and the status page behind the secret link."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from ombud.db import transaction
from ombud.notify.models import OutboxMessage
from ombud.victim_requests.models import RequestEvidence, VictimRequest

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def no_script_page(chromium, live_server):
    context = chromium.new_context(base_url=live_server, java_script_enabled=False, viewport={"width": 390,
                                                                                              "height": 844})
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


@pytest.fixture
def cleanup(server_ctx):
    references: list[str] = []
    yield references
    with transaction(server_ctx.sessions) as session:
        for reference in references:
            found = session.scalar(select(VictimRequest).where(VictimRequest.reference == reference))
            if found is not None:
                session.execute(delete(OutboxMessage).where(OutboxMessage.purpose == f"victim_request:{found.id}"))
                session.delete(found)


def test_a_victim_asks_without_javascript_and_uploads_a_report(no_script_page, server_ctx, cleanup, tmp_path):
    page = no_script_page
    page.goto("/request")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Ask for the records")
    page.get_by_label("Your full name").fill("Jane Quinn Doe")
    page.get_by_label("Email address", exact=True).fill("jane at example")  # a mistake
    page.get_by_label("Date of birth").fill("1984-07-19")
    page.get_by_label("Street address", exact=True).fill("12 Oak Street")
    page.get_by_label("City", exact=True).fill("Springfield")
    page.get_by_label("State", exact=True).fill("IL")
    page.get_by_label("ZIP code", exact=True).fill("62704")
    report = tmp_path / "ftc-report.pdf"
    report.write_bytes(PDF)
    page.get_by_label("The report").set_input_files(str(report))
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Send my request").click()

    assert "Please check 1 answer" in page.content()
    assert page.get_by_label("Your full name").input_value() == "Jane Quinn Doe"  # what was typed is kept
    assert page.get_by_label("Email address", exact=True).get_attribute("aria-invalid") == "true"
    page.get_by_label("Email address", exact=True).fill("jane.doe@example.com")
    page.get_by_label("The report").set_input_files(str(report))  # a browser never keeps a chosen file
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Send my request").click()

    page.wait_for_url("**/request/status/**")
    text = page.inner_text("main")
    assert "Your request VR-" in text and "We will answer by" in text and "Received" in text
    reference = text.split("Your request ", 1)[1].split()[0]
    cleanup.append(reference)
    with transaction(server_ctx.sessions) as session:
        request = session.scalar(select(VictimRequest).where(VictimRequest.reference == reference))
        kinds = [e.kind.value for e in session.scalars(select(RequestEvidence)
                                                        .where(RequestEvidence.request_id == request.id))]
    assert kinds == ["ftc_report"]
    page.reload()  # the secret link keeps working: it is the victim's way back
    assert reference in page.inner_text("h1")
