"""Reading the retailer's records: an account by the retailer's id, and everything hanging off it.

Plain reads for other domains (discovery, records packages, remediation); they flush nothing and decide
nothing. Staff-facing reads of personal data go through the access broker, which calls these.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud.errors import NotFound
from ombud.retail.models import (
    Account,
    Address,
    CreditApplication,
    Login,
    Order,
    OrderLine,
    PaymentMethod,
    SupportNote,
)

#: Tables counted by `count_records`, by the import's kind names.
_COUNTED = {
    "accounts": Account,
    "addresses": Address,
    "payment_methods": PaymentMethod,
    "orders": Order,
    "order_lines": OrderLine,
    "credit_applications": CreditApplication,
    "logins": Login,
    "support_notes": SupportNote,
}


def get_account(session: Session, account_id: int) -> Account:
    """The account with this internal id, or NotFound."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", field="account_id")
    return account


def get_account_by_external_id(session: Session, external_id: str) -> Account | None:
    """The account with the retailer's id, if Ombud holds it."""
    return session.scalar(select(Account).where(Account.external_id == external_id))


def require_account_by_external_id(session: Session, external_id: str) -> Account:
    """The account with the retailer's id, or NotFound naming it."""
    account = get_account_by_external_id(session, external_id)
    if account is None:
        raise NotFound(f"no account with the retailer's id {external_id}", field="account_id")
    return account


def list_addresses(session: Session, account_id: int) -> list[Address]:
    """The account's shipping and billing addresses, oldest first."""
    query = select(Address).where(Address.account_id == account_id).order_by(Address.created_at, Address.id)
    return list(session.scalars(query))


def list_payment_methods(session: Session, account_id: int, *, include_removed: bool = True) -> list[PaymentMethod]:
    """The cards on the account (fingerprints and printed details), in the order they were added."""
    query = select(PaymentMethod).where(PaymentMethod.account_id == account_id)
    if not include_removed:
        query = query.where(PaymentMethod.removed_at.is_(None))
    return list(session.scalars(query.order_by(PaymentMethod.added_at, PaymentMethod.id)))


def find_payment_methods_by_fingerprint(session: Session, fingerprint: str) -> list[PaymentMethod]:
    """Every card entry, on any account, with this keyed fingerprint (the same physical card)."""
    query = select(PaymentMethod).where(PaymentMethod.card_fingerprint == fingerprint)
    return list(session.scalars(query.order_by(PaymentMethod.added_at, PaymentMethod.id)))


def get_order_by_external_id(session: Session, external_id: str) -> Order | None:
    """The order with the retailer's id, if Ombud holds it."""
    return session.scalar(select(Order).where(Order.external_id == external_id))


def list_orders(session: Session, account_id: int) -> list[Order]:
    """The account's orders, oldest first."""
    query = select(Order).where(Order.account_id == account_id).order_by(Order.placed_at, Order.id)
    return list(session.scalars(query))


def list_order_lines(session: Session, order_ids: list[int]) -> dict[int, list[OrderLine]]:
    """The lines of each order (by internal order id), in line order; one query for all of them."""
    lines: dict[int, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return lines
    query = select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.order_id,
                                                                                  OrderLine.line_no)
    for line in session.scalars(query):
        lines[line.order_id].append(line)
    return lines


def list_credit_applications(session: Session, account_id: int) -> list[CreditApplication]:
    """Store-card and financing applications tied to the account, oldest first."""
    query = (select(CreditApplication).where(CreditApplication.account_id == account_id)
             .order_by(CreditApplication.applied_at, CreditApplication.id))
    return list(session.scalars(query))


def list_logins(session: Session, account_id: int, *, limit: int | None = None) -> list[Login]:
    """The account's sign-ins, newest first (all of them unless `limit`)."""
    query = select(Login).where(Login.account_id == account_id).order_by(Login.at.desc(), Login.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def list_support_notes(session: Session, account_id: int) -> list[SupportNote]:
    """Customer-service notes on the account, oldest first."""
    query = (select(SupportNote).where(SupportNote.account_id == account_id)
             .order_by(SupportNote.created_at, SupportNote.id))
    return list(session.scalars(query))


def count_records(session: Session) -> dict[str, int]:
    """How many records of each kind Ombud holds."""
    return {kind: session.scalar(select(func.count()).select_from(model)) or 0 for kind, model in _COUNTED.items()}
