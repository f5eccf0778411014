"""`ombud worker`: drains the mail and webhook outboxes, exactly once as far as the receiver can tell.

A round claims a batch in its own short transaction: one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING on PostgreSQL, so two workers never take the same row; on SQLite the same UPDATE is one
atomic statement under the single writer lock. A claim is a lease: a worker killed mid-batch leaves its rows
in `sending`, and once the lease runs out another worker takes them and sends them again with the *same*
Message-ID / Idempotency-Key, so the receiver drops the repeat. A worker stops sending a batch before its
lease could run out, so two live workers never send the same message at once.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ombud import clock
from ombud.config import Settings
from ombud.db import transaction
from ombud.errors import safe_traceback
from ombud.notify import signing
from ombud.notify.backoff import next_attempt
from ombud.notify.mailer import Mailer, OutgoingMail, SendResult, make_mailer
from ombud.notify.models import MailStatus, OutboxMessage, WebhookDelivery, WebhookStatus
from ombud.notify.outbox import OUTCOME_HANDLERS
from ombud.notify.webhooks import request_body, webhook_secret

log = logging.getLogger("ombud.notify.worker")

MAIL = OutboxMessage.__table__
HOOK = WebhookDelivery.__table__
#: Messages sent between two records of what was sent: the most a kill -9 can make a worker send twice.
SEND_CHUNK = 25


def default_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _claim(session: Session, table: Any, pending: str, sending: str, worker_id: str, limit: int,
           lease: timedelta, columns: list[Any]) -> list[Any]:
    now = clock.now()
    claimable = or_(
        and_(table.c.status == pending, table.c.next_attempt_at <= now),
        and_(table.c.status == sending, table.c.lease_until < now),
    )
    candidates = select(table.c.id).where(claimable).order_by(table.c.next_attempt_at, table.c.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    stmt = (
        update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()))
        .values(status=sending, lease_until=now + lease, leased_by=worker_id, attempts=table.c.attempts + 1)
        .returning(*columns)
    )
    return list(session.execute(stmt).all())


@dataclass
class RoundStats:
    """What one round did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class ScheduledJob:
    """A job the worker runs every `every` (the clocks' sweeps), each run in a transaction of its own.

    Jobs must be idempotent (each reminder once, whoever runs first), since several workers may run them.
    """

    name: str
    every: timedelta
    run: Callable[[Session], object]
    next_at: datetime | None = None


