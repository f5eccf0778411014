"""Remediation of a request's fraudulent accounts, tracked step by step until each is confirmed.

Steps per confirmed-fraud subject:
- an account opened with the victim's identity: lock it, cancel its pending orders, remove the victim's cards from
  it (cards whose keyed fingerprint matches one the victim named), close credit lines opened from it;
- the victim's card on another account: remove that card;
- a credit application made with the victim's identity: close the credit line;
- once per request: flag the victim's identifiers (keyed hashes only) against reuse in new sign-ups.

With `OMBUD_WEBHOOK_URL` set, each step is a signed command in the webhook outbox, confirmed by the retailer's
callback; otherwise (the embedded default) it is applied at once to Ombud's own copy of the records. A request
cannot close while a step is unconfirmed (workflow.transition asks `unconfirmed_steps`); a failed step is shown
and retried from the console or `ombud requests remediate REF --retry STEP`.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.crypto import keyed_hash
from ombud.errors import Conflict, InvalidTransition, NotFound
from ombud.identity.normalize import normalize_email
from ombud.keys import KeyRing
from ombud.notify import webhooks
from ombud.notify.models import WebhookDelivery, WebhookStatus
from ombud.records.models import IdentifierFlag, RemediationAction, RemediationStep, StepStatus, SubjectKind
from ombud.retail.models import (
    Account,
    AccountStatus,
    CreditApplication,
    CreditDecision,
    Order,
    OrderStatus,
    PaymentMethod,
)
from ombud.victim_requests import service, trail, workflow
from ombud.victim_requests.models import MatchVerdict, RequestMatch, VictimRequest
from ombud.victim_requests.states import Status

#: Webhook status -> the step's status.
_FROM_WEBHOOK = {
    WebhookStatus.pending: StepStatus.pending, WebhookStatus.sending: StepStatus.pending,
    WebhookStatus.delivered: StepStatus.sent, WebhookStatus.confirmed: StepStatus.confirmed,
    WebhookStatus.rejected: StepStatus.failed, WebhookStatus.dead: StepStatus.failed,
}
LABELS = {
    RemediationAction.remove_card: "Remove the victim's card",
    RemediationAction.lock_account: "Lock the account",
    RemediationAction.cancel_pending_orders: "Cancel pending orders",
    RemediationAction.close_credit_line: "Close the credit line",
    RemediationAction.flag_identifiers: "Flag the victim's identifiers against reuse",
}


def _planned(session: Session, request: VictimRequest, keys: KeyRing) -> list[tuple[RemediationAction, SubjectKind,
                                                                                      str, str | None]]:
    """(action, subject kind, subject id, account ref) for every step the request's fraud matches call for."""
    victim_cards = {c.get("fingerprint") for c in request.cards or [] if c.get("fingerprint")}
    steps: list[tuple[RemediationAction, SubjectKind, str, str | None]] = []
    matches = session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id,
                                                         RequestMatch.verdict == MatchVerdict.fraud)
                              .order_by(RequestMatch.id))
    for match in matches:
        kind, ref = SubjectKind(match.subject_kind.value), match.subject_id
        if kind is SubjectKind.account:
            account = session.scalar(select(Account).where(Account.external_id == ref))
            if account is None:
                continue
            steps.append((RemediationAction.lock_account, kind, ref, ref))
            steps.append((RemediationAction.cancel_pending_orders, kind, ref, ref))
            for card in session.scalars(select(PaymentMethod).where(PaymentMethod.account_id == account.id,
                                                                    PaymentMethod.removed_at.is_(None))):
                if card.card_fingerprint in victim_cards:
                    steps.append((RemediationAction.remove_card, SubjectKind.payment_method, card.external_id, ref))
            for app in session.scalars(select(CreditApplication).where(
                    CreditApplication.account_id == account.id, CreditApplication.decision == CreditDecision.approved)):
                steps.append((RemediationAction.close_credit_line, SubjectKind.credit_application, app.external_id,
                               ref))
        elif kind is SubjectKind.payment_method:
            steps.append((RemediationAction.remove_card, kind, ref, match.account_ref))
        else:
            steps.append((RemediationAction.close_credit_line, kind, ref, match.account_ref))
    steps.append((RemediationAction.flag_identifiers, SubjectKind.account, request.reference, None))
    return steps


