"""The mail outbox: enqueue in the deciding transaction (idempotent on a dedupe key), list, retry.

`enqueue_mail` renders the template at once, so a template that references a missing field fails the caller's
transaction (InvalidInput naming the file and the field) instead of a worker hours later; the rendered text is
what will be sent, whatever later edits to the template. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import formataddr, getaddresses, parseaddr
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.config import Settings
from ombud.errors import Conflict, InvalidInput, NotFound
from ombud.notify import queries, templates
from ombud.notify.models import MailStatus, OutboxMessage

_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Use these settings for mail enqueued without explicit ones (set by the app, the CLI and tests)."""
    global _settings
    _settings = settings


def current_settings() -> Settings:
    """The settings mail is enqueued with: the configured ones, else read from the environment."""
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def check_address(to: str) -> str:
    """A recipient as one RFC 5322 mailbox (`a@b.example` or `Name <a@b.example>`); InvalidInput names `to`."""
    if not to or any(c in to for c in "\r\n\0") or len(to) > 320:
        raise InvalidInput("the recipient is not a single email address", field="to")
    mailboxes = getaddresses([to])
    if len(mailboxes) != 1:
        raise InvalidInput("the recipient is not a single email address", field="to")
    name, address = mailboxes[0]
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or " " in address:
        raise InvalidInput("the recipient is not a single email address", field="to")
    return formataddr((name, address)) if name else address


@lru_cache(maxsize=32)
def _sender_domain(mail_from: str) -> str:
    # Parsed once per sender: a bulk enqueue (100,000 notices) would otherwise parse the same address each time.
    return parseaddr(mail_from)[1].rpartition("@")[2] or "ombud.invalid"


def message_id_for(dedupe_key: str, mail_from: str) -> str:
    """A stable Message-ID for a dedupe key: the same on every attempt, so a receiver can drop a repeat."""
    domain = _sender_domain(mail_from)
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _check_key(value: str, field: str, limit: int = 200) -> str:
    if not value or len(value) > limit or any(ord(c) < 32 for c in value):
        raise InvalidInput(f"{field} must be 1-{limit} printable characters", field=field)
    return value


@dataclass(frozen=True)
class MailItem:
    """One email of a bulk enqueue: the same arguments as enqueue_mail."""

    to: str
    template: str
    context: dict[str, Any]
    dedupe_key: str
    purpose: str
    #: Already rendered by the caller from wording it pinned (e.g. an approved notice version); else the template
    #: file named above is rendered here.
    rendered: templates.Rendered | None = None


def _row(item: MailItem, settings: Settings, now: Any) -> dict[str, Any]:
    to = check_address(item.to)
    _check_key(item.dedupe_key, "dedupe_key")
    _check_key(item.purpose, "purpose")
    rendered = item.rendered or templates.render(item.template, item.context, settings.mail_templates_dir)
    return {
        "dedupe_key": item.dedupe_key,
        "purpose": item.purpose,
        "template": item.template,
        "to_address": to,
        "message_id": message_id_for(item.dedupe_key, settings.mail_from),
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "status": MailStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _insert_ignoring_duplicates(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping any whose dedupe key is already queued (also by a concurrent transaction)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = session.execute(stmt.returning(OutboxMessage.id), list(rows))
    return len(result.all())


def enqueue_mail(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    purpose: str,
    settings: Settings | None = None,
) -> OutboxMessage:
    """Queue one email in the caller's transaction; a second call with the same dedupe_key returns the first.

    InvalidInput (field named) for a bad address, an unknown template or a template field missing from context;
    Conflict when the dedupe_key was already used for another recipient or template.
    """
    settings = settings or current_settings()
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is None:
        _insert_ignoring_duplicates(session, [_row(MailItem(to, template, context, dedupe_key, purpose),
                                                   settings, clock.now())])
        existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        assert existing is not None
        return existing
    if existing.template != template or existing.to_address != check_address(to):
        raise Conflict(f"dedupe key {dedupe_key!r} was already used for another message", field="dedupe_key")
    return existing


def enqueue_mail_many(
    session: Session, items: Iterable[MailItem], *, settings: Settings | None = None, chunk: int = 1000
) -> int:
    """Queue many emails in the caller's transaction; returns how many were new (repeated keys are skipped).

    Every item is rendered and checked before anything is written: a bad one raises InvalidInput naming its
    position (`items[7].to`), and nothing of the call is queued.
    """
    settings = settings or current_settings()
    now = clock.now()
    rows = []
    for position, item in enumerate(items):
        try:
            rows.append(_row(item, settings, now))
        except (InvalidInput, NotFound) as exc:
            raise InvalidInput(f"item {position}: {exc.message}", field=f"items[{position}].{exc.field}") from exc
    seen: set[str] = set()
    unique = [r for r in rows if not (r["dedupe_key"] in seen or seen.add(r["dedupe_key"]))]
    return sum(_insert_ignoring_duplicates(session, unique[i : i + chunk]) for i in range(0, len(unique), chunk))


def get_message(session: Session, message_id: int, *, lock: bool = False) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id, populate_existing=lock, with_for_update=lock)
    if message is None:
        raise NotFound(f"no outbox message {message_id}", field="id")
    return message


def list_messages(
    session: Session, *, status: MailStatus | None = None, purpose: str | None = None, limit: int = 100,
    before_id: int | None = None,
) -> list[OutboxMessage]:
    """Messages newest first, filtered by status and purpose prefix (`victim_request` finds `victim_request:…`)."""
    return queries.list_rows(session, OutboxMessage, status=status, purpose=purpose, limit=limit, before_id=before_id)


def status_counts(session: Session) -> dict[str, int]:
    """How many messages are in each status."""
    return queries.count_by_status(session, OutboxMessage, MailStatus)


def retry_message(session: Session, message_id: int, *, actor: str, actor_type: str = "employee") -> OutboxMessage:
    """Send a dead (or waiting) message again now, from a fresh count of attempts; audited."""
    message = get_message(session, message_id, lock=True)
    if message.status not in (MailStatus.dead, MailStatus.pending):
        raise Conflict(f"message {message_id} is {message.status.value}; only dead or waiting ones are retried")
    queries.requeue(message, MailStatus.pending)
    session.flush()
    append_event(session, AuditEvent(
        action="notify.mail.retry", actor_type=actor_type, actor_id=actor, subject_type="outbox_message",
        subject_id=str(message.id), purpose=message.purpose[:200],
    ))
    return message


#: Called in the worker's transaction when messages of a purpose (the part before ":") end as sent or dead:
#: handler(session, [message ids], final status). Domains register theirs, e.g. the look-back campaign.
OUTCOME_HANDLERS: dict[str, Callable[[Session, list[int], MailStatus], None]] = {}


def register_outcome_handler(prefix: str, handler: Callable[[Session, list[int], MailStatus], None]) -> None:
    """Have `handler` told when mail of purpose `prefix:…` is sent or dead."""
    OUTCOME_HANDLERS[prefix] = handler
