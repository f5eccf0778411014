"""Signed webhooks against a real HTTP receiver on 127.0.0.1 that fails the first attempts; the signed callback."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from webhook_receiver import Receiver

from ombud import clock
from ombud.notify import signing, webhooks
from ombud.notify.models import WebhookStatus
from ombud.notify.webhooks import enqueue_webhook
from ombud.notify.worker import OutboxWorker

SECRET = b"k" * 32


@pytest.fixture
def hook_settings(ctx):
    ctx.settings = ctx.settings.model_copy(update={
        "webhook_secret": SecretStr(SECRET.hex()), "outbox_backoff_seconds": 1.0, "outbox_max_attempts": 5,
    })
    return ctx.settings


def _callback(client: TestClient, document: dict, secret: bytes = SECRET, *, raw: bytes | None = None,
              signature: str | None = None):
    body = raw if raw is not None else json.dumps(document).encode()
    header = signature if signature is not None else signing.sign(secret, int(time.time()), body)
    return client.post("/api/public/notify/callback", content=body,
                       headers={"content-type": "application/json", signing.SIGNATURE_HEADER: header})


def test_retries_until_delivered_then_the_callback_confirms(session, sessions, hook_settings, app):
    seen = []
    webhooks.register_confirmation_handler("testhook", lambda s, d: seen.append((d.id, d.status)))
    with Receiver(SECRET, fail_first=2) as receiver:
        delivery = enqueue_webhook(session, event="remediation.lock_account", payload={"account": "A-1"},
                                   idempotency_key="rem:1:lock", purpose="testhook:1", url=receiver.url)
        session.commit()
        frozen = clock.FrozenClock(clock.now())
        with clock.use_clock(frozen):
            worker = OutboxWorker(hook_settings, sessions)
            for _ in range(3):
                worker.webhook_round()
                frozen.advance(timedelta(seconds=10))
        session.refresh(delivery)
        assert delivery.status is WebhookStatus.delivered and delivery.attempts == 3
        assert receiver.attempts == ["rem:1:lock"] * 3  # the same key on every attempt
        assert receiver.applied == {"rem:1:lock": {"id": "rem:1:lock", "event": "remediation.lock_account",
                                                   "data": {"account": "A-1"}}}
        assert receiver.bad_signatures == 0
    client = TestClient(app)
    response = _callback(client, {"idempotency_key": "rem:1:lock", "outcome": "applied", "detail": "locked"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    session.refresh(delivery)
    assert delivery.status is WebhookStatus.confirmed and delivery.confirmation["detail"] == "locked"
    assert seen == [(delivery.id, WebhookStatus.confirmed)]
    # The same callback again changes nothing; a contradicting one is refused.
    assert _callback(client, {"idempotency_key": "rem:1:lock", "outcome": "applied"}).status_code == 200
    assert _callback(client, {"idempotency_key": "rem:1:lock", "outcome": "failed"}).status_code == 409
    webhooks.CONFIRMATION_HANDLERS.pop("testhook")


def test_bad_callbacks_are_refused(session, hook_settings, app, caplog):
    enqueue_webhook(session, event="remediation.remove_card", payload={"card": "pm-1"}, idempotency_key="k1",
                    purpose="x:1", url="http://127.0.0.1:9/none")
    session.commit()
    client = TestClient(app)
    document = {"idempotency_key": "k1", "outcome": "applied"}
    assert _callback(client, document, secret=b"w" * 32).status_code == 401
    assert _callback(client, document, signature="").status_code == 401
    stale = signing.sign(SECRET, int(time.time()) - 3600, json.dumps(document).encode())
    assert _callback(client, document, signature=stale).status_code == 401
    assert _callback(client, {}, raw=b"not json").status_code == 422
    bad_outcome = _callback(client, {"idempotency_key": "k1", "outcome": "maybe"})
    assert bad_outcome.status_code == 422 and bad_outcome.json()["field"] == "outcome"
    assert _callback(client, {"idempotency_key": "nope", "outcome": "applied"}).status_code == 404
    assert "k1" not in caplog.text  # refusals are logged without the payload


def test_a_4xx_answer_is_dead_and_retry_of_a_rejection_gets_a_new_key(session, sessions, hook_settings, app):
    with Receiver(SECRET, answer=400) as receiver:
        delivery = enqueue_webhook(session, event="remediation.cancel_orders", payload={}, idempotency_key="c1",
                                   purpose="x:2", url=receiver.url)
        session.commit()
        OutboxWorker(hook_settings, sessions).webhook_round()
        session.refresh(delivery)
        assert delivery.status is WebhookStatus.dead and delivery.last_status_code == 400
        webhooks.retry_delivery(session, delivery.id, actor="tester")
        receiver.answer = 200
        session.commit()
        OutboxWorker(hook_settings, sessions).webhook_round()
        session.refresh(delivery)
        assert delivery.status is WebhookStatus.delivered and delivery.idempotency_key == "c1"
    response = _callback(TestClient(app), {"idempotency_key": "c1", "outcome": "failed", "detail": "no such order"})
    assert response.json()["status"] == "rejected"
    again = webhooks.retry_delivery(session, delivery.id, actor="tester")
    assert again.idempotency_key == "c1~r2" and again.status is WebhookStatus.pending


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=2**40))
def test_signatures_verify_and_any_change_fails(body, timestamp):
    header = signing.sign(SECRET, timestamp, body)
    assert signing.verify(SECRET, header, body, timestamp) == timestamp
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, header, body + b"x", timestamp)
    with pytest.raises(signing.SignatureError):
        signing.verify(b"z" * 32, header, body, timestamp)