def plan(session: Session, settings: Settings, keys: KeyRing, request: VictimRequest, *,
         actor: trail.Actor) -> list[RemediationStep]:
    """Create the request's remediation steps (once each) and start them: a webhook command each, or applied to
    Ombud's own copy. The request moves to `remediating`."""
    if request.status not in (Status.delivered, Status.remediating):
        raise InvalidTransition(f"request {request.reference} is {request.status.value}: remediation follows the "
                                "delivery of the records")
    now = clock.now()
    existing = {(s.action, s.subject_kind, s.subject_id): s for s in steps_of(session, request.id)}
    created = []
    for action, kind, ref, account_ref in _planned(session, request, keys):
        if (action, kind, ref) in existing:
            continue
        step = RemediationStep(
            request_id=request.id, action=action, subject_kind=kind, subject_id=ref, account_ref=account_ref,
            mode="webhook" if settings.webhook_url else "local", status=StepStatus.pending, created_at=now,
            updated_at=now,
        )
        session.add(step)
        session.flush()
        existing[(action, kind, ref)] = step
        created.append(step)
        _start(session, settings, keys, request, step, actor)
    index = trail.record(session, "records.remediation.plan", actor, request.id,
                         detail={"steps": len(existing), "new": len(created),
                                 "mode": "webhook" if settings.webhook_url else "local"})
    service.add_event(session, request, "remediation.planned", actor, audit_index=index,
                      detail={"steps": len(existing), "new": len(created)})
    if request.status is Status.delivered:
        workflow.transition(session, request, Status.remediating, actor=actor)
    return steps_of(session, request.id)


def _start(session: Session, settings: Settings, keys: KeyRing, request: VictimRequest, step: RemediationStep,
           actor: trail.Actor) -> None:
    if step.mode == "webhook":
        assert settings.webhook_url is not None
        payload = {"request": request.reference, "action": step.action.value, "subject_kind": step.subject_kind.value,
                   "subject_id": step.subject_id, "account_id": step.account_ref}
        if step.action is RemediationAction.flag_identifiers:
            payload["identifiers"] = _identifier_hashes(keys, request)
        delivery = webhooks.enqueue_webhook(
            session, event=f"remediation.{step.action.value}", payload=payload,
            idempotency_key=f"remediation:{step.id}", purpose=f"remediation:{step.id}", url=settings.webhook_url)
        step.webhook_id = delivery.id
        session.flush()
        return
    _apply_locally(session, keys, request, step)
    _settle(session, step, StepStatus.confirmed, "applied to Ombud's copy of the records", actor)


def _identifier_hashes(keys: KeyRing, request: VictimRequest) -> list[dict[str, str]]:
    """The victim's identifiers as keyed hashes (never the values): email, phone, SSN, and card fingerprints."""
    ids = service.identifiers_of(keys, request)
    key = keys.identifier_hash_key
    out = []
    for email in ids.get("emails") or ([ids["email"]] if ids.get("email") else []):
        out.append({"kind": "email", "hash": keyed_hash(key, "flag-email", normalize_email(email) or email)})
    for phone in ids.get("phones") or ([ids["phone"]] if ids.get("phone") else []):
        digits = "".join(ch for ch in str(phone) if ch.isdigit())[-10:]
        if digits:
            out.append({"kind": "phone", "hash": keyed_hash(key, "flag-phone", digits)})
    if ids.get("ssn"):
        out.append({"kind": "ssn", "hash": keyed_hash(key, "flag-ssn", "".join(c for c in ids["ssn"] if c.isdigit()))})
    out += [{"kind": "card", "hash": c["fingerprint"]} for c in request.cards or [] if c.get("fingerprint")]
    return out


