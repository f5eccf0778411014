"""Short-lived links to a customer's "who accessed my data" page, signed by the retailer's own site.

The retailer's site already knows who its signed-in customer is; it mints a link with the shared key, and
Ombud checks it without ever keeping customer passwords. A token is

    v1.<customer id, base64url>.<expiry, unix seconds>.<HMAC-SHA256, base64url>

over ``ombud-transparency-v1\\n<customer id>\\n<expiry>``. A link is refused when the signature does not match,
the expiry has passed, or the expiry lies more than `transparency_link_max_minutes` (15 at most) ahead: the
retailer cannot mint a long-lived link by mistake. Every refusal looks the same to the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta

from ombud import clock
from ombud.config import Settings
from ombud.errors import ConfigurationError
from ombud.keys import _read_or_generate, decode_secret

VERSION = "v1"
_CONTEXT = b"ombud-transparency-v1\n"
_CUSTOMER = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_TOKEN = re.compile(r"v1\.([A-Za-z0-9_\-]{1,120})\.(\d{1,12})\.([A-Za-z0-9_\-]{43})")


class LinkRefused(Exception):
    """A transparency link is forged, tampered, expired or too long-lived; the reason is for logs, not callers."""


def link_key(settings: Settings) -> bytes:
    """The shared HMAC key: configured, or generated once into <data_dir>/keys (never in production)."""
    if settings.transparency_link_key is not None:
        key = decode_secret("transparency_link_key", settings.transparency_link_key.get_secret_value())
        if len(key) < 32:
            raise ConfigurationError("OMBUD_TRANSPARENCY_LINK_KEY must be at least 32 bytes",
                                     field="transparency_link_key")
        return key
    if settings.is_production:
        raise ConfigurationError("set OMBUD_TRANSPARENCY_LINK_KEY (shared with the retailer's site) in production",
                                 field="transparency_link_key")
    return _read_or_generate(settings.data_dir / "keys" / "transparency.key", 32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, customer_id: str, expires: int) -> bytes:
    return hmac.new(key, _CONTEXT + customer_id.encode() + b"\n" + str(expires).encode(), hashlib.sha256).digest()


def sign(key: bytes, customer_id: str, *, minutes: int = 10, now: datetime | None = None) -> str:
    """A token for one customer, valid for `minutes` (what the retailer's site does; here for tests, demo, CLI)."""
    if not _CUSTOMER.fullmatch(customer_id):
        raise ValueError("not a customer id")
    expires = int(((now or clock.now()) + timedelta(minutes=minutes)).timestamp())
    return f"{VERSION}.{_b64(customer_id.encode())}.{expires}.{_b64(_mac(key, customer_id, expires))}"


def verify(key: bytes, token: str | None, *, max_minutes: int = 15, now: datetime | None = None) -> str:
    """The customer id a valid token names; LinkRefused otherwise (one exception for every cause)."""
    match = _TOKEN.fullmatch(token or "")
    if not match:
        raise LinkRefused("malformed")
    try:
        raw_customer, signature = _unb64(match.group(1)), _unb64(match.group(3))
        customer_id = raw_customer.decode()
    except (ValueError, UnicodeDecodeError):
        raise LinkRefused("malformed") from None
    # Canonical encodings only: base64's spare bits would otherwise let one token be spelled several ways.
    if _b64(raw_customer) != match.group(1) or _b64(signature) != match.group(3):
        raise LinkRefused("malformed")
    expires = int(match.group(2))
    if not _CUSTOMER.fullmatch(customer_id) or not hmac.compare_digest(signature, _mac(key, customer_id, expires)):
        raise LinkRefused("signature")
    current = int((now or clock.now()).timestamp())
    if expires <= current:
        raise LinkRefused("expired")
    if expires - current > min(max_minutes, 15) * 60:
        raise LinkRefused("lives too long")
    return customer_id
