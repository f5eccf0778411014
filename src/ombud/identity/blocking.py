"""Blocking keys: the few indexed keys under which a record can be found, so a lookup never scans.

Each key combines identifiers that together are rare (a card, an SSN, surname sound + date of birth,
house number + street + ZIP, ...). Keys are stored as 64-bit keyed hashes (BLAKE2b with a key derived
from the deployment's identifier-hash key): compact, fast to index, and meaningless without the key.
The record side stores a plain set of keys; the query side adds variants (swapped day and month,
transposed SSN, birth-date and postal-code digits, first and last name swapped) so typing slips still land
in the right block.
Pure: no database.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from datetime import date
from enum import IntEnum

from ombud.identity.normalize import dob_transpositions, email_local, given_forms, phonetic, swapped_day_month
from ombud.identity.record import Identity


class KeyKind(IntEnum):
    """What a blocking key is made of; stored with each key (for statistics and caps)."""

    card = 1
    ssn = 2
    email = 3
    phone = 4
    dob_surname = 5
    dob_given = 6
    name_zip = 7
    address = 8
    dob_zip = 9
    email_local = 10
    house_zip = 11
    address_city = 12
    name_city = 13  # no longer written: it cost the most keys of the fallbacks for the fewest records found
    dob_initial = 14
    given_zip = 15


#: Kinds whose blocks are normally tiny; a larger cap applies before a block counts as "too common".
STRONG_KINDS = frozenset({KeyKind.card, KeyKind.ssn, KeyKind.email, KeyKind.phone})
#: Kinds made of one part of a name with a coarse place or date: fallbacks for slips, useful only while their
#: blocks stay small (a placeholder birth date or a big ZIP code's "John" points at nobody in particular).
WEAK_KINDS = frozenset({KeyKind.dob_initial, KeyKind.given_zip})
#: The most records a block may hold before it counts as too common and is skipped.
BLOCK_CAP = 200
STRONG_BLOCK_CAP = 1000
WEAK_BLOCK_CAP = 25


def block_cap(kind: KeyKind) -> int:
    """The most records a block of this kind may hold before a lookup skips it as too common."""
    if kind in STRONG_KINDS:
        return STRONG_BLOCK_CAP
    return WEAK_BLOCK_CAP if kind in WEAK_KINDS else BLOCK_CAP
_MIN_LOCAL_PART = 6


class KeyHasher:
    """Turns (kind, text) into a signed 64-bit keyed hash."""

    def __init__(self, secret: bytes) -> None:
        key = hashlib.blake2b(b"ombud-identity-blocking-v1", key=secret[:64], digest_size=32).digest()
        # The keyed state after the key block, copied for each hash: the same digest as hashing with the key
        # each time, without compressing the key block again (about half the cost of a short key).
        self._base = hashlib.blake2b(key=key, digest_size=8)

    def __call__(self, kind: KeyKind, text: str) -> int:
        return self.raw(f"{int(kind)}\x00{text}")

    def raw(self, key_text: str) -> int:
        """The hash of a key text as `record_key_texts` gives it ("<kind>\\x00<text>")."""
        state = self._base.copy()
        state.update(key_text.encode())
        value: int = _SIGNED_64(state.digest())[0]
        return value

    def many(self, key_texts: Iterable[str]) -> list[int]:
        """`raw` of each key text, in order."""
        copy, unpack = self._base.copy, _SIGNED_64
        out = []
        for key_text in key_texts:
            state = copy()
            state.update(key_text.encode())
            out.append(unpack(state.digest())[0])
        return out


_SIGNED_64 = struct.Struct(">q").unpack


def zip_transpositions(zip5: str | None) -> list[str]:
    """The postal codes one adjacent-digit swap away (a common typing slip), without the original."""
    if not zip5:
        return []
    return [zip5[:i] + zip5[i + 1] + zip5[i] + zip5[i + 2:] for i in range(len(zip5) - 1) if zip5[i] != zip5[i + 1]]


def _surname_sounds(identity: Identity, swapped: bool = False) -> set[str]:
    out: set[str] = set()
    for name in identity.names:
        if swapped:
            if name.given and len(name.given) > 1:
                out.add(phonetic(name.given))
            continue
        if name.surname:
            out.add(phonetic(name.surname))
            if len(name.surname_parts) > 1:
                out.update(phonetic(p) for p in name.surname_parts)
    return out


def _given_forms(identity: Identity, swapped: bool = False) -> set[str]:
    out: set[str] = set()
    for name in identity.names:
        given = name.surname if swapped else name.given
        if given and len(given) > 1:
            out.update(given_forms(given))
    return out


def _initials(identity: Identity, swapped: bool = False) -> set[str]:
    """First letters of the surnames (of the first names, when read as swapped)."""
    if swapped:
        return {name.given[0] for name in identity.names if len(name.given) > 1}
    return {name.surname[0] for name in identity.names if name.surname}


def _raw_keys(
    identity: Identity, dobs: set[date], surnames: set[str], givens: set[str], ssns: set[str], initials: set[str]
) -> Iterator[tuple[KeyKind, str]]:
    for fp in identity.cards:
        yield KeyKind.card, fp
    for ssn in ssns:
        yield KeyKind.ssn, ssn
    for email in identity.emails:
        yield KeyKind.email, email
        local = email_local(email)
        if len(local) >= _MIN_LOCAL_PART and not local.isdigit():
            yield KeyKind.email_local, local
    for phone in identity.phones:
        yield KeyKind.phone, phone
    zips = {a.zip5 for a in identity.addresses if a.zip5}
    for dob in dobs:
        text = dob.isoformat()
        for sound in surnames:
            yield KeyKind.dob_surname, f"{text}|{sound}"
        for given in givens:
            yield KeyKind.dob_given, f"{text}|{given}"
        for zip5 in zips:
            yield KeyKind.dob_zip, f"{text}|{zip5}"
        # A misspelt surname that no longer sounds the same keeps its first letter more often than not.
        for initial in initials:
            yield KeyKind.dob_initial, f"{text}|{initial}"
    for zip5 in zips:
        for given in givens:
            for sound in surnames:
                yield KeyKind.name_zip, f"{given}|{sound}|{zip5}"
            # The first name at the ZIP code, whatever the surname: a married name, a misspelt surname.
            yield KeyKind.given_zip, f"{given}|{zip5}"
    for address in identity.addresses:
        if address.number and address.zip5:
            yield KeyKind.address, address.key
            yield KeyKind.house_zip, f"{address.number}|{address.zip5}"
        if address.number and address.city:  # the building again, for a mistyped ZIP code
            yield KeyKind.address_city, f"{address.number}|{address.street}|{address.city}|{address.region}"


def record_key_texts(identity: Identity) -> dict[str, int]:
    """The texts an indexed record's keys are hashed from ("<kind>\\x00<text>"), each with its kind.

    Comparing these before hashing tells which keys a change adds and removes, so the incremental
    upkeep hashes and writes only those.
    """
    raw = _raw_keys(
        identity,
        set(identity.dobs),
        _surname_sounds(identity),
        _given_forms(identity),
        set(identity.ssns),
        _initials(identity),
    )
    return {f"{int(kind)}\x00{text}": int(kind) for kind, text in raw}


def record_keys(identity: Identity, hasher: KeyHasher) -> set[tuple[int, int]]:
    """The (key, kind) pairs under which an indexed record is stored."""
    texts = record_key_texts(identity)
    return set(zip(hasher.many(texts), texts.values(), strict=True))


def query_keys(
    identity: Identity, hasher: KeyHasher, extra_ssn_hashes: set[str] | None = None
) -> dict[int, KeyKind]:
    """The keys to look up for a profile: the record keys plus variants for common slips."""
    dobs = set(identity.dobs)
    dobs.update(d for d in (swapped_day_month(x) for x in identity.dobs) if d)
    ssns = set(identity.ssns) | (extra_ssn_hashes or set())
    keys: dict[int, KeyKind] = {}
    for kind, text in _raw_keys(
        identity, dobs, _surname_sounds(identity), _given_forms(identity), ssns, _initials(identity)
    ):
        keys[hasher(kind, text)] = kind
    # A date of birth with two digits transposed, under the surname's sound.
    for dob in dob_transpositions(identity.dobs):
        for sound in _surname_sounds(identity):
            keys.setdefault(hasher(KeyKind.dob_surname, f"{dob.isoformat()}|{sound}"), KeyKind.dob_surname)
    # A ZIP code with two adjacent digits transposed, under the keys that hold a ZIP code.
    givens, sounds = _given_forms(identity), _surname_sounds(identity)
    for address in identity.addresses:
        for zip5 in zip_transpositions(address.zip5):
            if address.number:
                keys.setdefault(hasher(KeyKind.house_zip, f"{address.number}|{zip5}"), KeyKind.house_zip)
            for dob in identity.dobs:
                keys.setdefault(hasher(KeyKind.dob_zip, f"{dob.isoformat()}|{zip5}"), KeyKind.dob_zip)
            for given in givens:
                for sound in sounds:
                    keys.setdefault(hasher(KeyKind.name_zip, f"{given}|{sound}|{zip5}"), KeyKind.name_zip)
    # First and last name swapped ("Smith John"): only the name-bearing kinds need the swap. The first name's
    # initial, read as the surname's, reaches a swap in which that name was also mistyped out of its sound.
    swapped_sur, swapped_given = _surname_sounds(identity, swapped=True), _given_forms(identity, swapped=True)
    swapped_initials = _initials(identity, swapped=True)
    for kind, text in _raw_keys(
        Identity(addresses=identity.addresses), dobs, swapped_sur, swapped_given, set(), swapped_initials
    ):
        keys.setdefault(hasher(kind, text), kind)
    return keys
