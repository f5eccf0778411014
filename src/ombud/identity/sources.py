"""Reading the retail rows an identity is built from, as sources: (reference, parts) per row.

A record's sources are its account (`A`), addresses (`a<id>`), cards (`p<id>`) and credit applications
(`c<id>`); a credit application with no account is a record of its own (`c<id>` alone). The full
rebuild reads every source of a range of accounts; the incremental upkeep reads only the rows an
import batch changed. Both go through `ombud.identity.parts`, so a row gives the same parts either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ombud.identity.indexdb import IndexDB
from ombud.identity.parts import account_parts, address_parts, application_parts, card_parts
from ombud.identity.record import Parts

#: account id -> its sources (reference, parts), in no particular order (`compose_sorted` orders them).
Sources = dict[int, list[tuple[str, Parts]]]

_ACCOUNT = "SELECT {first}, name, email, phone, date_of_birth FROM retail_account WHERE {{where}}"
_ADDRESS = ("SELECT {first}, line1, line2, city, region, postal_code, country FROM retail_address "
            "WHERE {{where}}")
_CARD = "SELECT {first}, card_fingerprint, last4, cardholder_name FROM retail_payment_method WHERE {{where}}"
_APPLICATION = ("SELECT {first}, applicant_name, date_of_birth, ssn_hash, email, phone, line1, line2, city, "
                "region, postal_code, country FROM retail_credit_application WHERE {{where}}")


def _sql(template: str, first: str) -> str:
    return template.format(first=first)


# --- rows to sources -----------------------------------------------------------------------------------------


def _address(row: tuple[Any, ...]) -> tuple[str, Parts]:
    return f"a{row[1]}", address_parts(*row[3:])


def _card(row: tuple[Any, ...]) -> tuple[str, Parts]:
    return f"p{row[1]}", card_parts(*row[3:])


def _application(row: tuple[Any, ...]) -> tuple[str, Parts]:
    return f"c{row[1]}", application_parts(*row[3:])


# --- whole accounts --------------------------------------------------------------------------------------------


def account_sources(db: IndexDB, account_ids: Iterable[int] | None = None,
                    between: tuple[int, int] | None = None) -> Sources:
    """Every source of these accounts (or of the accounts with ids in `between`, inclusive)."""
    if between is not None:
        lo, hi = between
        where = "account_id BETWEEN ? AND ?"
        accounts = db.rows(_sql(_ACCOUNT, "id").format(where="id BETWEEN ? AND ?"), between)

        def children(template: str) -> list[tuple[Any, ...]]:
            return db.rows(_sql(template, "account_id, id, account_id").format(where=where), (lo, hi))
    else:
        accounts = db.by_ids(_sql(_ACCOUNT, "id"), "id", account_ids or ())
        found = [row[0] for row in accounts]

        def children(template: str) -> list[tuple[Any, ...]]:
            return db.by_ids(_sql(template, "account_id, id, account_id"), "account_id", found)
    out: Sources = {row[0]: [("A", account_parts(*row[1:]))] for row in accounts}
    for build, template in ((_address, _ADDRESS), (_card, _CARD), (_application, _APPLICATION)):
        for row in children(template):
            sources = out.get(row[0])
            if sources is not None:
                sources.append(build(row))
    return out


def standalone_applications(db: IndexDB, between: tuple[int, int]) -> dict[int, tuple[str, Parts]]:
    """Application id -> its source, for the applications with no account with ids in `between`."""
    rows = db.rows(_sql(_APPLICATION, "id, id, account_id").format(
        where="id BETWEEN ? AND ? AND account_id IS NULL"), between)
    return {row[0]: _application(row) for row in rows}


# --- the rows an import batch changed ---------------------------------------------------------------------------


def changed_sources(db: IndexDB, kind: str, ids: Iterable[int]) -> list[tuple[int | None, str, Parts]]:
    """(owning account id, reference, parts) of the rows of one kind; None as the account of an application
    that has none."""
    if kind == "accounts":
        return [(row[0], "A", account_parts(*row[1:])) for row in db.by_ids(_sql(_ACCOUNT, "id"), "id", ids)]
    build, template = {"addresses": (_address, _ADDRESS), "payment_methods": (_card, _CARD),
                       "credit_applications": (_application, _APPLICATION)}[kind]
    out = []
    for row in db.by_ids(_sql(template, "id, id, account_id"), "id", ids):
        ref, parts = build(row)
        out.append((row[2], ref, parts))
    return out
