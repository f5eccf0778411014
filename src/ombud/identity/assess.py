"""Telling the person's own long-standing account apart from fraud, and spotting a takeover. Pure.

An account is judged the person's own when the account itself (not only a card or an address on it)
carries their name, it has a long history (a year or more between opening and its latest activity),
it has been signed in to from the same device over months, and its early records (the first addresses
and cards, the account's own email or phone) are theirs. A younger account is the person's when it is
under their own email and started out shipping only to them, or when everything on it is theirs and what
it shipped elsewhere reads as a gift, not a thief's drop (`gift`). An own account is still reported. It is
flagged as a suspected takeover when, late in that history, things changed that are not the person's:
the account email or phone replaced by one not in the profile, a device never seen before (often after
failed sign-ins), a shipping address or card added that the person does not list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: How long an account must have been in use, and a device in use on it, to count as established.
TENURE = timedelta(days=365)
DEVICE_SPAN = timedelta(days=180)
#: Records added this soon after opening count as "early" (the person's own setup).
EARLY = timedelta(days=120)


@dataclass
class DeviceUse:
    device: str
    first: datetime
    last: datetime
    successes: int
    failures: int
    first_success: datetime | None = None


@dataclass
class Added:
    """An address or card on the account: when it was added and whether it is one of the person's."""

    ref: str
    at: datetime
    theirs: bool
    kind: str = ""


@dataclass
class AccountFacts:
    created_at: datetime
    last_activity: datetime
    devices: list[DeviceUse]
    addresses: list[Added]
    cards: list[Added]
    account_name_matches: bool
    account_email: bool | None  # None: no email on the account or none in the profile
    account_phone: bool | None
    dob_matches: bool | None
    #: Whether the profile lists any address: without one, an address on the account is unknown, not foreign.
    knows_addresses: bool = True
    #: Orders shipped to each of the account's addresses (by reference); orders with no address are not counted.
    shipments: dict[str, int] = field(default_factory=dict)


@dataclass
class Assessment:
    own: bool
    takeover: bool
    established: bool  # a year of history and a device in use for months
    all_theirs: bool = False  # name, email, phone, cards and billing addresses all the person's
    trusted_devices: frozenset[str] = frozenset()  # devices of an own account before anything changed
    signals: list[str] = field(default_factory=list)


def _days(delta: timedelta) -> str:
    years = delta.days / 365.25
    return f"{years:.1f} years" if years >= 1 else f"{delta.days} days"


def assess(facts: AccountFacts) -> Assessment:
    """Own account or not, and whether it shows a takeover; with the reasons as signals.

    The judgement is made from the account's own records (its opening, its name, email, phone, the cards and
    addresses it started with, its orders), so it comes out the same whether or not the retailer sends sign-in
    history; sign-ins only add evidence of a takeover (a new device getting in after failed attempts) and of a
    second account (signed in from the person's own device, see `second_account`). Each identifier is judged
    on its own: someone else's card added later does not make the person's own account somebody else's.
    """
    signals: list[str] = []
    tenure = facts.last_activity - facts.created_at
    established = [d for d in facts.devices if d.successes >= 2 and d.last - d.first >= DEVICE_SPAN]
    early_cutoff = facts.created_at + EARLY
    early_cards = [c for c in facts.cards if c.at <= early_cutoff and c.theirs]
    early_addresses = [a for a in facts.addresses if a.at <= early_cutoff and a.theirs]
    # Cards are left out: a profile need not list every card a person ever had, so a card not in it is unknown.
    early_foreign = [a for a in facts.addresses if a.at <= early_cutoff and not a.theirs and a.kind == "shipping"
                     and facts.knows_addresses]
    long_standing = tenure >= TENURE
    # What ties the account to the person and not to a relative at the same address: their card from the
    # start, their own email or phone, or their date of birth with their address from the start.
    tied = bool(early_cards) or facts.account_email is True or facts.account_phone is True or (
        facts.dob_matches is True and bool(early_addresses))
    own_history = facts.account_name_matches and long_standing and tied
    all_theirs = (
        facts.account_name_matches
        and facts.account_email is True
        and facts.account_phone is not False
        and all(c.theirs for c in facts.cards)
        and all(a.theirs for a in facts.addresses if a.kind == "billing")
    )
    # A newer account is the person's when it is in their name under their own email (a retailer confirms an
    # email address; a thief can type a phone number, not read the person's mail) and it started out with
    # nothing shipped anywhere but the person's own addresses (a thief's account ships to a drop), or what it
    # shipped elsewhere early on reads as a gift (`gift`).
    gifts = gift(facts) if early_foreign and all_theirs else None
    own_contact = facts.account_name_matches and facts.account_email is True and (not early_foreign or bool(gifts))
    if not (own_history or own_contact):
        return Assessment(False, False, long_standing, all_theirs, signals=signals)
    if not own_history:
        start = "with only your details at the start" if not early_foreign else \
            "with only your cards and billing address"
        signals.append(f"opened {facts.created_at.date().isoformat()} under your name and your own email address, "
                       f"{start}")
        if gifts:
            signals.append(gifts)
    else:
        signals.append(f"in use for {_days(tenure)}, opened {facts.created_at.date().isoformat()}")
    if established:
        signals.append(f"signed in from the same device for {_days(max(d.last - d.first for d in established))}")
    if early_cards or early_addresses:
        signals.append("its first addresses or cards are yours")

    # What changed late in the history: after its first year (and after its devices were established).
    settled = facts.created_at + TENURE
    if established:
        settled = max(min(d.first for d in established) + DEVICE_SPAN, settled)
    # The person's devices: those used for months, or used from the account's first days (its first year when
    # the account is long-standing) without ever failing to get in. A device that got in after failed
    # attempts, or only later, may be an intruder's, and vouches for nothing.
    early_limit = settled if long_standing else min(settled, facts.created_at + EARLY)
    trusted = frozenset(d.device for d in facts.devices if d.device and (
        d in established or (d.first_success is not None and d.first_success <= early_limit and not d.failures)))
    changes: list[str] = []
    new_devices = [d for d in facts.devices if d.first_success and d.first_success > settled and d not in established]
    for d in sorted(new_devices, key=lambda d: d.first)[:3]:
        failed = f" after {d.failures} failed sign-ins" if d.failures else ""
        changes.append(f"new device first signed in {d.first_success.date().isoformat()}{failed}")  # type: ignore[union-attr]
    if facts.account_email is False:
        changes.append("the account's email address is not one of yours")
    if facts.account_phone is False:
        changes.append("the account's phone number is not one of yours")
    foreign_ship = [a for a in facts.addresses if not a.theirs and a.at > settled and a.kind == "shipping"]
    for a in foreign_ship[:3]:
        changes.append(f"shipping address added {a.at.date().isoformat()} is not one of yours")
    foreign_cards = [c for c in facts.cards if not c.theirs and c.at > settled]
    for c in foreign_cards[:3]:
        changes.append(f"card added {c.at.date().isoformat()} is not one of yours")
    signals.extend(changes)
    # People change phones and ship gifts; a takeover replaces the contact details, or gets in from a new
    # device after failed sign-ins and adds a shipping address or card.
    contact_changed = facts.account_email is False or facts.account_phone is False
    forced_in = any(d.failures >= 2 for d in new_devices)
    takeover = contact_changed or (forced_in and bool(foreign_ship or foreign_cards))
    return Assessment(True, takeover, long_standing, all_theirs, trusted, signals)


