"""Notices: each customer's own items, strict preview, approval before sending, exactly once, delivery state,
letters, regulator reports and deadline tracking."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

import pytest
from accessutil import employee
from incidentutil import build, open_for
from pypdf import PdfReader
from sqlalchemy import func, select, update

from ombud.errors import InvalidInput, NotFound, PolicyDenied
from ombud.incidents import notices, reports, rules, tracking
from ombud.incidents import scope as scoping
from ombud.incidents.letters import print_letters
from ombud.incidents.models import IncidentDeadline, IncidentStatus, Notice, NoticeChannel
from ombud.notify.models import OutboxMessage
from ombud.retail.models import Account
from ombud.staff.models import Role


@pytest.fixture
def scoped(ctx, session, frozen):
    """The scenario, scoped, with the wording written; the Texan customer has no email (a letter)."""
    s = build(session, frozen)
    session.execute(update(Account).where(Account.external_id == s.customers["tx"].external_id).values(email=None))
    incident = open_for(session, s, frozen)
    incident.what_happened = "An employee looked up customers' details without a reason and sold them."
    incident.what_we_are_doing = "We ended the employee's access and now review every look daily."
    session.commit()
    scoping.scope_incident(ctx, incident.id, s.bystander.id)
    session.refresh(incident)
    officer = employee(session, Role.privacy_officer)
    return s, incident, officer


def _outbox(session, incident):
    return session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == f"incident:{incident.id}")).all()


def test_dry_run_counts_and_a_masked_sample_with_their_own_items(ctx, session, scoped):
    _, incident, _ = scoped
    run = notices.dry_run(session, incident, scoping.current_scope(session, incident), ctx.settings)
    assert run.customers == 4 and run.problems == []
    assert run.by_jurisdiction["TX"] == {"customers": 1, "letter": 1}
    assert run.by_jurisdiction["CA"] == {"customers": 1, "email": 1}
    ca = run.samples["CA"].text
    for heading in ("Notice of Data Breach", "What Happened", "What Information Was Involved", "What We Are Doing",
                    "What You Can Do", "For More Information"):
        assert heading in ca
    assert "your email address" in ca and "your phone number" in ca and "your orders (" not in ca  # theirs only
    assert "Jane Quinn Doe" not in ca and "J. Q. D." in ca  # staff preview masks the name
    tx = run.samples["TX"].text
    assert "your orders (items, totals and dates)" in tx and "cards on your account" not in tx  # masked: not listed
    assert _outbox(session, incident) == []  # a dry run queues nothing


def test_a_template_missing_a_field_fails_at_preview_not_at_send(ctx, session, scoped, tmp_path):
    _, incident, officer = scoped
    (tmp_path / "incident_notice.txt.j2").write_text("{{ title }}\n{{ refund_amount }}\n")
    broken = ctx.settings.model_copy(update={"mail_templates_dir": tmp_path})
    run = notices.dry_run(session, incident, scoping.current_scope(session, incident), broken)
    assert run.problems and "refund_amount" in run.problems[0]
    with pytest.raises(InvalidInput, match="refund_amount"):
        notices.approve(session, incident, officer, broken)
    (tmp_path / "incident_notice.txt.j2").write_text("{{ title }}\nDear {{ name }}\n")
    with pytest.raises(InvalidInput, match="What Happened"):  # a required heading left out
        notices.approve(session, incident, officer, broken)
    assert incident.status is IncidentStatus.scoped


def test_sending_needs_a_privacy_officers_approval(ctx, session, scoped):
    _, incident, officer = scoped
    analyst = employee(session, Role.security_analyst)
    with pytest.raises(PolicyDenied):
        notices.send(session, incident, analyst, ctx.settings)
    with pytest.raises(PolicyDenied):
        notices.approve(session, incident, analyst, ctx.settings)
    notices.approve(session, incident, officer, ctx.settings)
    assert incident.status is IncidentStatus.approved and incident.approved_by_id == officer.id
    result = notices.send(session, incident, analyst, ctx.settings)
    assert (result.emails, result.letters) == (3, 1)
    assert incident.status is IncidentStatus.notifying


def test_nothing_is_queued_twice(ctx, session, scoped, frozen):
    _, incident, officer = scoped
    notices.approve(session, incident, officer, ctx.settings)
    notices.send(session, incident, officer, ctx.settings)
    session.commit()
    assert len(_outbox(session, incident)) == 3
    # A wider window adds a customer: a new scope, a new approval, and only the new customer is sent to.
    incident.window_end = frozen.current + timedelta(minutes=1)
    session.commit()
    scoping.scope_incident(ctx, incident.id, officer.id)
    session.refresh(incident)
    notices.approve(session, incident, officer, ctx.settings)
    again = notices.send(session, incident, officer, ctx.settings)
    assert (again.emails, again.skipped) == (1, 4)
    keys = [m.dedupe_key for m in _outbox(session, incident)]
    assert len(keys) == len(set(keys)) == 4
    per_customer = session.execute(select(Notice.customer_id, func.count()).where(Notice.incident_id == incident.id)
                                   .group_by(Notice.customer_id)).all()
    assert all(n == 1 for _, n in per_customer) and len(per_customer) == 5


def test_delivery_state_follows_the_outbox_and_a_resend_takes_a_new_key(ctx, session, scoped):
    from ombud.notify.mailer import FileMailer
    from ombud.notify.worker import OutboxWorker

    s, incident, officer = scoped
    notices.approve(session, incident, officer, ctx.settings)
    notices.send(session, incident, officer, ctx.settings)
    session.commit()
    worker = OutboxWorker(ctx.settings, ctx.sessions, mailer=FileMailer(ctx.settings.data_dir / "mail",
                                                                        ctx.settings.mail_from))
    worker.drain()
    mine = list(_outbox(session, incident))
    assert {m.status.value for m in mine} == {"sent"}
    assert notices.delivery_counts(session, incident.id) == {"email sent": 3, "letter queued": 1}
    ca = s.customers["ca"].external_id
    notice = notices.resend(session, incident, ca, officer, ctx.settings)
    assert notice.sends == 2 and notice.dedupe_key.endswith(":2")
    assert notices.delivery_counts(session, incident.id)["email queued"] == 1
    eml = list((ctx.settings.data_dir / "mail").glob("*.eml"))
    assert len(eml) == 3 and any("What Information Was Involved" in p.read_text() for p in eml)


def test_letters_print_once_as_one_pdf(ctx, session, scoped, tmp_path):
    _, incident, officer = scoped
    notices.approve(session, incident, officer, ctx.settings)
    notices.send(session, incident, officer, ctx.settings)
    run = print_letters(session, incident, officer, ctx.settings, tmp_path)
    assert run.letters == 1
    text = "".join(page.extract_text() for page in PdfReader(run.pdf).pages)
    assert "Notice of Data Breach" in text and "What Information Was Involved" in text and "Springfield" in text
    assert print_letters(session, incident, officer, ctx.settings, tmp_path).letters == 0
    assert notices.delivery_counts(session, incident.id)["letter printed"] == 1


def test_regulator_report_and_deadline_tracking(ctx, session, scoped, frozen, monkeypatch):
    _, incident, officer = scoped
    deadlines = {(d.jurisdiction, d.kind.value): d for d in session.scalars(
        select(IncidentDeadline).where(IncidentDeadline.incident_id == incident.id))}
    assert deadlines[("TX", "individuals")].due_at == incident.discovered_at + timedelta(days=60)
    assert deadlines[("CA", "individuals")].due_at == incident.discovered_at + timedelta(days=30)
    with pytest.raises(NotFound, match="owes no regulator report"):
        reports.report(session, incident, "TX", ctx.settings)
    # Rules are data: with Texas's threshold at one resident, this incident owes the Attorney General a report.
    table = dict(rules.load_rules())
    table["TX"] = dataclasses.replace(table["TX"], regulator_min_count=1)
    monkeypatch.setattr(rules, "load_rules", lambda: table)
    notices.approve(session, incident, officer, ctx.settings)
    notices.send(session, incident, officer, ctx.settings)
    content = reports.report(session, incident, "TX", ctx.settings)
    assert content["notified_by_mail"] == 1 and content["notified_by_email"] == 0
    assert content["regulator"] == "Texas Attorney General" and "What Happened" in content["sample_notice"]["text"]
    assert PdfReader(io.BytesIO(reports.report_pdf(content))).pages
    # Individuals' deadlines are met by the sending; the regulator's is reminded, then escalated, once each.
    frozen.advance(timedelta(days=24))
    first = tracking.tick(session, ctx.settings)
    assert ("TX" in {c for _, c, _ in first.reminded}) and not first.escalated
    assert tracking.tick(session, ctx.settings).reminded == []
    frozen.advance(timedelta(days=7))
    late = tracking.tick(session, ctx.settings)
    assert [(c, k) for _, c, k in late.escalated] == [("TX", "regulator")]
    assert tracking.tick(session, ctx.settings).escalated == []
    reports.mark_submitted(session, incident, "TX", officer)
    assert notices.delivery_counts(session, incident.id)["letter queued"] == 1


def test_the_customer_page_shows_the_incident_and_notice(ctx, session, scoped):
    from fastapi.testclient import TestClient

    from ombud.app import create_app
    from ombud.incidents import links

    s, incident, officer = scoped
    notices.approve(session, incident, officer, ctx.settings)
    notices.send(session, incident, officer, ctx.settings)
    session.commit()
    ca = s.customers["ca"].external_id
    client = TestClient(create_app(ctx=ctx), headers={"accept": "text/html"})
    token = links.sign(links.link_key(ctx.settings), ca)
    page = client.get("/my-data", params={"token": token})
    assert page.status_code == 200 and f"INC-{incident.id}" in page.text and "email address" in page.text
    data = client.get("/api/public/my-data", params={"token": token}).json()
    [mine] = data["incidents"]
    assert mine["delivery"] == ["queued"] and "Notice of Data Breach" in mine["notice"]["text"]
    assert s.insider.name not in page.text and s.insider.external_id not in page.text
    assert notices.channel_of(notices.recipients(session, scoping.current_scope(session, incident), [ca])[0]) \
        is NoticeChannel.email
