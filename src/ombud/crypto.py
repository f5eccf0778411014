"""Keyed fingerprints, keyed hashes and field encryption; pure functions over bytes."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NON_DIGITS = re.compile(r"\D")

#: Version byte in front of every encrypted field, so the scheme can change without ambiguity.
_CIPHER_V1 = b"\x01"
_NONCE_BYTES = 12


class CardNumberError(ValueError):
    """The text is not a plausible payment card number."""


def card_digits(card_number: str) -> str:
    """The digits of a card number, checked for length (12-19) and the Luhn checksum."""
    digits = _NON_DIGITS.sub("", card_number)
    if not 12 <= len(digits) <= 19:
        raise CardNumberError("a card number has 12 to 19 digits")
    if not luhn_valid(digits):
        raise CardNumberError("the card number fails its checksum (Luhn)")
    return digits


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_CARD_PREFIX = b"card:"


def card_fingerprint(key: bytes, card_number: str) -> str:
    """The keyed fingerprint of a card number (128-bit HMAC-SHA256, hex); the number is not kept."""
    digits = card_digits(card_number)
    return hmac.new(key, _CARD_PREFIX + digits.encode(), hashlib.sha256).hexdigest()[:32]


def card_fingerprints(key: bytes, digits: Iterable[str]) -> list[str]:
    """`card_fingerprint` of many numbers already reduced to their digits (an import's checked column).

    The HMAC state after the key and the prefix is made once and copied per card: ~30% less than a new
    HMAC each time.
    """
    copy = hmac.new(key, _CARD_PREFIX, hashlib.sha256).copy
    out = []
    for number in digits:
        state = copy()
        state.update(number.encode())
        out.append(state.hexdigest()[:32])
    return out


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """A keyed hash of an already-normalised identifier, separated by kind (e.g. 'ssn')."""
    message = kind.encode() + b"\x00" + value.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


class FieldCipher:
    """AES-256-GCM encryption of single fields, bound to a context string (table and column)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the field-encryption key must be 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Encrypt text; the context must be given again to decrypt."""
        nonce = os.urandom(_NONCE_BYTES)
        return _CIPHER_V1 + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        """Decrypt a value made by `encrypt` with the same context; raises on any tampering."""
        if blob[:1] != _CIPHER_V1:
            raise ValueError("unknown field-encryption version")
        nonce = blob[1 : 1 + _NONCE_BYTES]
        return self._aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], context.encode()).decode()