class OutboxWorker:
    """One worker: claims and sends mail and webhooks in rounds until stopped, and runs its scheduled jobs."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *, mailer: Mailer | None = None,
                 worker_id: str | None = None, http: httpx.Client | None = None,
                 jobs: list[ScheduledJob] | None = None) -> None:
        self.settings = settings
        self.jobs = list(jobs or [])
        self.sessions = sessions
        self.mailer = mailer if mailer is not None else make_mailer(settings)
        self.worker_id = worker_id or default_worker_id()
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)
        self.http = http
        self.stop = threading.Event()

    # --- mail --------------------------------------------------------------------------------------------

    def claim_mail(self, limit: int | None = None) -> tuple[list[OutgoingMail], dict[int, int], datetime]:
        """Claim a batch; returns the mail, each one's attempt number, and when the lease ends."""
        columns = [MAIL.c.id, MAIL.c.to_address, MAIL.c.message_id, MAIL.c.subject, MAIL.c.body_text,
                   MAIL.c.body_html, MAIL.c.created_at, MAIL.c.attempts]
        lease_end = clock.now() + self.lease  # no later than the lease the claim writes
        with transaction(self.sessions) as session:
            rows = _claim(session, MAIL, MailStatus.pending.value, MailStatus.sending.value, self.worker_id,
                          limit or self.settings.outbox_batch_size, self.lease, columns)
        rows.sort(key=lambda r: r[0])
        mail = [OutgoingMail(r[0], r[1], r[2], r[3], r[4], r[5], clock.ensure_utc(r[6])) for r in rows]
        return mail, {r[0]: r[7] for r in rows}, lease_end

    def mail_round(self, limit: int | None = None) -> RoundStats:
        """Claim a batch of mail, send it, record each outcome."""
        stats = RoundStats()
        batch, attempts, lease_end = self.claim_mail(limit)
        stats.claimed = len(batch)
        if not batch:
            return stats
        # Each chunk is sent and then recorded at once, so a worker killed mid-batch re-sends at most one chunk;
        # and it stops before the lease could lapse (a slow server): what is left goes back unsent, never twice.
        deadline = lease_end - self.lease * 0.25
        for start in range(0, len(batch), SEND_CHUNK):
            chunk = batch[start : start + SEND_CHUNK]
            if clock.now() >= deadline or self.stop.is_set():
                self._record_mail([], attempts, [m.id for m in batch[start:]], stats)
                break
            self._record_mail(self.mailer.send(chunk), attempts, [], stats)
        return stats

    def _record_mail(self, results: list[SendResult], attempts: dict[int, int], released: list[int],
                     stats: RoundStats) -> None:
        now = clock.now()
        mine = and_(MAIL.c.leased_by == self.worker_id, MAIL.c.status == MailStatus.sending.value)
        sent = [r.id for r in results if r.sent]
        dead: list[int] = []
        with transaction(self.sessions) as session:
            for start in range(0, len(sent), 500):
                session.execute(update(MAIL).where(MAIL.c.id.in_(sent[start : start + 500]), mine)
                                .values(status=MailStatus.sent.value, sent_at=now, lease_until=None, last_error=None))
            for result in results:
                if result.sent:
                    continue
                stats.errors[result.error or "error"] += 1
                if result.permanent or attempts[result.id] >= self.settings.outbox_max_attempts:
                    values: dict[str, Any] = {"status": MailStatus.dead.value, "lease_until": None}
                    dead.append(result.id)
                else:
                    values = {"status": MailStatus.pending.value, "lease_until": None, "next_attempt_at": next_attempt(
                        now, attempts[result.id], self.settings.outbox_backoff_seconds, random.random())}
                    stats.retried += 1
                values["last_error"] = (result.error or "error")[:1000]
                session.execute(update(MAIL).where(MAIL.c.id == result.id, mine).values(**values))
            if released:  # not attempted: give the attempt back
                session.execute(update(MAIL).where(MAIL.c.id.in_(released), mine).values(
                    status=MailStatus.pending.value, lease_until=None, attempts=MAIL.c.attempts - 1))
            self._tell_handlers(session, sent, MailStatus.sent)
            self._tell_handlers(session, dead, MailStatus.dead)
        stats.sent += len(sent)
        stats.dead += len(dead)
        stats.released += len(released)

    @staticmethod
    def _tell_handlers(session: Session, ids: list[int], status: MailStatus) -> None:
        if not ids or not OUTCOME_HANDLERS:
            return
        by_prefix: dict[str, list[int]] = defaultdict(list)
        for start in range(0, len(ids), 500):
            for message_id, purpose in session.execute(
                select(MAIL.c.id, MAIL.c.purpose).where(MAIL.c.id.in_(ids[start : start + 500]))
            ):
                by_prefix[purpose.partition(":")[0]].append(message_id)
        for prefix, message_ids in by_prefix.items():
            handler = OUTCOME_HANDLERS.get(prefix)
            if handler is not None:
                handler(session, message_ids, status)

    # --- webhooks ----------------------------------------------------------------------------------------

    def webhook_round(self, limit: int = 50) -> RoundStats:
        """Claim a batch of webhooks, POST each, record each answer."""
        stats = RoundStats()
        columns = [HOOK.c.id, HOOK.c.attempts]
        with transaction(self.sessions) as session:
            rows = _claim(session, HOOK, WebhookStatus.pending.value, WebhookStatus.sending.value, self.worker_id,
                          limit, self.lease, columns)
            deliveries = [session.get(WebhookDelivery, r[0]) for r in rows]
            prepared = [(d.id, d.url, d.event, d.idempotency_key, request_body(d), a) for d, (_, a)
                        in zip(deliveries, rows, strict=True) if d is not None]
        stats.claimed = len(prepared)
        if not prepared:
            return stats
        secret = webhook_secret(self.settings)
        client = self.http or httpx.Client(timeout=self.settings.webhook_timeout_seconds)
        try:
            for delivery_id, url, event, key, body, attempts in prepared:
                outcome = self._post(client, secret, url, event, key, body)
                self._record_webhook(delivery_id, attempts, outcome, stats)
        finally:
            if self.http is None:
                client.close()
        return stats

    @staticmethod
    def _post(client: httpx.Client, secret: bytes, url: str, event: str, key: str,
              body: bytes) -> tuple[int | None, str | None]:
        headers = {
            "content-type": "application/json",
            signing.SIGNATURE_HEADER: signing.sign(secret, int(clock.now().timestamp()), body),
            signing.IDEMPOTENCY_HEADER: key,
            signing.EVENT_HEADER: event,
        }
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"request failed: {type(exc).__name__}"
        return response.status_code, None

    def _record_webhook(self, delivery_id: int, attempts: int, outcome: tuple[int | None, str | None],
                        stats: RoundStats) -> None:
        code, error = outcome
        now = clock.now()
        mine = and_(HOOK.c.id == delivery_id, HOOK.c.leased_by == self.worker_id,
                    HOOK.c.status == WebhookStatus.sending.value)
        values: dict[str, Any] = {"lease_until": None, "last_status_code": code}
        if code is not None and 200 <= code < 300:
            values.update(status=WebhookStatus.delivered.value, delivered_at=now, last_error=None)
            stats.sent += 1
        else:
            error = error or f"answered HTTP {code}"
            stats.errors[error] += 1
            permanent = code is not None and 400 <= code < 500 and code not in (408, 409, 425, 429)
            if permanent or attempts >= self.settings.outbox_max_attempts:
                values.update(status=WebhookStatus.dead.value, last_error=error)
                stats.dead += 1
            else:
                values.update(status=WebhookStatus.pending.value, last_error=error, next_attempt_at=next_attempt(
                    now, attempts, self.settings.outbox_backoff_seconds, random.random()))
                stats.retried += 1
        with transaction(self.sessions) as session:
            session.execute(update(HOOK).where(mine).values(**values))

    # --- the loop ----------------------------------------------------------------------------------------

    def run_once(self) -> RoundStats:
        """One round of each outbox; the totals."""
        mail = self.mail_round()
        hooks = self.webhook_round() if self.settings.webhook_secret is not None else RoundStats()
        total = RoundStats(claimed=mail.claimed + hooks.claimed, sent=mail.sent + hooks.sent,
                           retried=mail.retried + hooks.retried, dead=mail.dead + hooks.dead,
                           released=mail.released + hooks.released)
        for errors in (mail.errors, hooks.errors):
            for key, count in errors.items():
                total.errors[key] += count
        return total

    def drain(self, max_rounds: int = 10_000) -> RoundStats:
        """Rounds until nothing is due (for tests, the demo and `ombud worker --drain`)."""
        total = RoundStats()
        for _ in range(max_rounds):
            stats = self.run_once()
            total.claimed += stats.claimed
            total.sent += stats.sent
            total.retried += stats.retried
            total.dead += stats.dead
            if stats.claimed == 0:
                break
        return total

    def run_due_jobs(self) -> list[str]:
        """Run each scheduled job whose time has come (all of them on the first call); the names of those run.

        A failed job is logged (its type only: a job's error may quote personal data) and tried again next time.
        """
        ran = []
        for job in self.jobs:
            now = clock.now()
            if job.next_at is not None and now < job.next_at:
                continue
            job.next_at = now + job.every
            try:
                with transaction(self.sessions) as session:
                    job.run(session)
            except Exception as exc:  # the next run retries; the mail rounds go on meanwhile
                log.error("scheduled job %s failed: %s", job.name, type(exc).__name__)
                continue
            ran.append(job.name)
        return ran

    def run_forever(self, idle_seconds: float = 1.0) -> None:
        """Rounds until stopped; sleeps while nothing is due. A failed round is logged and the next one retries."""
        try:
            while not self.stop.is_set():
                self.run_due_jobs()
                try:
                    stats = self.run_once()
                except Exception as exc:  # the store or a peer failed this round; leases make a retry safe
                    # By type and frames only: a message may quote an address or a value from the store.
                    log.error("outbox round failed:\n%s", safe_traceback(exc))
                    self.stop.wait(idle_seconds)
                    continue
                if stats.claimed == 0:
                    self.stop.wait(idle_seconds)
        finally:
            self.close()

    def close(self) -> None:
        self.mailer.close()

