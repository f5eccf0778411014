"""Explanations in words: each comparison said in terms of the searcher's own identifiers only, so the
same text can be read by an agent and shown to the victim. Nothing of the other record is quoted. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from ombud.identity.scoring import Evidence, Score

_WHAT = {
    "given_name": "first name",
    "surname": "last name",
    "middle_name": "middle name",
    "date_of_birth": "date of birth",
    "ssn": "Social Security number",
    "email": "email address",
    "phone": "phone number",
    "address": "address",
    "card": "card",
}

_TEXT: dict[tuple[str, str], str] = {
    ("given_name", "exact"): "the same first name as yours",
    ("given_name", "nickname"): "a nickname or short form of your first name",
    ("given_name", "fuzzy"): "your first name spelled slightly differently",
    ("given_name", "initial"): "the initial of your first name",
    ("given_name", "alone"): "your first name, but not your last name",
    ("surname", "alone"): "your last name, but not your first name",
    ("middle_name", "exact"): "your middle name",
    ("middle_name", "initial"): "the initial of your middle name",
    ("surname", "exact"): "the same last name as yours",
    ("surname", "part"): "part of your last name",
    ("surname", "fuzzy"): "your last name spelled slightly differently",
    ("surname", "crossed"): "one of your names, but entered in the other name field, and the other name differs",
    ("date_of_birth", "exact"): "your date of birth",
    ("date_of_birth", "swapped"): "your date of birth with day and month swapped",
    ("date_of_birth", "typo"): "your date of birth with one digit mistyped or two swapped",
    ("ssn", "exact"): "your Social Security number",
    ("ssn", "transposed"): "your Social Security number with two adjacent digits swapped",
    ("email", "exact"): "your email address",
    ("email", "fuzzy"): "an email address a character or two from yours, at the same provider",
    ("email", "other_domain"): "the name part of your email address at another provider",
    ("phone", "exact"): "your phone number",
    ("phone", "typo"): "your phone number with one digit mistyped or two swapped",
    ("address", "exact"): "your address",
    ("address", "unit_missing"): "your building, without the apartment",
    ("address", "other_unit"): "your building, another apartment",
    ("address", "fuzzy"): "your address written with a mistake",
    ("address", "zip"): "your ZIP code, another street address",
    ("address", "city"): "your city, another address",
    ("card", "exact"): "your card",
}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def evidence_text(e: Evidence, card_last4: Mapping[str, str] | None = None) -> str:
    """One comparison in a sentence, e.g. "Card ending 4242 (card_numbers[0]): your card, exact (+31.2)"."""
    what = _WHAT.get(e.comparison, e.comparison)
    if e.kind == "missing":
        return f"{_cap(what)}: not on file on one side, not compared."
    if e.kind == "mismatch":
        return f"{_cap(what)}: does not match yours ({e.weight:+.1f})."
    said = _TEXT.get((e.comparison, e.level), e.level)
    if e.note and e.note not in said and e.level in ("nickname", "part"):
        said = f"{said} ({e.note})"
    items = ", ".join(e.profile_refs)
    label = _cap(what)
    if e.comparison == "card" and card_last4:
        last4 = next((card_last4[r] for r in e.profile_refs if r in card_last4), None)
        if last4:
            label = f"Card ending {last4}"
    frequency = ""
    if e.term_frequency is not None and e.comparison in ("given_name", "surname"):
        if e.term_frequency >= 0.005:
            frequency = "; a common name, so it counts for less"
        elif e.term_frequency <= 1e-4:
            frequency = "; a rare name, so it counts for more"
    return f"{label} ({items}): {said}, {e.kind}{frequency} ({e.weight:+.1f})."


def summary(score: Score) -> str:
    """A one-line account of what matched, strongest first."""
    agreeing = sorted(score.agreeing, key=lambda e: -e.weight)
    if not agreeing:
        return "nothing of yours matched"
    parts = []
    for e in agreeing:
        what = _WHAT.get(e.comparison, e.comparison)
        parts.append(what if e.kind == "exact" else f"{what} ({e.kind})")
    head = "your card or SSN is on it; " if score.hard_link else ""
    return head + "matched: " + ", ".join(parts)


def prior_text(weight: float) -> str:
    """The prior's line of an explanation."""
    return (f"Before comparing anything: only a few of the records searched can be yours, so every search "
            f"starts against a match ({weight:+.1f}).")


def floor_text(weight: float) -> str:
    """The hard-link floor's line of an explanation."""
    return (f"Your card or Social Security number is on this record, which links it to you on its own: the total "
            f"is raised to the floor for such links ({weight:+.1f}).")
