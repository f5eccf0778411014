"""Loading a customer's fields from the retailer's records, for the broker only.

This is the one module that selects personal columns of the retail tables for staff; the only-road test
(tests/access/test_only_road.py) keeps every page, endpoint and command away from them. Values come back
in the shape the view shows (a card as brand, ``•••• 4242`` and expiry; an SSN as its last four at most);
the broker masks what the policies deny.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.access.masking import show_ssn_last4
from ombud.crypto import FieldCipher
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

#: At most this many of the newest rows of a list field (sign-ins, orders, notes) are shown.
LIST_LIMIT = 100
SSN_CONTEXT = "retail_credit_application.ssn"
_ACCOUNT_COLUMNS = {
    "name": Account.name,
    "email": Account.email,
    "phone": Account.phone,
    "date_of_birth": Account.date_of_birth,
    "signup_ip": Account.signup_ip,
    "signup_device": Account.signup_device,
}


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _account_values(session: Session, account_id: int, names: set[str]) -> dict[str, Any]:
    columns = [_ACCOUNT_COLUMNS[n] for n in sorted(names)]
    row = session.execute(select(*columns).where(Account.id == account_id)).one()
    return dict(zip(sorted(names), row, strict=True))


def _address(row: Any) -> dict[str, Any]:
    return {
        "id": row.external_id, "kind": row.kind.value, "name": row.name, "line1": row.line1, "line2": row.line2,
        "city": row.city, "region": row.region, "postal_code": row.postal_code, "country": row.country,
    }


def _addresses(session: Session, account_id: int, _cipher: FieldCipher | None) -> list[dict[str, Any]]:
    rows = session.scalars(select(Address).where(Address.account_id == account_id).order_by(Address.created_at.desc()))
    return [_address(r) for r in rows]


def _cards(session: Session, account_id: int, _cipher: FieldCipher | None) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PaymentMethod).where(PaymentMethod.account_id == account_id).order_by(PaymentMethod.added_at.desc())
    )
    return [
        {
            "id": r.external_id, "brand": r.brand, "number": f"•••• {r.last4}", "last4": r.last4,
            "expiry": f"{r.exp_month:02d}/{r.exp_year:04d}", "cardholder_name": r.cardholder_name,
            "added_at": _iso(r.added_at), "removed_at": _iso(r.removed_at),
        }
        for r in rows
    ]


def _orders(session: Session, account_id: int, _cipher: FieldCipher | None) -> list[dict[str, Any]]:
    orders = session.scalars(
        select(Order).where(Order.account_id == account_id).order_by(Order.placed_at.desc()).limit(LIST_LIMIT)
    ).all()
    lines: dict[int, list[dict[str, Any]]] = {}
    if orders:
        for line in session.scalars(
            select(OrderLine).where(OrderLine.order_id.in_([o.id for o in orders])).order_by(OrderLine.line_no)
        ):
            lines.setdefault(line.order_id, []).append(
                {"sku": line.sku, "description": line.description, "quantity": line.quantity,
                 "unit_price_cents": line.unit_price_cents}
            )
    ship_to: dict[int, str] = {}
    address_ids = {o.ship_to_address_id for o in orders if o.ship_to_address_id}
    if address_ids:
        query = select(Address.id, Address.external_id).where(Address.id.in_(address_ids))
        ship_to = {row[0]: row[1] for row in session.execute(query)}
    return [
        {
            "id": o.external_id, "placed_at": _iso(o.placed_at), "status": o.status.value, "currency": o.currency,
            "total_cents": o.total_cents, "items": lines.get(o.id, []),
            "ship_to": ship_to.get(o.ship_to_address_id) if o.ship_to_address_id else None,
            "ip": o.ip, "device": o.device,
        }
        for o in orders
    ]


def _logins(session: Session, account_id: int, _cipher: FieldCipher | None) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Login).where(Login.account_id == account_id).order_by(Login.at.desc()).limit(LIST_LIMIT)
    )
    return [{"at": _iso(r.at), "ip": r.ip, "device": r.device, "success": r.success} for r in rows]


def _notes(session: Session, account_id: int, _cipher: FieldCipher | None) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(SupportNote).where(SupportNote.account_id == account_id)
        .order_by(SupportNote.created_at.desc()).limit(LIST_LIMIT)
    )
    return [
        {"id": r.external_id, "created_at": _iso(r.created_at), "channel": r.channel, "author": r.author,
         "body": r.body}
        for r in rows
    ]


def _ssn_last4(row: CreditApplication, cipher: FieldCipher | None) -> str | None:
    if row.ssn_last4:
        return show_ssn_last4(row.ssn_last4)
    if row.ssn_encrypted is not None and cipher is not None:
        # Only the last four ever leave this function; the full number is never put in a view.
        return show_ssn_last4(cipher.decrypt(row.ssn_encrypted, SSN_CONTEXT))
    return None


def _applications(session: Session, account_id: int, cipher: FieldCipher | None) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CreditApplication).where(CreditApplication.account_id == account_id)
        .order_by(CreditApplication.applied_at.desc()).limit(LIST_LIMIT)
    )
    return [
        {
            "id": r.external_id, "product": r.product.value, "applied_at": _iso(r.applied_at),
            "decision": r.decision.value, "applicant_name": r.applicant_name, "email": r.email, "phone": r.phone,
            "address": {"line1": r.line1, "line2": r.line2, "city": r.city, "region": r.region,
                        "postal_code": r.postal_code, "country": r.country},
            "ssn_last4": _ssn_last4(r, cipher), "date_of_birth": _iso(r.date_of_birth),
            "annual_income_cents": r.annual_income_cents, "ip": r.ip, "device": r.device,
        }
        for r in rows
    ]


_LIST_LOADERS: dict[str, Callable[[Session, int, FieldCipher | None], list[dict[str, Any]]]] = {
    "addresses": _addresses,
    "payment_methods": _cards,
    "orders": _orders,
    "logins": _logins,
    "support_notes": _notes,
    "credit_applications": _applications,
}


def load(session: Session, account_id: int, fields: Iterable[str], cipher: FieldCipher | None = None) -> dict[str, Any]:
    """The unmasked values of the named fields of one account (only the broker calls this)."""
    wanted = set(fields)
    out: dict[str, Any] = {}
    account_names = {n for n in ("name", "email", "phone", "date_of_birth") if n in wanted}
    if "signup" in wanted:
        account_names |= {"signup_ip", "signup_device"}
    if account_names:
        values = _account_values(session, account_id, account_names)
        for name in ("name", "email", "phone"):
            if name in wanted:
                out[name] = values[name]
        if "date_of_birth" in wanted:
            out["date_of_birth"] = _iso(values["date_of_birth"])
        if "signup" in wanted:
            out["signup"] = {"ip": values["signup_ip"], "device": values["signup_device"]}
    if "ssn_last4" in wanted or ("date_of_birth" in wanted and out.get("date_of_birth") is None):
        latest = session.scalars(
            select(CreditApplication).where(CreditApplication.account_id == account_id)
            .order_by(CreditApplication.applied_at.desc())
        ).first()
        if "ssn_last4" in wanted:
            out["ssn_last4"] = _ssn_last4(latest, cipher) if latest else None
        if "date_of_birth" in wanted and out.get("date_of_birth") is None:
            out["date_of_birth"] = _iso(latest.date_of_birth) if latest else None
    for name, loader in _LIST_LOADERS.items():
        if name in wanted:
            out[name] = loader(session, account_id, cipher)
    return out
