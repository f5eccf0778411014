"""Staff HR facts that are personal data: the home postcode, kept only as a keyed hash (pure: no database).

Detectors ask "does this employee live where the customer they looked up lives?" without anyone being able
to read where an employee lives: both sides are normalised the same way and hashed with the identifier key
(`KeyRing.identifier_hash_key`), and only the hashes are compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ombud.crypto import keyed_hash

#: keyed_hash kind of postcodes (separates them from SSN or email hashes made with the same key).
POSTCODE_KIND = "postcode"
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalise_postcode(postcode: str, country: str = "US") -> str | None:
    """A postcode in one comparable form: upper case, no spaces or dashes; US ZIP+4 cut to the five-digit ZIP.

    None when nothing comparable is left (no letters or digits, or a US code without five digits).
    """
    country = (country or "US").strip().upper()
    text = _NOT_ALNUM.sub("", (postcode or "").upper())
    if country == "US":
        return text[:5] if len(text) >= 5 and text[:5].isdigit() else None
    return text or None


def postcode_hash(key: bytes, postcode: str | None, country: str | None = "US") -> str | None:
    """The keyed hash of a postcode (its country included), or None when there is none to compare."""
    if not postcode:
        return None
    country = (country or "US").strip().upper()
    normal = normalise_postcode(postcode, country)
    return keyed_hash(key, POSTCODE_KIND, f"{country}:{normal}") if normal else None


def postcode_hashes(key: bytes, postcodes: Iterable[str | None],
                    countries: Iterable[str | None] | None = None) -> list[str | None]:
    """`postcode_hash` of many postcodes (e.g. every customer address, to compare with employees' homes)."""
    if countries is None:
        return [postcode_hash(key, p) for p in postcodes]
    return [postcode_hash(key, p, c) for p, c in zip(postcodes, countries, strict=True)]
