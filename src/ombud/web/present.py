"""How the console shows values to a person: times in the viewer's zone (UTC on hover), money, labels, addresses
and masked values. Pure functions (no database, no request); ``ombud.web.templating`` registers them as filters.

Templates use them as ``{{ r.at | time }}``, ``{{ o.total_cents | money(o.currency) }}``, ``{{ key | label }}``,
``{{ a | address }}``, ``{{ v | shown }}`` (any value, masked values marked as masked).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape

#: What the broker's masking puts where a value is hidden (ombud.access.masking.HIDDEN) and its shapes.
MASK_MARKS = ("•••", "••/••")

#: Labels for keys that snake_case-to-words gets wrong or too technical.
LABELS: dict[str, str] = {
    "id": "Reference", "email": "Email address", "phone": "Phone number", "dob": "Date of birth",
    "date_of_birth": "Date of birth", "ssn_last4": "SSN (last four)", "ip": "IP address", "signup": "Sign-up",
    "line1": "Street", "line2": "Street (2)", "postal_code": "Postal code", "region": "State / region",
    "placed_at": "Placed", "created_at": "Created", "added_at": "Added", "removed_at": "Removed",
    "applied_at": "Applied", "at": "When", "total_cents": "Total", "unit_price_cents": "Unit price",
    "annual_income_cents": "Annual income", "ship_to": "Ship to", "sku": "SKU", "cardholder_name": "Cardholder",
    "last4": "Last four", "payment_methods": "Cards on file", "credit_applications": "Credit applications",
    "support_notes": "Support notes", "logins": "Sign-ins", "orders": "Orders", "addresses": "Addresses",
    "case_type": "Case type", "data_class": "Data class", "identity_basic": "Name", "order_history": "Orders",
    "login_device": "Sign-ins and devices", "government_id": "Government id", "privacy_officer": "Privacy officer",
    "security_analyst": "Security analyst", "support_ticket": "Support ticket", "victim_request": "Victim request",
    "insider_investigation": "Insider investigation", "break_glass": "Break-glass", "just_in_time": "Just-in-time",
    "api_token": "API token",
}
_CURRENCY_SIGNS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£", "AUD": "A$", "JPY": "¥"}
_NO_MINOR_UNITS = frozenset({"JPY", "KRW"})


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    """The time zone of this name, UTC when it is empty or unknown."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_time(value: Any) -> datetime | date | None:
    """A datetime or date from a value or its ISO text (as the broker's records carry them); None otherwise."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and 10 <= len(value) <= 40 and value[4:5] == "-" and value[7:8] == "-":
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def time_html(value: Any, viewer_zone: str | None = None, empty: str = "—") -> Markup | str:
    """A time in the viewer's zone, ``2026-11-23 09:05 EST``, with the UTC time on hover and machine-readable;
    a date as ``2026-11-23``; anything that is not a time as itself (a masked ``2019`` stays ``2019``)."""
    if value is None:
        return empty
    when = parse_time(value)
    if when is None:
        return shown(value)
    if not isinstance(when, datetime):
        return Markup('<time datetime="{0}">{0}</time>').format(when.isoformat())
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    local = utc.astimezone(zone(viewer_zone))
    label = local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.isoformat(timespec="seconds"), utc.strftime("%Y-%m-%d %H:%M:%S UTC"), label)


def money(cents: Any, currency: str | None = "USD") -> Markup | str:
    """Minor units as money: ``1234, "USD"`` -> ``$12.34``; masked or missing values as they are shown."""
    if cents is None:
        return "—"
    if isinstance(cents, bool) or not isinstance(cents, int | Decimal):
        return shown(cents)
    code = (currency or "USD").upper()
    amount = Decimal(cents) if code in _NO_MINOR_UNITS else Decimal(cents) / 100
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.0f}" if code in _NO_MINOR_UNITS else f"{abs(amount):,.2f}"
    symbol = _CURRENCY_SIGNS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"


def label(key: Any) -> str:
    """A key or code as a person reads it: ``total_cents`` -> ``Total``, ``support_ticket`` -> ``Support ticket``."""
    text = str(getattr(key, "value", key))
    known = LABELS.get(text)
    if known:
        return known
    return text.replace("_", " ").replace("-", " ").strip().capitalize() or text


_CARD_NUMBER = re.compile(r"•••• \d{4}")


def is_masked(value: Any) -> bool:
    """True for a value the broker masked whole (``•••``) or in part (``j•••@example.com``); a card number is
    always shown as ``•••• 4242`` and is not masked."""
    return isinstance(value, str) and "•" in value and not _CARD_NUMBER.fullmatch(value)


def shown(value: Any) -> Markup | str:
    """Any value as text, a masked one marked so (screen readers say "masked")."""
    if value is None:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if is_masked(value):
        return Markup('<span class="masked" title="masked by the broker">{}<span class="visually-hidden"> '
                      '(masked)</span></span>').format(value)
    return str(value)


def address(value: Any, *, one_line: bool = False) -> Markup | str:
    """An address record as an address: addressee, street lines, ``City, ST 12345``, country (masked parts
    marked); ``one_line`` joins them with commas."""
    if not isinstance(value, dict):
        return shown(value)
    city_line = " ".join(
        part for part in (
            ", ".join(str(p) for p in (value.get("city"), value.get("region")) if p),
            str(value.get("postal_code") or ""),
        ) if part
    )
    parts = [value.get("name"), value.get("line1"), value.get("line2"), city_line or None, value.get("country")]
    rendered = [shown(p) if is_masked(p) else escape(str(p)) for p in parts if p]
    if not rendered:
        return "—"
    joiner = Markup(", ") if one_line else Markup("<br>")
    return Markup('<span class="address">{}</span>').format(joiner.join(rendered))


_ADDRESS_KEYS = frozenset({"line1", "city", "postal_code"})
#: Keys whose value is a code to be read as words.
_CODE_KEYS = frozenset({"status", "kind", "channel", "product", "decision", "brand"})
#: Keys shown through another (the currency of a total, the last four of a card number).
_FOLDED_KEYS = frozenset({"currency", "last4"})


def _is_time_key(key: str) -> bool:
    return key == "at" or key.endswith("_at") or key in ("date_of_birth", "dob")


def _looks_like_address(value: dict[str, Any]) -> bool:
    return len(_ADDRESS_KEYS & value.keys()) >= 2


def value_html(key: str, value: Any, viewer_zone: str | None = None, currency: str | None = None) -> Markup | str:
    """One value of a customer record as a person reads it, by what its key says it is: money for ``*_cents``
    (in the record's currency), times in the viewer's zone, addresses as addresses, codes as words, lists of
    records as tables with labelled headings, masked values marked."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    if isinstance(value, dict):
        if _looks_like_address(value):
            return address(value, one_line=key == "ship_to")
        own = value.get("currency", currency)
        items = [Markup("<dt>{}</dt><dd>{}</dd>").format(label(k), value_html(k, v, viewer_zone, own))
                 for k, v in value.items() if k not in _FOLDED_KEYS]
        return Markup('<dl class="facts">{}</dl>').format(Markup("").join(items))
    if isinstance(value, list):
        if not value:
            return Markup('<span class="muted">none</span>')
        if all(isinstance(v, dict) for v in value):
            if all(_looks_like_address(v) for v in value):
                return Markup("").join(Markup("<p>{}{}</p>").format(
                    Markup("<strong>{}</strong><br>").format(label(v["kind"])) if v.get("kind") else "",
                    address(v)) for v in value)
            keys: list[str] = []
            for row in value:
                keys += [k for k in row if k not in keys and k not in _FOLDED_KEYS]
            head = Markup("").join(Markup('<th scope="col">{}</th>').format(label(k)) for k in keys)
            body = Markup("").join(
                Markup("<tr>{}</tr>").format(Markup("").join(
                    Markup("<td>{}</td>").format(value_html(k, row.get(k), viewer_zone, row.get("currency", currency)))
                    for k in keys))
                for row in value)
            table = Markup('<table class="record"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>')
            return table.format(head, body)
        return Markup(", ").join(shown(v) for v in value)
    if key.endswith("_cents"):
        return money(value, currency)
    if _is_time_key(key):
        return time_html(value, viewer_zone)
    if key in _CODE_KEYS and isinstance(value, str) and not is_masked(value):
        return label(value)
    return shown(value)
