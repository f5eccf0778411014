"""Intake: one request from any channel, the stored clock, the status link, repeats, uploads, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from requestutil import JANE, PDF, PNG, leaves, make_request
from sqlalchemy import func, select

from ombud.errors import InvalidInput
from ombud.victim_requests import service
from ombud.victim_requests.models import EvidenceKind, RequestEvent, RequestEvidence, VictimRequest
from ombud.victim_requests.protect import open_bytes
from ombud.victim_requests.schemas import LetterIn, RequestCreate
from ombud.victim_requests.states import Channel, Status


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_a_portal_request_gets_a_reference_a_stored_due_date_and_a_status_link(session, ctx, frozen):
    before = leaves(session)
    intake = make_request(session, ctx)
    request = intake.request
    assert re.fullmatch(r"VR-[2-9A-Z]{4}-[2-9A-Z]{4}", request.reference)
    assert request.status is Status.received and request.channel is Channel.portal
    assert request.received_at == frozen.current
    assert request.due_at == datetime(2026, 12, 3, 4, 59, 59, 999999, tzinfo=UTC)  # 2 Dec, end of day in New York
    assert service.by_token(session, intake.token).id == request.id
    assert request.status_token_hash != intake.token and intake.token not in request.status_token_hash
    assert leaves(session) == before + 1
    kinds = [e.kind for e in session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id))]
    assert kinds[0] == "received"
    # personal data is sealed: nothing of Jane's appears in the stored columns
    raw = b"".join(bytes(v) for v in (request.identifiers_enc, request.contact_enc))
    assert b"jane" not in raw.lower() and b"4111" not in raw
    assert request.cards == [{"fingerprint": request.cards[0]["fingerprint"], "last4": "1111"}]
    assert service.identifiers_of(ctx.keys, request)["emails"] == ["jane.doe@example.com"]


def test_a_double_submitted_form_creates_one_request_and_shows_the_same_link(session, ctx, frozen):
    first = make_request(session, ctx, idempotency_key="k" * 32)
    second = make_request(session, ctx, idempotency_key="k" * 32)
    assert second.request.id == first.request.id and not second.created
    assert second.token == first.token
    assert _count(session, VictimRequest) == 1


def test_a_repeat_is_linked_to_the_earlier_request_and_gets_its_own_clock(session, ctx, frozen):
    first = make_request(session, ctx).request
    frozen.advance(timedelta(days=40))
    repeat = make_request(session, ctx, {**JANE, "email": "JANE.DOE@example.com", "phone": None}).request
    assert repeat.id != first.id and repeat.status is Status.received
    assert repeat.previous_request_id == first.id
    assert repeat.due_at == first.due_at + timedelta(days=40)
    third = make_request(session, ctx, {**JANE, "email": "other@example.com"}).request  # same name and birth date
    assert third.previous_request_id == repeat.id
    assert [r.id for r in service.earlier_requests(session, third)] == [repeat.id, first.id]
    stranger = make_request(session, ctx, {**JANE, "full_name": "John Roe", "email": "john@example.com",
                                           "card_numbers": []}).request
    assert stranger.previous_request_id is None


def test_a_letter_is_received_when_it_reached_the_designated_address(session, ctx, frozen, staff):
    arrived = frozen.current - timedelta(days=3)
    letter = LetterIn.model_validate({**JANE, "channel": "mail", "received_at": arrived.isoformat()})
    intake = service.receive_letter(session, ctx.keys, ctx.settings, letter, entered_by=staff["agent"],
                                    uploads=[service.Upload(EvidenceKind.letter, "scan.pdf", PDF)])
    request = intake.request
    assert request.channel is Channel.mail and request.received_at == arrived
    assert request.entered_by_id == staff["agent"].id
    zone = ZoneInfo(ctx.settings.requests_timezone)
    assert request.due_at.astimezone(zone).date() == (arrived.astimezone(zone) + timedelta(days=30)).date()
    evidence = session.scalars(select(RequestEvidence).where(RequestEvidence.request_id == request.id)).one()
    assert evidence.content_type == "application/pdf" and PDF not in bytes(evidence.data_enc)
    assert open_bytes(ctx.keys, evidence.data_enc, service.FILE_DATA) == PDF
    future = LetterIn.model_validate({**JANE, "received_at": (frozen.current + timedelta(days=1)).isoformat()})
    with pytest.raises(InvalidInput) as refused:
        service.receive_letter(session, ctx.keys, ctx.settings, future, entered_by=staff["agent"])
    assert refused.value.field == "received_at"


def test_a_refused_upload_writes_nothing(session, ctx, frozen):
    before = (_count(session, VictimRequest), leaves(session))
    uploads = [service.Upload(EvidenceKind.government_id, "id.png", PNG, field="government_id"),
               service.Upload(EvidenceKind.affidavit, "affidavit.pdf", b"MZ\x90\x00 not a pdf", field="affidavit")]
    with pytest.raises(InvalidInput) as refused:
        make_request(session, ctx, uploads=uploads)
    assert refused.value.field == "affidavit" and "content" in refused.value.message
    assert (_count(session, VictimRequest), leaves(session)) == before
    big = b"%PDF-1.7\n" + b"0" * (ctx.settings.requests_max_upload_mb * 1024 * 1024) + b"%%EOF"
    with pytest.raises(InvalidInput, match="larger than"):
        make_request(session, ctx, uploads=[service.Upload(EvidenceKind.other, "big.pdf", big)])


@pytest.mark.parametrize(("change", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"date_of_birth": "31/31/1984"}, "date_of_birth"),
    ({"ssn": "12-345-678"}, "ssn"),  # malformed (an unissuable one is kept as weak evidence)
    ({"card_numbers": ["4111 1111 1111 1112"]}, "card_numbers"),
    ({"statement_true": False}, "statement_true"),
    ({"email": None, "address": None}, ""),
    ({"thief_name": "Mallory"}, "thief_name"),
])
def test_bad_input_names_the_field(change, field):
    with pytest.raises(ValidationError) as refused:
        RequestCreate.model_validate({**JANE, **change})
    assert ".".join(str(p) for p in refused.value.errors()[0]["loc"]).startswith(field)
