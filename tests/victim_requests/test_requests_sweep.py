"""The sweep: reminders on their days, escalation past day 25, overdue marked; each exactly once."""

from __future__ import annotations

from datetime import timedelta

from requestutil import JANE, leaves, make_request
from sqlalchemy import select

from ombud.notify.models import OutboxMessage
from ombud.victim_requests import sla, workflow
from ombud.victim_requests.models import RequestEvent
from ombud.victim_requests.states import Status
from ombud.victim_requests.sweep import sweep


def _kinds(session, request):
    return [e.kind + (f":{e.detail.get('day')}" if e.kind == "reminder" else "")
            for e in session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                                     .order_by(RequestEvent.id))
            if e.kind in ("reminder", "escalation", "overdue")]


def test_a_sweep_run_twice_sends_each_reminder_once(session, ctx, request_, frozen, staff):
    assert sweep(session, ctx.settings).reminders == 0
    frozen.advance(timedelta(days=10))
    first = sweep(session, ctx.settings)
    assert first.reminders == 1 and first.escalations == 0
    before = leaves(session)
    again = sweep(session, ctx.settings)
    assert (again.reminders, again.escalations, again.overdue) == (0, 0, 0) and leaves(session) == before
    frozen.advance(timedelta(days=16))  # day 26: reminders 20 and 25 both due, and the escalation
    report = sweep(session, ctx.settings)
    assert (report.reminders, report.escalations, report.overdue) == (2, 1, 0)
    session.refresh(request_)
    assert request_.escalated_at == frozen.current
    frozen.advance(timedelta(days=5))
    assert sweep(session, ctx.settings).overdue == 1
    session.refresh(request_)
    assert request_.overdue_at == frozen.current
    assert sweep(session, ctx.settings).overdue == 0
    assert _kinds(session, request_) == ["reminder:10", "reminder:20", "reminder:25", "escalation", "overdue"]
    mails = [e.detail["template"] for e in session.scalars(select(RequestEvent).where(
        RequestEvent.request_id == request_.id, RequestEvent.kind == "mail.queued"))]
    assert mails.count("victim_request_reminder") == 3
    assert mails.count("victim_request_escalation") == 2  # one per privacy officer
    assert mails.count("victim_request_overdue") == 2
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "victim_request_escalation")).all()
    assert sorted(m.to_address for m in queued) == sorted([staff["officer"].email, staff["officer2"].email])
    assert request_.reference in queued[0].body_text


def test_requests_already_answered_are_left_alone(session, ctx, frozen, staff):
    request = make_request(session, ctx).request
    for to in (Status.verified, Status.discovery, Status.review, Status.package, Status.delivered):
        workflow.transition(session, request, to, actor=staff["agent"])
    frozen.advance(timedelta(days=45))
    report = sweep(session, ctx.settings)
    assert (report.reminders, report.escalations, report.overdue) == (0, 0, 0)


def test_the_sla_report_counts_open_overdue_and_closing_times(session, ctx, frozen, staff):
    late = make_request(session, ctx).request
    frozen.advance(timedelta(days=20))
    done = make_request(session, ctx, {**JANE, "full_name": "Ann Other", "email": "ann@example.com",
                                       "card_numbers": []}).request
    for to in (Status.verified, Status.discovery, Status.review, Status.package, Status.delivered, Status.closed):
        workflow.transition(session, done, to, actor=staff["agent"])
    frozen.advance(timedelta(days=12))
    report = sla.report(session, ctx.settings)
    assert report.overdue == 1 and report.by_days_left["overdue"] == 1
    assert report.open == 1 and report.closed_in_window == 1
    assert report.median_days_to_close == 0.0 and report.by_channel["portal"] == 2
    assert late.status is Status.received
    assert sla.percentile([1, 2, 3, 4, 100], 95) == 100 and sla.percentile([], 50) is None


def test_the_worker_keeps_the_clock_on_its_schedule(session, sessions, ctx, request_, frozen, staff):
    from ombud.cli.notify import scheduled_jobs
    from ombud.notify.worker import OutboxWorker

    session.commit()
    worker = OutboxWorker(ctx.settings, sessions, jobs=scheduled_jobs(ctx.settings))
    frozen.advance(timedelta(days=10))
    assert worker.run_due_jobs() == ["victim-requests sweep", "incident deadlines"]
    assert worker.run_due_jobs() == []  # not due again until the interval has passed
    frozen.advance(timedelta(seconds=ctx.settings.worker_sweep_seconds))
    assert worker.run_due_jobs() == ["victim-requests sweep", "incident deadlines"]
    session.expire_all()
    assert _kinds(session, request_) == ["reminder:10"]  # the second run found nothing new to send
    worker.close()
