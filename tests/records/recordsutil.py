"""A small retail store for package tests: accounts with cards, orders, notes, applications and sign-ins, each
record carrying its account's marker in its text so a leak is easy to see (imported by name)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from ombud.retail.models import (
    Account,
    AccountStatus,
    Address,
    AddressKind,
    CreditApplication,
    CreditDecision,
    CreditProduct,
    Login,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    SupportNote,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
_seq = itertools.count(1)


@dataclass
class Built:
    account: Account
    cards: list[PaymentMethod] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    applications: list[CreditApplication] = field(default_factory=list)
    notes: list[SupportNote] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)


def account(session: Session, *, orders: int = 2, lines: int = 2, marker: str | None = None,
            status: OrderStatus = OrderStatus.delivered) -> Built:
    """One account with two addresses, two cards, `orders` orders of `lines` lines, a note, an application and
    a sign-in; every free-text field holds `marker`."""
    n = next(_seq)
    mark = marker or f"MARK{n:05d}"
    a = Account(external_id=f"ACC-{n:05d}", status=AccountStatus.active, created_at=T0 - timedelta(days=n),
                name=f"Name {mark}", email=f"{mark.lower()}@example.com", phone="+1 555 010 0000",
                date_of_birth=date(1980, 1, 2), signup_ip="203.0.113.7", signup_device=f"Device {mark}",
                updated_at=T0)
    session.add(a)
    session.flush()
    built = Built(a)
    for k in range(2):
        address = Address(external_id=f"ADR-{n:05d}-{k}", account_id=a.id, kind=AddressKind.shipping,
                          name=f"Ship {mark}", line1=f"{k + 1} Street {mark}", city="Springfield", region="IL",
                          postal_code="62704", country="US", created_at=T0)
        session.add(address)
        built.addresses.append(address)
    session.flush()
    for k in range(2):
        card = PaymentMethod(external_id=f"PM-{n:05d}-{k}", account_id=a.id, card_fingerprint=f"{n:030x}{k:02x}",
                             last4=f"{(n * 7 + k) % 10000:04d}", brand="visa", exp_month=5, exp_year=2030,
                             cardholder_name=f"Holder {mark}", billing_address_id=built.addresses[0].id,
                             added_at=T0)
        session.add(card)
        built.cards.append(card)
    session.flush()
    for k in range(orders):
        order = Order(external_id=f"ORD-{n:05d}-{k:04d}", account_id=a.id, placed_at=T0 + timedelta(minutes=k),
                      status=status, currency="USD", total_cents=100 * lines,
                      payment_method_id=built.cards[k % 2].id, ship_to_address_id=built.addresses[k % 2].id,
                      ip="198.51.100.1", device="Phone")
        session.add(order)
        built.orders.append(order)
    session.flush()
    session.add_all([OrderLine(order_id=o.id, line_no=i + 1, sku=f"SKU{i}", description=f"Item {mark}",
                               quantity=1, unit_price_cents=100) for o in built.orders for i in range(lines)])
    note = SupportNote(external_id=f"NOTE-{n:05d}", account_id=a.id, created_at=T0, author="Agent",
                       channel="chat", body=f"Note about {mark}")
    app = CreditApplication(external_id=f"APP-{n:05d}", account_id=a.id, product=CreditProduct.store_card,
                            applied_at=T0, applicant_name=f"Applicant {mark}", ssn_last4="6789",
                            line1=f"9 Road {mark}", city="Springfield", region="IL", postal_code="62704",
                            country="US", decision=CreditDecision.approved, credit_limit_cents=50000)
    session.add_all([note, app, Login(external_id=f"LOGIN-{n:05d}", account_id=a.id, at=T0, ip="192.0.2.9",
                                      device=f"Browser {mark}", success=True)])
    session.flush()
    built.notes.append(note)
    built.applications.append(app)
    return built


# --- a victim's request, moved to the package stage with its matches decided --------------------------------

VICTIM = {
    "full_name": "Robin Victim",
    "email": "robin.victim@example.com",
    "phone": "(217) 555-0199",
    "address": {"line1": "3 Birch Lane", "city": "Springfield", "region": "IL", "postal_code": "62704"},
    "date_of_birth": "1980-01-02",
    "card_numbers": ["4111 1111 1111 1111"],
    "statement_true": True,
}


def request_at_package(session, ctx, verdicts: dict[str, str], data: dict | None = None):
    """A victim's request (through the service) standing at `package`, with one match per subject and its verdict.

    `verdicts` maps "kind:external_id" to fraud / own / unrelated."""
    from ombud.clock import now
    from ombud.victim_requests import service
    from ombud.victim_requests.models import MatchVerdict, RequestMatch, SubjectKind
    from ombud.victim_requests.schemas import RequestCreate
    from ombud.victim_requests.states import Channel, Status

    made = service.submit(session, ctx.keys, ctx.settings, RequestCreate.model_validate(data or VICTIM),
                          channel=Channel.portal)
    request = made.request
    for key, verdict in verdicts.items():
        kind, _, ref = key.partition(":")
        session.add(RequestMatch(request_id=request.id, subject_kind=SubjectKind(kind), subject_id=ref,
                                 account_ref=ref if kind == "account" else None, explanation_enc=b"", found_at=now(),
                                 verdict=MatchVerdict(verdict)))
    request.status = Status.package
    session.flush()
    return request


def victim_card_on(session, ctx, built: Built, number: str = "4111 1111 1111 1111") -> None:
    """Make the first card of an account the victim's own card (same keyed fingerprint)."""
    from ombud.crypto import card_fingerprint

    built.cards[0].card_fingerprint = card_fingerprint(ctx.keys.card_fingerprint_key, number)
    session.flush()
