"""The normalised identity of one indexed record (an account, or an application with no account) or of a
profile being searched for: every identifier, each with references to where it came from.

A reference is a short string: for an indexed record `A` (the account itself), `a<id>` (an address),
`p<id>` (a payment method), `c<id>` (a credit application), with the retailer tables' internal ids; for
a profile, the item's path such as `names[1]` or `addresses[0]`. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable
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
            out["n"] = [[n.given, list(n.middles), n.surname, list(n.surname_parts), r] for n, r in self.names.items()]
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
        for given, middles, surname, parts, refs in payload.get("n", ()):
            ident.names[PersonName(given, tuple(middles), surname, tuple(parts))] = refs
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


def refs_of(identity: Identity) -> Iterable[str]:
    """Every reference an identity holds."""
    for kind in ("names", "emails", "phones", "addresses", "dobs", "ssns", "cards"):
        for refs in getattr(identity, kind).values():
            yield from refs