def gift(facts: AccountFacts) -> str | None:
    """Why what a young account shipped to someone else's address reads as a gift, not a thief's drop (None if
    it does not). Only asked of an account whose name, email, phone, cards and billing addresses are all the
    person's (`Assessment.all_theirs`): a thief who opens an account in someone's name gives their own email or
    phone to receive the confirmations, or a card that is not the person's, and a takeover replaces the contact
    details; any of those and this is never asked.

    What is left is what the goods did. A thief opens an account for the goods: the drop is its shipping address
    from the start, or is added before the orders go there, and the orders go there. A person ships to their
    own address first and sends the odd parcel elsewhere. So the account is the person's when a shipping address
    of theirs was on it before any other, no more of its orders went elsewhere than to their addresses, and no
    device got in after failed sign-ins before the other address was added (an intruder's drop).
    """
    mine = {a.ref for a in facts.addresses if a.kind == "shipping" and a.theirs}
    others = [a for a in facts.addresses if a.kind == "shipping" and not a.theirs]
    if not others:
        return None
    first_other = min(a.at for a in others)
    if not any(a.at < first_other for a in facts.addresses if a.ref in mine):
        return None
    elsewhere = {a.ref for a in others}
    home = sum(n for ref, n in facts.shipments.items() if ref in mine)
    away = sum(n for ref, n in facts.shipments.items() if ref in elsewhere)
    if away > home:
        return None
    if any(d.failures >= 2 and d.first_success is not None and d.first < d.first_success <= first_other
           for d in facts.devices):
        return None
    added = ", ".join(sorted({a.at.date().isoformat() for a in others})[:3])
    shipped = f"{away} of its {home + away} orders" if home + away else "none of its orders yet"
    return (f"it also ships to an address that is not yours (added {added}; {shipped}), after yours and on your "
            "own cards and billing address: read as a gift, not a thief's drop")


def second_account(facts: AccountFacts, verdict: Assessment, own_devices: dict[str, str]) -> str | None:
    """Why a newer account in the person's name is theirs too (None if it is not): it is signed in from a
    device they used on their own account before anything changed. Only sign-in history can show this; without
    it the account is judged by its own records alone (`assess`)."""
    if verdict.own or not facts.account_name_matches:
        return None
    used = [d.device for d in facts.devices if d.successes]
    shared = [d for d in used if d in own_devices]
    if shared:
        return f"signed in from a device you have used on your account {own_devices[shared[0]]}"
    return None
