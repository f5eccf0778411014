"""A request's package, its delivery to the victim and to an authorised agency, and the download link's checks."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
import recordsutil
from sqlalchemy import select

from ombud import clock
from ombud.audit.models import AuditEntry
from ombud.audit.service import log_size
from ombud.errors import InvalidTransition, PolicyDenied
from ombud.notify.models import OutboxMessage
from ombud.records.models import AuthorisationBasis, Verification
from ombud.victim_requests import agency, delivery
from ombud.victim_requests.package import package_request
from ombud.victim_requests.states import Status


@pytest.fixture
def frozen():
    source = clock.FrozenClock(clock.now())
    with clock.use_clock(source):
        yield source


@pytest.fixture
def scene(session, ctx, frozen):
    """Two fraudulent accounts, one of the victim's own and an unrelated one; the request at `package`."""
    thief = recordsutil.account(session, orders=3, marker="THIEFONE")
    thief2 = recordsutil.account(session, orders=1, marker="THIEFTWO")
    own = recordsutil.account(session, orders=1, marker="OWNACCOUNT")
    unrelated = recordsutil.account(session, orders=1, marker="UNRELATED")
    request = recordsutil.request_at_package(session, ctx, {
        f"account:{thief.account.external_id}": "fraud", f"account:{thief2.account.external_id}": "fraud",
        f"account:{own.account.external_id}": "own", f"account:{unrelated.account.external_id}": "unrelated",
    })
    return request, thief, thief2


def _last_mail(session, template: str) -> OutboxMessage:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id.desc())).first()


def _token(message: OutboxMessage) -> str:
    return re.search(r"/portal/records/([A-Za-z0-9_\-]+)", message.body_text).group(1)


def test_package_holds_only_fraud_matches_and_is_regenerated(session, ctx, scene):
    request, thief, thief2 = scene
    first = package_request(session, ctx.settings, request, actor=None)
    assert sorted(s["id"] for s in first.subjects) == sorted([thief.account.external_id, thief2.account.external_id])
    data = (ctx.settings.data_dir / first.storage_path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
    assert b"THIEFONE" in everything and b"THIEFTWO" in everything
    assert b"OWNACCOUNT" not in everything and b"UNRELATED" not in everything
    second = package_request(session, ctx.settings, request, actor=None)
    assert second.version == 2 and first.superseded_at is not None


def test_victim_link_checks_counts_expires_and_renews(session, ctx, scene, frozen):
    request, *_ = scene
    package_request(session, ctx.settings, request, actor=None)
    start = log_size(session)  # the log is append-only and shared: count only this test's leaves
    made, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None, max_downloads=2,
                                             days=7)
    assert request.status is Status.delivered
    mail = _last_mail(session, "records_package_ready")
    assert mail.to_address == "robin.victim@example.com" and _token(mail) == token
    assert made.token_hash != token and token not in str(made.__dict__)  # only the hash is stored
    with pytest.raises(delivery.CheckFailed):
        delivery.download(session, ctx.settings, ctx.keys, token, "VR-WRONG")
    link, data = delivery.download(session, ctx.settings, ctx.keys, token, request.reference.lower())
    assert data[:2] == b"PK" and link.delivery.downloads == 1
    delivery.download(session, ctx.settings, ctx.keys, token, request.reference)
    with pytest.raises(PolicyDenied, match="used up"):
        delivery.download(session, ctx.settings, ctx.keys, token, request.reference)
    outcomes = [e.detail for e in session.scalars(select(AuditEntry).where(
        AuditEntry.action == "records.download", AuditEntry.idx >= start))]
    assert list(outcomes) and sum('"downloaded"' in o for o in outcomes) == 2
    assert sum('"wrong_answer"' in o for o in outcomes) == 1
    # Used up, then renewed: a new link goes to the same address on file.
    assert delivery.renew(session, ctx.settings, ctx.keys, token) is True
    assert delivery.renew(session, ctx.settings, ctx.keys, token) is False  # only once
    fresh = _token(_last_mail(session, "records_package_ready"))
    assert fresh != token
    frozen.advance(timedelta(days=15))  # a renewed link lasts the default 14 days
    assert delivery.find_link(session, fresh).state == "expired"
    with pytest.raises(PolicyDenied, match="expired"):
        delivery.download(session, ctx.settings, ctx.keys, fresh, request.reference)


