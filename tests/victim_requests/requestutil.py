"""Helpers of the victim-requests tests: Jane's request, a few retail rows, audit counting."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from ombud.audit.models import AuditEntry
from ombud.crypto import card_fingerprint
from ombud.retail.models import Account, AccountStatus, Address, AddressKind, PaymentMethod
from ombud.victim_requests import service
from ombud.victim_requests.schemas import RequestCreate
from ombud.victim_requests.states import Channel

JANE = {
    "full_name": "Jane Quinn Doe",
    "email": "jane.doe@example.com",
    "phone": "(217) 555-0143",
    "address": {"line1": "12 Oak Street", "line2": "Apt 4B", "city": "Springfield", "region": "IL",
                "postal_code": "62704"},
    "date_of_birth": "1984-07-19",
    "card_numbers": ["4111 1111 1111 1111"],
    "statement_true": True,
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
_ids = itertools.count(1)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_request(session, ctx, data=None, **kwargs):
    """A request through the service (portal channel unless told)."""
    kwargs.setdefault("channel", Channel.portal)
    return service.submit(session, ctx.keys, ctx.settings, RequestCreate.model_validate(data or JANE), **kwargs)


def leaves(session) -> int:
    """How many leaves the audit log holds."""
    return session.scalar(select(func.count()).select_from(AuditEntry))


def account_with_card(session, keys, name, email, card=None, *, line1="9 Elm Road", postal="19901"):
    """A retail account (with an address and optionally a card), stored as the importer stores them."""
    n = next(_ids)
    account = Account(external_id=f"VRA{n:05d}", status=AccountStatus.active, created_at=T0, updated_at=T0,
                      name=name, email=email, phone=None, date_of_birth=date(1984, 7, 19))
    session.add(account)
    session.flush()
    address = Address(external_id=f"VRAD{n:05d}", account_id=account.id, kind=AddressKind.shipping, line1=line1,
                      line2=None, city="Dover", region="DE", postal_code=postal, country="US", created_at=T0)
    session.add(address)
    session.flush()
    if card:
        session.add(PaymentMethod(external_id=f"VRPM{n:05d}", account_id=account.id,
                                  card_fingerprint=card_fingerprint(keys.card_fingerprint_key, card),
                                  last4=card[-4:], brand="visa", exp_month=1, exp_year=2030,
                                  cardholder_name=name, billing_address_id=address.id, added_at=T0))
        session.flush()
    return account
