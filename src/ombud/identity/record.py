"""The normalised identity of one indexed record (an account, or an application with no account) or of a
profile being searched for: every identifier, each with references to where it came from.

A reference is a short string: for an indexed record `A` (the account itself), `a<id>` (an address),
`p<id>` (a payment method), `c<id>` (a credit application), with the retailer tables' internal ids; for
a profile, the item's path such as `names[1]` or `addresses[0]`. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ombud.identity.address import PostalAddress
from ombud.identity.normalize import PersonName


@dataclass(slots=True)
class Card:
    """A card by keyed fingerprint, with its last four digits (a masked hint, safe to show)."""

    fingerprint: str
    last4: str


@dataclass(slots=True)
class Identity:
    """Normalised identifiers; each maps value -> references (insertion-ordered, duplicates merged)."""

    names: dict[PersonName, list[str]] = field(default_factory=dict)
    emails: dict[str, list[str]] = field(default_factory=dict)
    phones: dict[str, list[str]] = field(default_factory=dict)
    addresses: dict[PostalAddress, list[str]] = field(default_factory=dict)
    dobs: dict[date, list[str]] = field(default_factory=dict)
    ssns: dict[str, list[str]] = field(default_factory=dict)
    cards: dict[str, list[str]] = field(default_factory=dict)
    card_last4: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, value: Any, ref: str) -> None:
        """Add one value of a kind ('names', 'emails', ...) from a source; None values are ignored."""
        if value is None:
            return
        refs = getattr(self, kind).setdefault(value, [])
        if ref not in refs:
            refs.append(ref)

    def add_card(self, fingerprint: str, last4: str, ref: str) -> None:
        """Add a card by fingerprint."""
        self.add("cards", fingerprint, ref)
        self.card_last4.setdefault(fingerprint, last4)

    def is_empty(self) -> bool:
        return not any((self.names, self.emails, self.phones, self.addresses, self.dobs, self.ssns, self.cards))

    def surnames(self) -> set[str]:
        return {n.surname for n in self.names if n.surname}

    def givens(self) -> set[str]:
        return {n.given for n in self.names if n.given}

    def zips(self) -> set[str]:
        return {a.zip5 for a in self.addresses if a.zip5}

    def cities(self) -> set[str]:
        return {f"{a.city}|{a.region}" for a in self.addresses if a.city}

    # ------------------------------------------------------------------------------ compact JSON form

    def to_payload(self) -> dict[str, list[Any]]:
        """A compact JSON-able form for the index table."""
        out: dict[str, list[Any]] = {}
        if self.names:
            # A generational suffix (Jr., Sr., III) follows the references, only when there is one.
            out["n"] = [[n.given, list(n.middles), n.surname, list(n.surname_parts), r, *((n.generation,)
                         if n.generation else ())] for n, r in self.names.items()]
        if self.emails:
            out["e"] = [[v, r] for v, r in self.emails.items()]
        if self.phones:
            out["p"] = [[v, r] for v, r in self.phones.items()]
        if self.addresses:
            out["a"] = [
                [a.number, a.street, a.name, a.unit, a.city, a.region, a.zip5, a.country, r]
                for a, r in self.addresses.items()
            ]
        if self.dobs:
            out["d"] = [[v.isoformat(), r] for v, r in self.dobs.items()]
        if self.ssns:
            out["s"] = [[v, r] for v, r in self.ssns.items()]
        if self.cards:
            out["c"] = [[v, self.card_last4.get(v, ""), r] for v, r in self.cards.items()]
        return out

    @classmethod
    def from_payload(cls, payload: dict[str, list[Any]]) -> Identity:
        """The inverse of `to_payload`."""
        ident = cls()
        for given, middles, surname, parts, refs, *generation in payload.get("n", ()):
            ident.names[PersonName(given, tuple(middles), surname, tuple(parts), *generation)] = refs
        for value, refs in payload.get("e", ()):
            ident.emails[value] = refs
        for value, refs in payload.get("p", ()):
            ident.phones[value] = refs
        for number, street, name, unit, city, region, zip5, country, refs in payload.get("a", ()):
            ident.addresses[PostalAddress(number, street, name, unit, city, region, zip5, country)] = refs
        for value, refs in payload.get("d", ()):
            ident.dobs[date.fromisoformat(value)] = refs
        for value, refs in payload.get("s", ()):
            ident.ssns[value] = refs
        for value, last4, refs in payload.get("c", ()):
            ident.cards[value] = refs
            ident.card_last4[value] = last4
        return ident


#: What one source row adds to an identity: (kind, value) pairs, a card as ("cards", (fingerprint, last4)).
Parts = tuple[tuple[str, Any], ...]
_KINDS = ("names", "emails", "phones", "addresses", "dobs", "ssns")
_REF_ORDER = {"A": 0, "a": 1, "p": 2, "c": 3}


def ref_order(ref: str) -> tuple[int, int]:
    """Where a source comes in a record: the account itself, then addresses, cards, applications, each by id."""
    return (_REF_ORDER[ref[0]], int(ref[1:]) if len(ref) > 1 else 0)


def compose(sources: Iterable[tuple[str, Parts]]) -> Identity:
    """The identity that adding these sources' parts in this order gives (the order decides the payload's)."""
    ident = Identity()
    for ref, parts in sources:
        for kind, value in parts:
            if kind == "cards":
                ident.add_card(value[0], value[1], ref)
            else:
                ident.add(kind, value, ref)
    return ident


def decompose(identity: Identity) -> dict[str, Parts]:
    """The parts each source (reference) gave: `compose` of them, in `ref_order`, gives the identity back.

    Holds because every source gives at most one value of each kind (an account one name, one email, ...;
    an address one address; a card its fingerprint and cardholder name).
    """
    found: dict[str, list[tuple[str, Any]]] = {}
    for kind in _KINDS:
        for value, refs in getattr(identity, kind).items():
            for ref in refs:
                found.setdefault(ref, []).append((kind, value))
    for fingerprint, refs in identity.cards.items():
        for ref in refs:
            found.setdefault(ref, []).append(("cards", (fingerprint, identity.card_last4.get(fingerprint, ""))))
    return {ref: tuple(parts) for ref, parts in found.items()}


def compose_sorted(sources: dict[str, Parts] | Sequence[tuple[str, Parts]]) -> Identity:
    """`compose` in the canonical source order (`ref_order`)."""
    items = sources.items() if isinstance(sources, dict) else sources
    return compose(sorted(items, key=lambda item: ref_order(item[0])))


def refs_of(identity: Identity) -> Iterable[str]:
    """Every reference an identity holds."""
    for kind in ("names", "emails", "phones", "addresses", "dobs", "ssns", "cards"):
        for refs in getattr(identity, kind).values():
            yield from refs
