"""Factories for access tests: staff, a customer with every kind of record, and cases (fictional data)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import cases
from ombud.access.models import Case, CaseType
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
from ombud.staff.models import Employee, Role

_seq = itertools.count(1)
#: The audit log's size when the running test began (set by an autouse fixture), so a test sees only its events
#: even where an earlier test's commit outlived its rollback (pysqlite savepoints).
AUDIT_START = [0]


def events(session: Session, prefix: str, **filters):
    """This test's audit events whose action starts with the prefix, in log order."""
    from ombud.audit.service import list_events

    return list_events(session, action_prefix=prefix, after_index=AUDIT_START[0] - 1, limit=1000, **filters)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


def employee(session: Session, role: Role = Role.agent, *, team: str = "support-east", region: str = "us",
             manager: Employee | None = None, name: str | None = None) -> Employee:
    n = next(_seq)
    emp = Employee(
        external_id=f"E{n:05d}", name=name or f"Staff Member {n}", email=f"staff{n}@example.com", team=team,
        role=role, region=region, manager_id=manager.id if manager else None, created_at=clock.now(),
    )
    session.add(emp)
    session.flush()
    return emp


def customer(session: Session, *, country: str = "US", cipher=None) -> Account:
    """An account with an address, a card, an order, a credit application, a sign-in and a support note."""
    n = next(_seq)
    now = clock.now()
    account = Account(
        external_id=f"C{n:06d}", status=AccountStatus.active, created_at=now - timedelta(days=400),
        name="Jane Quinn Doe", email=f"jane.doe{n}@example.com", phone="+1 (555) 010-4321",
        date_of_birth=date(1985, 7, 14), signup_ip="203.0.113.7", signup_device="Firefox 128 on Linux",
        updated_at=now,
    )
    session.add(account)
    session.flush()
    address = Address(
        external_id=f"A{n:06d}", account_id=account.id, kind=AddressKind.shipping, name="Jane Doe",
        line1="42 Elm Street", line2="Apt 7", city="Springfield", region="IL", postal_code="62704",
        country=country, created_at=now - timedelta(days=300),
    )
    session.add(address)
    session.flush()
    card = PaymentMethod(
        external_id=f"P{n:06d}", account_id=account.id, card_fingerprint=f"{n:032x}", last4="4242", brand="visa",
        exp_month=4, exp_year=2029, cardholder_name="Jane Q Doe", billing_address_id=address.id,
        added_at=now - timedelta(days=200),
    )
    session.add(card)
    session.flush()
    order = Order(
        external_id=f"O{n:06d}", account_id=account.id, placed_at=now - timedelta(days=20),
        status=OrderStatus.delivered,
        currency="USD", total_cents=4599, payment_method_id=card.id, ship_to_address_id=address.id,
        ip="198.51.100.23", device="Safari on iPhone",
    )
    session.add(order)
    session.flush()
    session.add(OrderLine(order_id=order.id, line_no=1, sku="SKU-1", description="Garden hose", quantity=1,
                          unit_price_cents=4599))
    session.add(CreditApplication(
        external_id=f"CA{n:06d}", account_id=account.id, product=CreditProduct.store_card,
        applied_at=now - timedelta(days=100), applicant_name="Jane Q Doe", date_of_birth=date(1985, 7, 14),
        ssn_encrypted=cipher.encrypt("123-45-6789", "retail_credit_application.ssn") if cipher else None,
        ssn_hash=None, ssn_last4=None if cipher else "6789", email=account.email, phone=account.phone,
        line1="42 Elm Street", city="Springfield", region="IL", postal_code="62704", country=country,
        annual_income_cents=8_500_000, decision=CreditDecision.approved, ip="203.0.113.9", device="Firefox",
    ))
    session.add(Login(external_id=f"L{n:06d}", account_id=account.id, at=now - timedelta(days=1),
                      ip="203.0.113.50", device="Chrome on Windows", success=True))
    session.add(SupportNote(external_id=f"N{n:06d}", account_id=account.id, created_at=now - timedelta(days=3),
                            author="Alex Agent", channel="phone", body="Customer asked about the hose delivery."))
    session.flush()
    return account


def case(session: Session, account: Account, assignee: Employee | None, case_type: CaseType = CaseType.support_ticket,
         *, team: str | None = None) -> Case:
    return cases.open_case(session, case_type=case_type, customer_id=account.external_id, title="Test case",
                           actor=None, assignee=assignee, team=team)


def close_open_rounds(session: Session) -> None:
    """Close review rounds left open by earlier tests (only one round may be open at a time)."""
    from ombud.access import reviews
    from ombud.access.models import RoundStatus

    for round_ in reviews.list_rounds(session, limit=100):
        if round_.status is RoundStatus.open:
            reviews.close_round(session, round_, actor=None)
