"""The shape of the retailer's customer ids, checked before a typed id is used or recorded anywhere.

A customer id (the retail account's external id) is a reference, fit for the append-only audit log. A value
typed where an id belongs may instead be personal data (a phone number, an email, an SSN, a card number, a
name, an IP address); once written to the log it can never be erased. So every face checks the shape first,
and the audit log refuses an event whose ``customer_id`` lacks it (``ombud.audit.events.prepare``).

The shape is the retailer's: ``OMBUD_CUSTOMER_ID_PATTERN`` (a regular expression the whole id must match)
when set, e.g. ``C[0-9]{9}``. Unset, an id is 1-64 of ``A-Z a-z 0-9 _ . : -`` with at least one letter and one
digit, and nothing shaped like a phone number, an SSN or an IPv6 address: phones, SSNs, card numbers, dates
and IPv4 addresses have no letter, names and email user parts no digit, and an email has an ``@``.

Pure: no database, no framework. ``configure`` is called once per process by ``ombud.context.Context``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ombud.errors import InvalidInput

_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")
# Phone numbers with an extension or a prefix (the only ones that carry letters), and IPv6 addresses.
_PHONE = re.compile(r"(?<![0-9])(?:\+?1[-. ]?)?[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}(?![0-9])")
_PHONE_WORDS = re.compile(r"(?:tel|phone|ext)[:.\-]?[0-9]{3,}|[0-9]{7,}(?:x|ext)[0-9]", re.IGNORECASE)
_IPV6 = re.compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}")
_SSN = re.compile(r"(?<![0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])")

#: The default rule again without look-around, for vectorised engines (Polars' regex has none): a value has the
#: shape when it matches SHAPE, LETTER and DIGIT and none of NOT_ANY. Tested equal to ``problem``.
VECTOR_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
VECTOR_NOT_ANY = (
    r"(?:^|[^0-9])(?:\+?1[-. ]?)?[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}(?:[^0-9]|$)",
    r"(?i)(?:tel|phone|ext)[:.\-]?[0-9]{3,}|[0-9]{7,}(?:x|ext)[0-9]",
    r"(?:^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?:[^0-9]|$)",
    r"^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$",
)

#: The default rule once more as one regular expression, for the OpenAPI document (JSON Schema's ``pattern``:
#: ECMA-262 syntax, which Python's ``re`` reads alike; no inline flags, so case is spelled out). Tested equal to
#: ``problem``, in both directions, on drawn and typed values.
_JSON_DEFAULT = (
    r"^(?=[^A-Za-z]*[A-Za-z])(?=[^0-9]*[0-9])"
    r"(?!.*(?:^|[^0-9])(?:\+?1[-. ]?)?[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}(?:[^0-9]|$))"
    r"(?!.*(?:[Tt][Ee][Ll]|[Pp][Hh][Oo][Nn][Ee]|[Ee][Xx][Tt])[:.\-]?[0-9]{3})"
    r"(?!.*[0-9]{7}(?:[Xx]|[Ee][Xx][Tt])[0-9])"
    r"(?!.*(?:^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?:[^0-9]|$))"
    r"(?![0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$)"
    r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
)

REASON = "not a customer id (the retailer's account id, e.g. A000123); the value was not used or recorded"

_pattern: re.Pattern[str] | None = None


def configure(pattern: str | None) -> None:
    """Use the retailer's own pattern (None: the default rule above). Refuses a pattern that does not compile."""
    global _pattern
    try:
        compiled = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise InvalidInput(f"OMBUD_CUSTOMER_ID_PATTERN is not a regular expression: {exc}",
                           field="customer_id_pattern") from None
    if compiled is not _pattern and (compiled is None or _pattern is None or compiled.pattern != _pattern.pattern):
        _pattern = compiled
        problem.cache_clear()


@lru_cache(maxsize=4096)
def problem(value: str) -> str | None:
    """Why this text is not a customer id, or None when it has the shape of one."""
    if not isinstance(value, str) or not _CHARS.fullmatch(value):
        return REASON
    if _pattern is not None:
        return None if _pattern.fullmatch(value) else REASON
    if not (_LETTER.search(value) and _DIGIT.search(value)):
        return REASON
    if _PHONE.search(value) or _PHONE_WORDS.search(value) or _SSN.search(value) or _IPV6.fullmatch(value):
        return REASON
    return None


def pattern() -> re.Pattern[str] | None:
    """The retailer's own pattern in effect (OMBUD_CUSTOMER_ID_PATTERN), or None for the default rule."""
    return _pattern


def json_pattern(pattern: str | None) -> str:
    """The id shape for the OpenAPI document: the retailer's pattern (OMBUD_CUSTOMER_ID_PATTERN) within the
    characters every id keeps, or the default rule; what it matches is exactly what ``problem`` takes."""
    if not pattern:
        return _JSON_DEFAULT
    return rf"^(?=[A-Za-z0-9][A-Za-z0-9_.:\-]{{0,63}}$)(?:{pattern})$"


def check(value: str | None, field: str = "customer_id") -> str:
    """The id without surrounding spaces, or InvalidInput naming the field (the value is never quoted)."""
    text = value.strip() if isinstance(value, str) else ""
    reason = problem(text) if len(text) <= 64 else REASON
    if reason is not None:
        raise InvalidInput(reason, field=field)
    return text
