"""The public portal: no account, plain pages, the form keeps what was typed, one request per form, the status link."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from requestutil import PDF, PNG
from sqlalchemy import func, select

from ombud.app import create_app
from ombud.notify.models import OutboxMessage
from ombud.victim_requests import service
from ombud.victim_requests.models import RequestEvidence, VictimRequest
from ombud.victim_requests.states import Status

FORM = {"full_name": "Jane Quinn Doe", "email": "jane.doe@example.com", "phone": "217-555-0143",
        "line1": "12 Oak Street", "line2": "Apt 4B", "city": "Springfield", "region": "IL", "postal_code": "62704",
        "date_of_birth": "07/19/1984", "ssn": "123-45-6789", "card_numbers": "4111 1111 1111 1111",
        "contact_preference": "email", "statement_true": "yes", "report_kind": "ftc"}


@pytest.fixture
def web(ctx):
    return TestClient(create_app(ctx=ctx), headers={"accept": "text/html"}, follow_redirects=False)


def _key(html):
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def _count(session):
    return session.scalar(select(func.count()).select_from(VictimRequest))


def test_the_public_pages_need_no_account(web, ctx):
    how = web.get("/request/how")
    assert how.status_code == 200 and ctx.settings.requests_email in how.text and "30 days" in how.text
    assert "never have to tell us who did it" in how.text
    form = web.get("/request")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text and "<script" not in form.text
    for name in ("full_name", "email", "date_of_birth", "government_id", "affidavit"):
        assert f'for="f-{name}"' in form.text and f'id="f-{name}"' in form.text
    assert web.get("/request/affidavit").status_code == 200


def test_a_submission_with_files_then_its_status_page(web, session, frozen):
    key = _key(web.get("/request").text)
    files = {"government_id": ("licence.png", PNG, "image/png"), "report": ("ftc.pdf", PDF, "application/pdf")}
    sent = web.post("/request", data={**FORM, "idempotency_key": key}, files=files)
    assert sent.status_code == 303, sent.text
    link = sent.headers["location"]
    again = web.post("/request", data={**FORM, "idempotency_key": key}, files=files)
    assert again.headers["location"] == link and _count(session) == 1
    status = web.get(link)
    assert status.status_code == 200 and "Received" in status.text and "December 2, 2026" in status.text
    request = session.scalars(select(VictimRequest)).one()
    assert request.reference in status.text and "jane" not in status.text.lower()
    receipt = session.scalars(select(OutboxMessage)).one()  # one receipt, though the form came twice
    assert receipt.template == "victim_request_receipt" and receipt.to_address == "jane.doe@example.com"
    assert request.reference in receipt.body_text and "December 2, 2026" in receipt.body_text
    assert link in receipt.body_text and receipt.purpose == f"victim_request:{request.id}"
    kinds = sorted(e.kind.value for e in session.scalars(select(RequestEvidence)))
    assert kinds == ["ftc_report", "government_id"]
    request.status = Status.needs_information
    session.flush()
    more = web.post(f"{link}/files", data={"kind": "affidavit"}, files={"file": ("a.pdf", PDF, "application/pdf")})
    assert more.status_code == 303
    session.refresh(request)
    assert request.status is Status.verifying
    assert web.get("/request/status/" + "x" * 64).status_code == 404


def test_a_form_with_mistakes_comes_back_with_each_field_named_and_kept(web, session):
    bad = {**FORM, "email": "jane at example", "date_of_birth": "99/99/1984", "statement_true": ""}
    page = web.post("/request", data={**bad, "idempotency_key": "k" * 24})
    assert page.status_code == 422
    for name in ("email", "date_of_birth", "statement_true"):
        assert f'id="e-{name}"' in page.text
    assert 'value="jane at example"' in page.text and 'value="Jane Quinn Doe"' in page.text
    assert "123-45-6789" not in page.text and "4111" not in page.text
    assert _count(session) == 0


def test_a_refused_upload_writes_nothing_and_says_which_file(web, session):
    page = web.post("/request", data={**FORM, "idempotency_key": "z" * 24},
                    files={"affidavit": ("affidavit.pdf", b"<html>not a pdf</html>", "application/pdf")})
    assert page.status_code == 422 and 'id="e-affidavit"' in page.text
    assert _count(session) == 0 and session.scalar(select(func.count()).select_from(RequestEvidence)) == 0
    assert service.MAX_FILES >= 3


def test_the_portal_takes_evidence_files_up_to_the_upload_limit(web, session, frozen, ctx):
    # The server's default body limit is far below one scanned ID; the upload routes must take what the form
    # promises (each file up to OMBUD_REQUESTS_MAX_UPLOAD_MB), and still refuse a body beyond every file's limit.
    big = b"%PDF-1.4\n%" + b"0" * (5 * 1024 * 1024) + b"\n" + PDF[len(b"%PDF-1.4\n"):]  # a 5 MB scan
    assert len(big) > ctx.settings.request_max_bytes
    key = _key(web.get("/request").text)
    sent = web.post("/request", data={**FORM, "idempotency_key": key},
                    files={"report": ("ftc-report.pdf", big, "application/pdf")})
    assert sent.status_code == 303, sent.text[:300]
    request = session.scalars(select(VictimRequest)).one()
    assert session.scalar(select(func.count()).select_from(RequestEvidence)
                          .where(RequestEvidence.request_id == request.id)) == 1
    limit = 3 * ctx.settings.requests_max_upload_mb * 1024 * 1024 + 1024 * 1024
    too_big = web.post("/request", data={**FORM, "idempotency_key": _key(web.get("/request").text)},
                       files={"report": ("huge.pdf", PDF + b"0" * limit, "application/pdf")})
    assert too_big.status_code == 413 and _count(session) == 1
