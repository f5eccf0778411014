"""Gather the records of confirmed-fraud subjects from the retail tables: only theirs, nothing of anyone else.

Subjects are the retail rows an agent confirmed as fraud: whole accounts (opened with the victim's identity),
payment methods (the victim's card on someone else's account) and credit applications. What each brings:

- an account: the account record (created, the name, contact details and date of birth the thief gave, the
  sign-up IP and device), its addresses, payment methods (brand, last four, expiry, name on card), orders with
  their lines and totals, support notes, and credit applications made from it;
- a payment method alone: the card's record, the orders paid with it (with their addresses), and who the account
  was in the account's own words (its identifier, opening date, name and contact details);
- a credit application alone: the application (the SSN's last four only), its decision and limit.

Internet navigational data (the account's sign-in history: when, from which IP and device) is left out unless
asked for (FCRA 609(e) lets a business decline it; the choice is written into the package).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.errors import InvalidInput
from ombud.records.models import SubjectKind
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

#: What leaving navigational data out means, in the package's own words.
NAVIGATIONAL_DESCRIPTION = "sign-in history (the time, IP address and device of each sign-in to the account)"


@dataclass(frozen=True, order=True)
class Subject:
    """One confirmed-fraud record: its kind and the retailer's own id of it (as RequestMatch.subject_id holds)."""

    kind: SubjectKind
    ref: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "id": self.ref}


def parse_subjects(items: Iterable[dict[str, Any] | tuple[str, str] | Subject]) -> list[Subject]:
    """Subjects from dicts, pairs or Subjects, de-duplicated and sorted; InvalidInput names a bad one."""
    subjects = set()
    for position, item in enumerate(items):
        if isinstance(item, Subject):
            subjects.add(item)
            continue
        kind, ident = (item.get("kind"), item.get("id")) if isinstance(item, dict) else item
        try:
            if not isinstance(ident, str | int) or not str(ident).strip() or len(str(ident)) > 64:
                raise ValueError("bad id")
            subjects.add(Subject(SubjectKind(getattr(kind, "value", kind)), str(ident).strip()))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"subject {position} is not (account|payment_method|credit_application, id)",
                               field=f"subjects[{position}]") from exc
    return sorted(subjects)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return getattr(value, "value", value)


def _address(a: Address) -> dict[str, Any]:
    return {"address_id": a.external_id, "kind": _iso(a.kind), "name": a.name, "line1": a.line1, "line2": a.line2,
            "city": a.city, "region": a.region, "postal_code": a.postal_code, "country": a.country,
            "added_at": _iso(a.created_at)}


def _card(p: PaymentMethod, addresses: dict[int, Address]) -> dict[str, Any]:
    billing = addresses.get(p.billing_address_id) if p.billing_address_id else None
    return {"payment_method_id": p.external_id, "brand": p.brand, "last4": p.last4,
            "expiry": f"{p.exp_month:02d}/{p.exp_year}", "name_on_card": p.cardholder_name,
            "billing_address_id": billing.external_id if billing else None,
            "added_at": _iso(p.added_at), "removed_at": _iso(p.removed_at)}


def _order(o: Order, lines: list[OrderLine], cards: dict[int, PaymentMethod],
           addresses: dict[int, Address]) -> dict[str, Any]:
    card = cards.get(o.payment_method_id) if o.payment_method_id else None
    ship = addresses.get(o.ship_to_address_id) if o.ship_to_address_id else None
    bill = addresses.get(o.billing_address_id) if o.billing_address_id else None
    return {
        "order_id": o.external_id, "placed_at": _iso(o.placed_at), "status": _iso(o.status), "currency": o.currency,
        "total_cents": o.total_cents,
        "paid_with": f"{card.brand} ending {card.last4}" if card else None,
        "payment_method_id": card.external_id if card else None,
        "ship_to": _address(ship) if ship else None, "bill_to": _address(bill) if bill else None,
        "placed_from_ip": o.ip, "placed_from_device": o.device,
        "lines": [{"line": ln.line_no, "sku": ln.sku, "description": ln.description, "quantity": ln.quantity,
                   "unit_price_cents": ln.unit_price_cents, "line_total_cents": ln.quantity * ln.unit_price_cents}
                  for ln in sorted(lines, key=lambda x: x.line_no)],
    }


