"""A victim's evidence files are opened only through the access broker, with their request as purpose: one
decision leaf per opening (refusals too), the file decrypted only when the policies allow, never logged."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from requestutil import JANE, PDF, PNG, leaves, make_request
from sqlalchemy import select
from typer.testing import CliRunner

from ombud.access import documents, events, versions
from ombud.access.classes import DataClass
from ombud.access.models import Decision, PurposeKind
from ombud.access.policy import Principal, default_engine
from ombud.app import create_app
from ombud.audit.models import AuditEntry
from ombud.cli import common
from ombud.cli.main import app as cli_app
from ombud.errors import InvalidInput, NotFound
from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing, make_employee
from ombud.victim_requests import service, workflow
from ombud.victim_requests.models import EvidenceKind, RequestEvidence
from ombud.victim_requests.states import Status

FILE_NAME = "jane-doe-passport-scan.pdf"


@pytest.fixture
def filed(session, ctx, frozen, staff):
    """Jane's request with her government ID and an affidavit, assigned to the requests team's agent (the policy
    set's version is on the record already, as in any running store)."""
    versions.ensure_recorded(session, default_engine())
    uploads = [service.Upload(EvidenceKind.government_id, FILE_NAME, PDF, field="government_id"),
               service.Upload(EvidenceKind.affidavit, "affidavit.png", PNG, field="affidavit")]
    request = make_request(session, ctx, JANE, uploads=uploads).request
    service.assign(session, request, actor=staff["officer"], assignee=staff["agent"])
    files = session.scalars(select(RequestEvidence).where(RequestEvidence.request_id == request.id)
                            .order_by(RequestEvidence.id)).all()
    return request, {f.kind: f for f in files}


@pytest.fixture
def decrypted(monkeypatch):
    """The files the service decrypted, in order (by content hash length: the bytes themselves are not kept)."""
    calls: list[int] = []
    real = service.open_bytes

    def counting(keys, blob, context):
        data = real(keys, blob, context)
        calls.append(len(data))
        return data

    monkeypatch.setattr(service, "open_bytes", counting)
    return calls


def _open(session, ctx, request, evidence, employee):
    return service.open_evidence(session, ctx.keys, request, evidence.id, employee, channel="console")


def _leaf(session, index):
    return session.scalars(select(AuditEntry).where(AuditEntry.idx == index)).one()


def _detail(leaf):
    return json.loads(leaf.detail) if isinstance(leaf.detail, str) else leaf.detail


def test_the_worker_of_the_request_opens_a_file_as_one_brokered_decision(session, ctx, staff, filed, decrypted):
    request, files = filed
    before = leaves(session)
    opened = _open(session, ctx, request, files[EvidenceKind.government_id], staff["agent"])
    assert opened.decision.allowed and opened.data == PDF and decrypted == [len(PDF)]
    assert leaves(session) == before + 1
    leaf = _leaf(session, opened.decision.audit_index)
    assert (leaf.action, leaf.decision, leaf.customer_id) == ("access.read", "allow", None)
    assert (leaf.subject_type, leaf.subject_id, leaf.purpose) == ("request", str(request.id), f"request:{request.id}")
    assert _detail(leaf)["document_kind"] == "government_id" and _detail(leaf)["channel"] == "console"
    assert "evidence.request_worker" in _detail(leaf)["policy_ids"]
    # The decision is read back where every access decision is read: the view over the log.
    seen = events.get(session, opened.decision.audit_index)
    assert seen is not None and seen.decision is Decision.allowed and seen.customer_id is None
    assert seen.purpose == f"request:{request.id}" and seen.classes_allowed == (DataClass.evidence,)
    assert seen.fields == ("evidence",) and seen.case_type == "victim_request"
    # Nothing of the file is on the record: not its name, not its bytes.
    record = repr((leaf.detail, leaf.fields, leaf.purpose))
    assert FILE_NAME not in record and "passport" not in record and "PDF" not in record


def test_another_agent_is_refused_on_the_record_and_nothing_is_decrypted(session, ctx, staff, filed, decrypted):
    request, files = filed
    before = leaves(session)
    opened = _open(session, ctx, request, files[EvidenceKind.affidavit], staff["other_agent"])
    assert not opened.decision.allowed and opened.data is None and decrypted == []
    assert "assigned" in opened.decision.reason
    assert leaves(session) == before + 1
    seen = events.get(session, opened.decision.audit_index)
    assert seen.decision is Decision.denied and seen.classes_allowed == ()
    assert seen.employee_id == staff["other_agent"].id
    # A colleague in the request's team may work it, so may open it.
    teammate = make_employee(session, role=Role.agent, team=staff["agent"].team)
    assert _open(session, ctx, request, files[EvidenceKind.affidavit], teammate).data == PNG


@pytest.mark.parametrize("role", [Role.security_analyst, Role.admin])
def test_roles_that_do_not_work_requests_are_refused(session, ctx, staff, filed, decrypted, role):
    request, files = filed
    outsider = make_employee(session, role=role, team=staff["agent"].team)
    opened = _open(session, ctx, request, files[EvidenceKind.affidavit], outsider)
    assert opened.data is None and decrypted == [] and opened.decision.decision is Decision.denied


def test_without_the_request_as_purpose_the_file_stays_shut(session, ctx, staff, filed, frozen):
    request, files = filed
    evidence = files[EvidenceKind.affidavit]
    other = make_request(session, ctx, {**JANE, "email": "someone.else@example.com"}).request
    cases = {
        None: "no purpose",
        "case:1": "name its request",
        f"grant:{request.id}": "name its request",
        f"request:{other.id}": "holds no file",
        "request:999999": "no victim request",
    }
    for purpose, reason in cases.items():
        before = leaves(session)
        decided = documents.open_document(session, staff["officer"], document_id=evidence.id, purpose=purpose)
        assert not decided.allowed and reason in decided.reason, purpose
        assert leaves(session) == before + 1, purpose
        assert _leaf(session, decided.audit_index).decision == "deny"
    with pytest.raises(InvalidInput):  # not a purpose at all: bad input, before any decision
        documents.open_document(session, staff["officer"], document_id=evidence.id, purpose="because")
    with pytest.raises(NotFound):  # a file of another request, asked for under this one's address
        service.open_evidence(session, ctx.keys, other, evidence.id, staff["officer"])


def test_the_government_id_is_shut_to_agents_once_identity_is_verified(session, ctx, staff, filed):
    request, files = filed
    workflow.verify(session, ctx.keys, request, actor=staff["agent"], confident=True,
                    basis=["government_id_checked"])
    assert request.status is Status.verified
    shut = _open(session, ctx, request, files[EvidenceKind.government_id], staff["agent"])
    assert shut.data is None and shut.decision.policy_ids == ("evidence.id_after_verification",)
    assert _open(session, ctx, request, files[EvidenceKind.affidavit], staff["agent"]).data == PNG
    assert _open(session, ctx, request, files[EvidenceKind.government_id], staff["officer"]).data == PDF


def test_after_the_request_ends_only_a_privacy_officer_opens_its_files_and_only_for_30_days(
        session, ctx, staff, filed, frozen):
    request, files = filed
    affidavit = files[EvidenceKind.affidavit]
    decline = workflow.propose_decline(session, request, actor=staff["officer"], ground="identity_not_confirmed",
                                       explanation="Two requests for information went unanswered; the ID differs.")
    workflow.review_decline(session, ctx.keys, request, decline.id, actor=staff["officer2"], confirm=True)
    assert request.status is Status.declined
    assert _open(session, ctx, request, affidavit, staff["agent"]).data is None
    frozen.advance(timedelta(days=30))
    assert _open(session, ctx, request, affidavit, staff["officer"]).data == PNG
    frozen.advance(timedelta(days=1))
    late = _open(session, ctx, request, affidavit, staff["officer"])
    assert late.data is None and late.decision.decision is Decision.denied


def test_a_customer_read_never_shows_evidence(session):
    engine = default_engine()
    officer = Principal(employee_id=1, role="privacy_officer", team="Privacy", serves=("*",), daily_limit=500,
                        shift_start=0, shift_end=24)
    context = {"purpose": "case", "case_type": "victim_request", "case_origin": "victim_request", "granted": [],
               "customer_country": "US", "local_hour": 12, "reads_today": 1}
    decided = engine.decide(officer, [DataClass.contact, DataClass.evidence], context, "C1")
    assert decided[DataClass.contact].allowed and not decided[DataClass.evidence].allowed
    assert "evidence.not_by_read" in decided[DataClass.evidence].policy_ids


def test_opening_a_file_logs_nothing_of_it(session, ctx, staff, filed, caplog):
    request, files = filed
    with caplog.at_level(logging.DEBUG):
        _open(session, ctx, request, files[EvidenceKind.government_id], staff["agent"])
        _open(session, ctx, request, files[EvidenceKind.government_id], staff["other_agent"])
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert FILE_NAME not in text and "passport" not in text and PDF.decode("latin-1") not in text


def test_the_api_and_the_console_open_files_through_the_broker(session, ctx, staff, filed):
    request, files = filed
    evidence = files[EvidenceKind.affidavit]
    api = TestClient(create_app(ctx=ctx))
    headers = {}
    for name in ("agent", "other_agent"):
        token = staff_service.create_api_token(session, staff[name], name="t").token
        headers[name] = {"authorization": f"Bearer {token}"}
    path = f"/api/victim-requests/{request.reference}/evidence/{evidence.id}"
    before = leaves(session)
    allowed = api.get(path, headers=headers["agent"])
    assert allowed.status_code == 200 and allowed.content == PNG
    refused = api.get(path, headers=headers["other_agent"])
    assert refused.status_code == 403 and PNG not in refused.content
    body = refused.json()
    assert body["decision"] == "denied" and body["purpose"] == f"request:{request.id}"
    # The refusal was committed with its leaf: it is on the record, as the view shows.
    assert leaves(session) == before + 2
    seen = events.get(session, body["audit_index"])
    assert seen.decision is Decision.denied and seen.purpose_kind is PurposeKind.request
    assert _detail(_leaf(session, body["audit_index"]))["channel"] == "api"


def test_the_command_line_opens_a_file_as_the_token_holder(session, ctx, staff, filed, tmp_path, monkeypatch):
    request, files = filed
    evidence = files[EvidenceKind.government_id]

    class _Ctx:
        def __getattr__(self, name):
            return getattr(ctx, name)

        def close(self):
            pass

    monkeypatch.setattr(common, "context", lambda: _Ctx())
    runner = CliRunner()
    token = staff_service.create_api_token(session, staff["agent"], name="shell").token
    out = tmp_path / "id.pdf"
    done = runner.invoke(cli_app, ["requests", "evidence", request.reference, str(evidence.id), "--out", str(out),
                                   "--token", token], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == PDF and (out.stat().st_mode & 0o077) == 0
    other = staff_service.create_api_token(session, staff["other_agent"], name="shell").token
    refused = runner.invoke(cli_app, ["requests", "evidence", request.reference, str(evidence.id), "--out",
                                      str(tmp_path / "no.pdf"), "--token", other], catch_exceptions=False)
    assert refused.exit_code == 3 and not (tmp_path / "no.pdf").exists()
    last = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.read")
                           .order_by(AuditEntry.idx.desc()).limit(2)).all()
    assert [e.decision for e in last] == ["deny", "allow"]
    assert all(_detail(e)["channel"] == "cli" and _detail(e)["operator"] for e in last)


def test_the_request_page_links_open_files_through_the_broker(session, ctx, staff, filed):
    request, files = filed
    evidence = files[EvidenceKind.affidavit]
    link = f"/requests/{request.reference}/evidence/{evidence.id}"
    with fast_password_hashing():
        for name, status in (("agent", 200), ("other_agent", 403)):
            browser = TestClient(create_app(ctx=ctx), headers={"accept": "text/html"}, follow_redirects=False)
            form = browser.get("/login")
            csrf = re.search(r'name="login_csrf" value="([^"]*)"', form.text).group(1)
            signed = browser.post("/login", data={"email": staff[name].email, "password": DEFAULT_PASSWORD,
                                                  "login_csrf": csrf})
            assert signed.status_code == 303
            if name == "agent":
                assert link in browser.get(f"/requests/{request.reference}").text
            before = leaves(session)
            opened = browser.get(link)
            assert opened.status_code == status and leaves(session) == before + 1
            if status == 200:
                assert opened.content == PNG and opened.headers["cache-control"] == "no-store"
            else:
                assert PNG not in opened.content and "assigned" in opened.text
