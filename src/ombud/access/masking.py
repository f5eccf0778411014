"""Masking rules: what a denied field shows instead of its value (pure functions, no database, no web).

A denied field is masked, not dropped, so a reader still sees that the customer has, say, an email at
example.com or a Visa ending 4242, without seeing the value itself. ``MASKERS`` is the registry: for each
data class, the rule for each kind of value the class holds. Every rule keeps the shape of the value
(a record stays a record with the same keys) and never returns any part it hides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from ombud.access.classes import DataClass

HIDDEN = "•••"
_DIGITS = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

Masker = Callable[[Any], Any]


def mask_email(value: str | None) -> str | None:
    """``jane.doe@example.com`` -> ``j***@example.com``; text without an @ shows only its first character."""
    if not value:
        return value
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return value.strip()[:1] + "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str | None) -> str | None:
    """``+1 (555) 010-1234`` -> ``***-***-1234``: only the last four digits remain."""
    if not value:
        return value
    digits = "".join(_DIGITS.findall(value))
    return f"***-***-{digits[-4:]}" if len(digits) > 4 else "***-***-****"


def mask_name(value: str | None) -> str | None:
    """``Jane Q. Doe`` -> ``J. Q. D.``: initials only."""
    if not value:
        return value
    initials = [word[0].upper() + "." for word in _WORD.findall(value)]
    return " ".join(initials) if initials else HIDDEN


def year_only(value: date | datetime | str | None) -> str | None:
    """A date or timestamp reduced to its year (``1985``)."""
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return f"{value.year:04d}"
    match = re.match(r"\s*(\d{4})", str(value))
    return match.group(1) if match else HIDDEN


def mask_ssn_last4(value: str | None) -> str | None:
    """A shown SSN is ``***-**-1234``; a masked one shows no digit at all."""
    return None if value is None else "***-**-****"


def show_ssn_last4(value: str | None) -> str | None:
    """How an allowed SSN is shown: at most its last four digits."""
    if value is None:
        return None
    digits = "".join(_DIGITS.findall(value))[-4:]
    return f"***-**-{digits}" if len(digits) == 4 else "***-**-****"


def mask_ip(value: str | None) -> str | None:
    """``203.0.113.7`` -> ``203.•.•.•``; IPv6 keeps its first group only."""
    if not value:
        return value
    if ":" in value:
        return value.split(":", 1)[0] + ":•"
    first = value.split(".", 1)[0]
    return f"{first}.•.•.•" if first.isdigit() else HIDDEN


def hide(value: Any) -> Any:
    """Hide a value entirely (keeping None as None, so an absent value stays absent)."""
    return None if value is None else HIDDEN


def mask_address(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """City, state and country stay; street lines, postal code and addressee are hidden."""
    if value is None:
        return None
    out = dict(value)
    for key in ("line1", "line2", "postal_code"):
        if key in out:
            out[key] = hide(out[key])
    if "name" in out:
        out["name"] = mask_name(out["name"])
    return out


def mask_card(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Brand and ``•••• 4242`` stay; expiry and cardholder are hidden."""
    if value is None:
        return None
    out = dict(value)
    out["expiry"] = "••/••" if out.get("expiry") else out.get("expiry")
    if "cardholder_name" in out:
        out["cardholder_name"] = mask_name(out["cardholder_name"])
    for key in ("added_at", "removed_at"):
        if key in out:
            out[key] = year_only(out[key])
    return out


def mask_order(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The order's reference and status stay; its date shows the year, totals and items are hidden."""
    if value is None:
        return None
    out = dict(value)
    out["placed_at"] = year_only(out.get("placed_at"))
    out["total_cents"] = hide(out.get("total_cents"))
    items = out.get("items") or []
    out["items"] = [{"sku": HIDDEN, "description": HIDDEN, "quantity": HIDDEN, "unit_price_cents": HIDDEN}
                    for _ in items]
    for key in ("ship_to", "ip", "device"):
        if key in out:
            out[key] = hide(out[key])
    return out


def mask_login(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A sign-in keeps its year and outcome; address and device are masked."""
    if value is None:
        return None
    out = dict(value)
    out["at"] = year_only(out.get("at"))
    out["ip"] = mask_ip(out.get("ip"))
    out["device"] = hide(out.get("device"))
    return out


def mask_signup(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Sign-up address and device, masked like a sign-in."""
    if value is None:
        return None
    return {"ip": mask_ip(value.get("ip")), "device": hide(value.get("device"))}


def mask_note(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A note keeps its channel and year; its author becomes initials and its text is hidden."""
    if value is None:
        return None
    out = dict(value)
    out["created_at"] = year_only(out.get("created_at"))
    out["author"] = mask_name(out.get("author"))
    out["body"] = hide(out.get("body"))
    return out


#: The registry: data class -> kind of value -> rule. The broker looks up every masked value here.
MASKERS: dict[DataClass, dict[str, Masker]] = {
    DataClass.identity_basic: {"name": mask_name},
    DataClass.contact: {"email": mask_email, "phone": mask_phone},
    DataClass.address: {"address": mask_address},
    DataClass.payment: {"card": mask_card, "money": hide},
    DataClass.government_id: {"ssn_last4": mask_ssn_last4, "date": year_only},
    DataClass.order_history: {"order": mask_order},
    DataClass.login_device: {"login": mask_login, "signup": mask_signup, "ip": mask_ip, "device": hide},
    DataClass.support_notes: {"note": mask_note},
    DataClass.video: {"clip": hide},
    DataClass.evidence: {"document": hide},  # a refused opening shows nothing of the file
}


def masker(data_class: DataClass, kind: str) -> Masker:
    """The rule masking values of this kind in this class; KeyError if the registry lacks one."""
    return MASKERS[data_class][kind]


def mask_value(data_class: DataClass, kind: str, value: Any, *, many: bool = False) -> Any:
    """Mask one value (or each element of a list when ``many``)."""
    rule = MASKERS[data_class][kind]
    if many:
        return [rule(item) for item in value or []]
    return rule(value)
