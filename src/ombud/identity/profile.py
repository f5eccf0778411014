"""Turning a discovery profile into a normalised query, naming the field of any bad identifier. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from ombud.errors import InvalidInput
from ombud.identity.address import normalize_address
from ombud.identity.normalize import (
    CardNumberError,
    DateOfBirthError,
    SSNError,
    card_fingerprint_of,
    normalize_email,
    normalize_phone,
    normalize_ssn,
    parse_date_of_birth,
    parse_name,
    ssn_hash,
    ssn_issuable,
    ssn_transpositions,
)
from ombud.identity.record import Identity
from ombud.identity.schemas import Profile


@dataclass
class Query:
    """A profile, normalised: the identity to search for and what the comparisons need besides."""

    identity: Identity
    ssn_variants: dict[str, str] = field(default_factory=dict)  # hash of a one-swap variant -> hash of the SSN
    weak_ssn: bool = False  # the SSN given is unissuable: compared as weak evidence


def _field_path(loc: tuple[object, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_profile(data: object) -> Profile:
    """Validate raw JSON data as a profile; InvalidInput names the first bad field."""
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = _field_path(tuple(error["loc"])) or "profile"
        raise InvalidInput(f"{path}: {error['msg']}", field=path) from exc


def prepare(profile: Profile, *, card_key: bytes, identifier_key: bytes) -> Query:
    """Normalise every identifier of a profile; InvalidInput names the field of the first unusable one."""
    ident = Identity()
    for i, text in enumerate(profile.names):
        name = parse_name(text)
        if name is None:
            raise InvalidInput(f"names[{i}] is empty", field=f"names[{i}]")
        ident.add("names", name, f"names[{i}]")
    for i, text in enumerate(profile.emails):
        email = normalize_email(text)
        if email is None:
            raise InvalidInput(f"emails[{i}] is not an email address", field=f"emails[{i}]")
        ident.add("emails", email, f"emails[{i}]")
    for i, text in enumerate(profile.phones):
        phone = normalize_phone(text)
        if phone is None:
            raise InvalidInput(f"phones[{i}] is not a phone number", field=f"phones[{i}]")
        ident.add("phones", phone, f"phones[{i}]")
    for i, a in enumerate(profile.addresses):
        address = normalize_address(a.line1, a.line2, a.city, a.region, a.postal_code, a.country)
        if address is None:
            raise InvalidInput(f"addresses[{i}].line1 has no street address", field=f"addresses[{i}].line1")
        if not address.zip5 and not address.city:
            raise InvalidInput(f"addresses[{i}] needs a postal_code or a city", field=f"addresses[{i}].postal_code")
        ident.add("addresses", address, f"addresses[{i}]")
    try:
        ident.add("dobs", parse_date_of_birth(profile.date_of_birth), "date_of_birth")
    except DateOfBirthError as exc:
        raise InvalidInput(str(exc), field="date_of_birth") from exc
    query = Query(ident)
    try:
        digits = normalize_ssn(profile.ssn)
    except SSNError as exc:
        raise InvalidInput(str(exc), field="ssn") from exc
    if digits:
        own = ssn_hash(identifier_key, digits)
        ident.add("ssns", own, "ssn")
        query.weak_ssn = not ssn_issuable(digits)
        if not query.weak_ssn:  # a slip in a placeholder number is no evidence of anything
            query.ssn_variants = {ssn_hash(identifier_key, v): own for v in ssn_transpositions(digits)}
    for i, number in enumerate(profile.card_numbers):
        try:
            fingerprint, last4 = card_fingerprint_of(card_key, number)
        except CardNumberError as exc:
            raise InvalidInput(f"card_numbers[{i}]: {exc}", field=f"card_numbers[{i}]") from exc
        ident.add_card(fingerprint, last4, f"card_numbers[{i}]")
    if ident.is_empty():
        raise InvalidInput("the profile has no identifiers: give at least a name, email, phone, address, date of "
                           "birth, SSN or card number", field="profile")
    return query