def test_five_wrong_answers_close_the_link(session, ctx, scene):
    request, *_ = scene
    package_request(session, ctx.settings, request, actor=None)
    _, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None)
    for _ in range(5):
        with pytest.raises(delivery.CheckFailed):
            delivery.download(session, ctx.settings, ctx.keys, token, "guess")
    with pytest.raises(PolicyDenied, match="closed"):
        delivery.download(session, ctx.settings, ctx.keys, token, request.reference)


def test_one_time_code(session, ctx, scene, frozen):
    request, *_ = scene
    package_request(session, ctx.settings, request, actor=None)
    _, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None,
                                          verification=Verification.code)
    with pytest.raises(delivery.CheckFailed):  # the reference is not enough on a code link
        delivery.download(session, ctx.settings, ctx.keys, token, request.reference)
    delivery.send_code(session, ctx.settings, ctx.keys, token)
    code = re.search(r"\b(\d{6})\b", _last_mail(session, "records_download_code").body_text).group(1)
    delivery.download(session, ctx.settings, ctx.keys, token, code)
    with pytest.raises(delivery.CheckFailed):  # a code works once
        delivery.download(session, ctx.settings, ctx.keys, token, code)
    frozen.advance(timedelta(minutes=2))
    delivery.send_code(session, ctx.settings, ctx.keys, token)
    late = re.search(r"\b(\d{6})\b", _last_mail(session, "records_download_code").body_text).group(1)
    frozen.advance(timedelta(minutes=16))
    with pytest.raises(delivery.CheckFailed):  # too late
        delivery.download(session, ctx.settings, ctx.keys, token, late)


def test_agency_gets_its_own_link_only_at_the_authorised_address(session, ctx, scene):
    request, *_ = scene
    package_request(session, ctx.settings, request, actor=None)
    delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None)
    auth = agency.record_authorisation(session, request, agency="Springfield Police Department",
                                       officer="Det. A. Rivera", badge_or_case="SPD-2026-4471",
                                       email="a.rivera@police.example.org", source="letter", actor=None)
    with pytest.raises(PolicyDenied, match="not the one the victim authorised"):
        delivery.deliver_to_agency(session, ctx.settings, ctx.keys, request, auth.id, actor=None,
                                   address="someone@elsewhere.example")
    _made, token = delivery.deliver_to_agency(session, ctx.settings, ctx.keys, request, auth.id, actor=None,
                                             address="A.Rivera@police.example.org")
    mail = _last_mail(session, "agency_package_ready")
    assert mail.to_address == "a.rivera@police.example.org" and "No subpoena is needed" in mail.body_text
    with pytest.raises(delivery.CheckFailed):
        delivery.download(session, ctx.settings, ctx.keys, token, request.reference)  # the agency's check differs
    _link, data = delivery.download(session, ctx.settings, ctx.keys, token, "spd-2026-4471")
    assert data[:2] == b"PK"
    event = session.scalars(select(AuditEntry).where(AuditEntry.action == "records.download")
                            .order_by(AuditEntry.idx.desc())).first()
    assert event.actor_type == "agency" and event.decision == "allow"
    # An agency asking on its own is the subpoena path: recorded, never delivered to.
    own = agency.record_authorisation(session, request, agency="Other County Sheriff", officer="Sgt. B",
                                      badge_or_case="OC-1", email="b@sheriff.example.org", actor=None,
                                      basis=AuthorisationBasis.legal_process)
    with pytest.raises(PolicyDenied, match="subpoena"):
        delivery.deliver_to_agency(session, ctx.settings, ctx.keys, request, own.id, actor=None,
                                   address="b@sheriff.example.org")


def test_no_delivery_before_a_package(session, ctx, scene):
    request, *_ = scene
    with pytest.raises(InvalidTransition):
        delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None)


def test_postal_delivery_is_recorded(session, ctx, scene):
    request, *_ = scene
    package_request(session, ctx.settings, request, actor=None)
    posted = delivery.record_postal(session, ctx.settings, ctx.keys, request, actor=None, tracking="9400 1000 0000")
    assert posted.status.value == "posted" and "3 Birch Lane" in posted.postal_address
    assert request.status is Status.delivered