def _apply_locally(session: Session, keys: KeyRing, request: VictimRequest, step: RemediationStep) -> None:
    now = clock.now()
    if step.action is RemediationAction.lock_account:
        session.execute(update(Account).where(Account.external_id == step.subject_id)
                        .values(status=AccountStatus.locked, updated_at=now))
    elif step.action is RemediationAction.cancel_pending_orders:
        account_id = session.scalar(select(Account.id).where(Account.external_id == step.subject_id))
        session.execute(update(Order).where(Order.account_id == account_id, Order.status == OrderStatus.pending)
                        .values(status=OrderStatus.cancelled))
    elif step.action is RemediationAction.remove_card:
        session.execute(update(PaymentMethod).where(PaymentMethod.external_id == step.subject_id,
                                                    PaymentMethod.removed_at.is_(None)).values(removed_at=now))
    elif step.action is RemediationAction.close_credit_line:
        session.execute(update(CreditApplication).where(CreditApplication.external_id == step.subject_id)
                        .values(credit_limit_cents=0))
    elif step.action is RemediationAction.flag_identifiers:
        known: set[tuple[str, str]] = set()
        for item in _identifier_hashes(keys, request):
            pair = (item["kind"], item["hash"])
            if pair in known or session.scalar(select(IdentifierFlag.id).where(
                    IdentifierFlag.kind == item["kind"], IdentifierFlag.value_hash == item["hash"])):
                continue
            known.add(pair)
            session.add(IdentifierFlag(request_id=request.id, kind=item["kind"], value_hash=item["hash"],
                                       created_at=now))
    session.flush()


def _settle(session: Session, step: RemediationStep, status: StepStatus, detail: str | None,
            actor: trail.Actor) -> None:
    if step.status is status:
        return
    step.status = status
    step.detail = (detail or "")[:500] or None
    step.updated_at = clock.now()
    if status is StepStatus.confirmed:
        step.confirmed_at = step.updated_at
    session.flush()
    trail.record(session, f"records.remediation.{status.value}", actor, step.request_id, customer_id=step.account_ref,
                 detail={"step": step.id, "action": step.action.value, "mode": step.mode})


def on_webhook(session: Session, delivery: WebhookDelivery) -> None:
    """The retailer's callback (or a retry) changed a remediation command's status: follow it on the step."""
    step_id = int(delivery.purpose.partition(":")[2] or 0)
    step = session.get(RemediationStep, step_id)
    if step is None:
        return
    detail = (delivery.confirmation or {}).get("detail") if delivery.confirmation else delivery.last_error
    _settle(session, step, _FROM_WEBHOOK[delivery.status], detail, None)


webhooks.register_confirmation_handler("remediation", on_webhook)


def sync(session: Session, request_id: int) -> list[RemediationStep]:
    """Bring webhook steps up to date with their commands (a dead letter is a failed step) and list them."""
    steps = steps_of(session, request_id)
    for step in steps:
        if step.mode != "webhook" or step.webhook_id is None:
            continue
        delivery = session.get(WebhookDelivery, step.webhook_id)
        if delivery is not None and _FROM_WEBHOOK[delivery.status] is not step.status:
            _settle(session, step, _FROM_WEBHOOK[delivery.status], delivery.last_error, None)
    return steps


def steps_of(session: Session, request_id: int) -> list[RemediationStep]:
    return list(session.scalars(select(RemediationStep).where(RemediationStep.request_id == request_id)
                                .order_by(RemediationStep.id)))


def unconfirmed_steps(session: Session, request_id: int) -> list[RemediationStep]:
    """The request's steps not yet confirmed (after following their commands)."""
    return [s for s in sync(session, request_id) if s.status is not StepStatus.confirmed]


def retry(session: Session, settings: Settings, keys: KeyRing, request: VictimRequest, step_id: int, *,
          actor: trail.Actor) -> RemediationStep:
    """Try a failed (or stuck) step again: its command is sent again, or applied again to Ombud's copy."""
    step = session.get(RemediationStep, step_id)
    if step is None or step.request_id != request.id:
        raise NotFound(f"no remediation step {step_id} on request {request.reference}", field="step")
    sync(session, request.id)
    if step.status is StepStatus.confirmed:
        raise Conflict(f"step {step_id} is already confirmed")
    if step.mode == "webhook" and step.webhook_id is not None:
        actor_type, actor_id = trail.actor_of(actor)
        webhooks.retry_delivery(session, step.webhook_id, actor=actor_id, actor_type=actor_type)
        _settle(session, step, StepStatus.pending, "sent again", actor)
    else:
        _apply_locally(session, keys, request, step)
        _settle(session, step, StepStatus.confirmed, "applied to Ombud's copy of the records", actor)
    return step


def close(session: Session, request: VictimRequest, *, actor: trail.Actor) -> VictimRequest:
    """Close a request whose remediation is complete (every step confirmed)."""
    return workflow.transition(session, request, Status.closed, actor=actor,
                               reason="records delivered; every remediation step confirmed")