def _application(c: CreditApplication) -> dict[str, Any]:
    return {
        "application_id": c.external_id, "product": _iso(c.product), "applied_at": _iso(c.applied_at),
        "applicant_name": c.applicant_name, "date_of_birth": _iso(c.date_of_birth),
        "ssn_last4": c.ssn_last4, "email": c.email, "phone": c.phone,
        "address": {"line1": c.line1, "line2": c.line2, "city": c.city, "region": c.region,
                    "postal_code": c.postal_code, "country": c.country},
        "stated_annual_income_cents": c.annual_income_cents, "decision": _iso(c.decision),
        "decided_at": _iso(c.decided_at), "credit_limit_cents": c.credit_limit_cents,
        "applied_from_ip": c.ip, "applied_from_device": c.device,
    }


def _account_header(a: Account) -> dict[str, Any]:
    return {"account_id": a.external_id, "opened_at": _iso(a.created_at), "status": _iso(a.status),
            "name": a.name, "email": a.email, "phone": a.phone, "date_of_birth": _iso(a.date_of_birth),
            "opened_from_ip": a.signup_ip, "opened_from_device": a.signup_device}


def _in(column: Any, ids: Iterable[Any]) -> Any:
    return column.in_(sorted(set(ids)))


def collect(session: Session, subjects: Sequence[Subject], *, include_navigational: bool = False) -> dict[str, Any]:
    """The records of these subjects as one JSON-ready document (see the module's docstring for what is in it)."""
    account_refs = [s.ref for s in subjects if s.kind is SubjectKind.account]
    card_refs = [s.ref for s in subjects if s.kind is SubjectKind.payment_method]
    app_refs = [s.ref for s in subjects if s.kind is SubjectKind.credit_application]

    accounts = {a.id: a for a in session.scalars(select(Account).where(_in(Account.external_id, account_refs)))}
    lone_cards = {p.id: p for p in session.scalars(
        select(PaymentMethod).where(_in(PaymentMethod.external_id, card_refs)))}
    lone_apps = {c.id: c for c in session.scalars(
        select(CreditApplication).where(_in(CreditApplication.external_id, app_refs)))}
    found = ({a.external_id for a in accounts.values()} | {p.external_id for p in lone_cards.values()}
             | {c.external_id for c in lone_apps.values()})
    missing = [f"{s.kind.value} {s.ref}" for s in subjects if s.ref not in found]
    if missing:
        raise InvalidInput(f"no such records: {', '.join(missing[:5])}", field="subjects")
    # A card or application on an account that is itself confirmed is covered by that account.
    lone_cards = {i: p for i, p in lone_cards.items() if p.account_id not in accounts}
    lone_apps = {i: c for i, c in lone_apps.items() if c.account_id not in accounts}

    cards = {p.id: p for p in session.scalars(select(PaymentMethod).where(_in(PaymentMethod.account_id, accounts)))}
    cards.update(lone_cards)
    orders = list(session.scalars(select(Order).where(_in(Order.account_id, accounts))))
    orders += list(session.scalars(select(Order).where(_in(Order.payment_method_id, lone_cards))))
    orders.sort(key=lambda o: (o.placed_at, o.id))
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for start in range(0, len(orders), 1000):
        chunk = [o.id for o in orders[start : start + 1000]]
        for line in session.scalars(select(OrderLine).where(_in(OrderLine.order_id, chunk))):
            lines[line.order_id].append(line)
    # Addresses: every address of a confirmed account; for a lone card only those its orders and billing used.
    address_ids = {o.ship_to_address_id for o in orders} | {o.billing_address_id for o in orders}
    address_ids |= {p.billing_address_id for p in cards.values()}
    address_ids.discard(None)
    addresses = {a.id: a for a in session.scalars(select(Address).where(
        _in(Address.account_id, accounts) | _in(Address.id, [i for i in address_ids if i is not None])))}
    notes: dict[int, list[SupportNote]] = defaultdict(list)
    for note in session.scalars(select(SupportNote).where(_in(SupportNote.account_id, accounts))
                                .order_by(SupportNote.created_at, SupportNote.id)):
        notes[note.account_id].append(note)
    account_apps: dict[int, list[CreditApplication]] = defaultdict(list)
    for app in session.scalars(select(CreditApplication).where(_in(CreditApplication.account_id, accounts))
                               .order_by(CreditApplication.applied_at, CreditApplication.id)):
        if app.account_id is not None:
            account_apps[app.account_id].append(app)
    sign_ins: dict[int, list[Login]] = defaultdict(list)
    if include_navigational:
        for login in session.scalars(select(Login).where(_in(Login.account_id, accounts))
                                     .order_by(Login.at, Login.id)):
            sign_ins[login.account_id].append(login)
    owners = {a.id: a for a in session.scalars(
        select(Account).where(_in(Account.id, [p.account_id for p in lone_cards.values()])))}

    by_account: dict[int, list[Order]] = defaultdict(list)
    by_card: dict[int, list[Order]] = defaultdict(list)
    for o in orders:
        if o.account_id in accounts:
            by_account[o.account_id].append(o)
        elif o.payment_method_id in lone_cards:
            by_card[o.payment_method_id].append(o)

    document_accounts = []
    for a in sorted(accounts.values(), key=lambda x: (x.created_at, x.id)):
        entry = {
            "account": _account_header(a),
            "addresses": [_address(x) for x in sorted(addresses.values(), key=lambda x: (x.created_at, x.id))
                          if x.account_id == a.id],
            "payment_methods": [_card(p, addresses) for p in sorted(cards.values(), key=lambda x: (x.added_at, x.id))
                                if p.account_id == a.id],
            "orders": [_order(o, lines[o.id], cards, addresses) for o in by_account[a.id]],
            "support_notes": [{"note_id": n.external_id, "at": _iso(n.created_at), "channel": n.channel,
                               "author": n.author, "text": n.body} for n in notes[a.id]],
            "credit_applications": [_application(c) for c in account_apps[a.id]],
        }
        if include_navigational:
            entry["sign_ins"] = [{"at": _iso(s.at), "ip": s.ip, "device": s.device, "success": s.success}
                                 for s in sign_ins[a.id]]
        document_accounts.append(entry)
    document_cards = []
    for p in sorted(lone_cards.values(), key=lambda x: (x.added_at, x.id)):
        owner = owners[p.account_id]
        document_cards.append({
            "payment_method": _card(p, addresses),
            "on_account": {k: v for k, v in _account_header(owner).items()
                           if k in ("account_id", "opened_at", "name", "email", "phone")},
            "orders": [_order(o, lines[o.id], cards, addresses) for o in by_card[p.id]],
        })
    document_apps = [_application(c) for c in sorted(lone_apps.values(), key=lambda x: (x.applied_at, x.id))]
    all_orders = [o for entry in document_accounts for o in entry["orders"]] + \
                 [o for entry in document_cards for o in entry["orders"]]
    counts = {
        "accounts": len(document_accounts), "payment_methods": len(document_cards),
        "credit_applications": len(document_apps) + sum(len(e["credit_applications"]) for e in document_accounts),
        "orders": len(all_orders), "order_lines": sum(len(o["lines"]) for o in all_orders),
        "support_notes": sum(len(e["support_notes"]) for e in document_accounts),
    }
    return {"accounts": document_accounts, "payment_methods": document_cards, "credit_applications": document_apps,
            "counts": counts}
