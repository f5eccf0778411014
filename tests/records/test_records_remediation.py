"""Remediation: applied to Ombud's copy in the embedded default; through the signed webhook outbox otherwise, to a
real HTTP receiver on 127.0.0.1 that fails the first attempts; the request closes only when every step is
confirmed."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import recordsutil
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ombud.errors import InvalidTransition
from ombud.notify import signing
from ombud.notify.worker import OutboxWorker
from ombud.records.models import RemediationAction, StepStatus
from ombud.retail.models import AccountStatus, OrderStatus
from ombud.victim_requests import delivery, remediation
from ombud.victim_requests.package import package_request
from ombud.victim_requests.states import Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))
from webhook_receiver import Receiver

SECRET = b"r" * 32


def _delivered(session, ctx, *, pending_orders: int = 2):
    thief = recordsutil.account(session, orders=pending_orders, status=OrderStatus.pending, marker="REMTHIEF")
    recordsutil.victim_card_on(session, ctx, thief)
    request = recordsutil.request_at_package(session, ctx, {f"account:{thief.account.external_id}": "fraud"})
    package_request(session, ctx.settings, request, actor=None)
    delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None)
    return request, thief


def test_embedded_default_applies_each_step_to_ombuds_copy(session, ctx):
    request, thief = _delivered(session, ctx)
    steps = remediation.plan(session, ctx.settings, ctx.keys, request, actor=None)
    assert request.status is Status.remediating
    actions = sorted(s.action.value for s in steps)
    assert actions == sorted(["lock_account", "cancel_pending_orders", "remove_card", "close_credit_line",
                              "flag_identifiers"])
    assert all(s.status is StepStatus.confirmed and s.mode == "local" for s in steps)
    session.refresh(thief.account)
    assert thief.account.status is AccountStatus.locked
    assert all(session.get(type(o), o.id).status is OrderStatus.cancelled for o in thief.orders)
    assert thief.cards[0].removed_at is not None and thief.cards[1].removed_at is None  # only the victim's card
    # Planning again adds nothing; closing is allowed now.
    assert len(remediation.plan(session, ctx.settings, ctx.keys, request, actor=None)) == len(steps)
    remediation.close(session, request, actor=None)
    assert request.status is Status.closed


def _callback(client: TestClient, key: str, outcome: str, detail: str = ""):
    body = json.dumps({"idempotency_key": key, "outcome": outcome, "detail": detail}).encode()
    return client.post("/api/public/notify/callback", content=body, headers={
        "content-type": "application/json", signing.SIGNATURE_HEADER: signing.sign(SECRET, int(time.time()), body)})


@pytest.fixture
def webhook_ctx(ctx):
    def _with(url: str):
        ctx.settings = ctx.settings.model_copy(update={
            "webhook_url": url, "webhook_secret": SecretStr(SECRET.hex()), "outbox_backoff_seconds": 0.01})
        return ctx
    return _with


def test_webhook_steps_retry_until_delivered_and_close_only_when_confirmed(session, sessions, ctx, webhook_ctx, app):
    with Receiver(SECRET, fail_first=3) as receiver:
        webhook_ctx(receiver.url)
        request, _thief = _delivered(session, ctx)
        steps = remediation.plan(session, ctx.settings, ctx.keys, request, actor=None)
        assert all(s.mode == "webhook" and s.status is StepStatus.pending for s in steps)
        with pytest.raises(InvalidTransition, match="not confirmed"):
            remediation.close(session, request, actor=None)
        session.commit()
        worker = OutboxWorker(ctx.settings, sessions)
        for _ in range(20):  # the receiver refuses the first three POSTs; backoff is short here
            worker.webhook_round()
            if len(receiver.applied) == len(steps):
                break
            time.sleep(0.05)
        assert len(receiver.applied) == len(steps)
        assert receiver.bad_signatures == 0
    states = {s.id: s.status for s in remediation.sync(session, request.id)}
    assert set(states.values()) == {StepStatus.sent}
    client = TestClient(app)
    keys = {s.id: f"remediation:{s.id}" for s in steps}
    refused = next(s for s in steps if s.action is RemediationAction.cancel_pending_orders)
    for step in steps:
        outcome = "failed" if step.id == refused.id else "applied"
        assert _callback(client, keys[step.id], outcome, "order already shipped" if outcome == "failed" else "")\
            .status_code == 200
    session.expire_all()
    steps = remediation.sync(session, request.id)
    failed = [s for s in steps if s.status is StepStatus.failed]
    assert [s.id for s in failed] == [refused.id] and failed[0].detail == "order already shipped"
    with pytest.raises(InvalidTransition):
        remediation.close(session, request, actor=None)
    # Retry: the command goes out again under a new key, and its confirmation lets the request close.
    remediation.retry(session, ctx.settings, ctx.keys, request, refused.id, actor=None)
    session.commit()
    with Receiver(SECRET) as receiver:
        ctx.settings = ctx.settings.model_copy(update={"webhook_url": receiver.url})
        from ombud.notify.models import WebhookDelivery

        hook = session.get(WebhookDelivery, refused.webhook_id)
        hook.url = receiver.url
        session.commit()
        OutboxWorker(ctx.settings, sessions).webhook_round()
        assert list(receiver.applied) == [f"remediation:{refused.id}~r2"]
    assert _callback(client, f"remediation:{refused.id}~r2", "applied").status_code == 200
    session.expire_all()
    assert not remediation.unconfirmed_steps(session, request.id)
    remediation.close(session, request, actor=None)
    assert request.status is Status.closed
