"""What each retail row adds to an identity: the normalised parts of an account, address, card or application.

Pure: no database. The same functions serve the full rebuild and the incremental upkeep, so both give
the same parts for the same row. A retailer repeats itself (a shipping address is the billing address,
the cardholder name is the account's name, the same cities, ZIP codes and first names everywhere), so
each normaliser (in `normalize` and `address`) remembers its answers for the exact inputs it has seen
(bounded caches).

Parts come in the order `Identity.sources()`-style decomposition gives them (names, emails, phones,
addresses, dates of birth, SSNs, cards), so freshly built parts compare equal to stored ones.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from ombud.identity.address import normalize_address
from ombud.identity.normalize import normalize_email, normalize_phone, parse_name
from ombud.identity.record import Parts


@lru_cache(maxsize=1 << 16)
def _dob_text(text: str) -> date:
    return date.fromisoformat(text)


def as_date(value: Any) -> date | None:
    """A date from the driver (SQLite hands back ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return _dob_text(str(value)[:10])


def _parts(*pairs: tuple[str, Any]) -> Parts:
    return tuple(pair for pair in pairs if pair[1] is not None)


def account_parts(name: str | None, email: str | None, phone: str | None, dob: Any) -> Parts:
    """The account's own name, email, phone and date of birth."""
    return _parts(("names", parse_name(name)), ("emails", normalize_email(email)),
                  ("phones", normalize_phone(phone)), ("dobs", as_date(dob)))


def address_parts(line1: str | None, line2: str | None, city: str | None, region: str | None,
                  postal_code: str | None, country: str | None) -> Parts:
    """One postal address."""
    return _parts(("addresses", normalize_address(line1, line2, city, region, postal_code, country)))


def card_parts(fingerprint: str | None, last4: str | None, cardholder: str | None) -> Parts:
    """A card (by keyed fingerprint) and its cardholder's name."""
    card = None if fingerprint is None else (fingerprint, last4 or "")
    return _parts(("names", parse_name(cardholder)), ("cards", card))


def application_parts(name: str | None, dob: Any, ssn_hash: str | None, email: str | None, phone: str | None,
                      line1: str | None, line2: str | None, city: str | None, region: str | None,
                      postal_code: str | None, country: str | None) -> Parts:
    """A credit application: the applicant's name, contact details, address, date of birth and SSN hash."""
    return _parts(("names", parse_name(name)), ("emails", normalize_email(email)),
                  ("phones", normalize_phone(phone)),
                  ("addresses", normalize_address(line1, line2, city, region, postal_code, country)),
                  ("dobs", as_date(dob)), ("ssns", ssn_hash))
