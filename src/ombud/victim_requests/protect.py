"""Sealing the requester's personal data at rest with the deployment's field-encryption key (AES-256-GCM).

JSON values go through ombud.crypto.FieldCipher; uploaded files are bytes, sealed here with the same key and
the same construction (a version byte, a random 96-bit nonce, the ciphertext bound to a context string), so a
blob moved to another column or request cannot be opened there.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ombud.keys import KeyRing

_BYTES_V1 = b"\x81"
_NONCE = 12


def seal_json(keys: KeyRing, value: Any, context: str) -> bytes:
    """Encrypt a JSON value."""
    return keys.field_cipher.encrypt(json.dumps(value, separators=(",", ":"), default=str), context)


def open_json(keys: KeyRing, blob: bytes | None, context: str) -> Any:
    """Decrypt a value sealed by seal_json (None stays None)."""
    if blob is None:
        return None
    return json.loads(keys.field_cipher.decrypt(bytes(blob), context))


def seal_bytes(keys: KeyRing, data: bytes, context: str) -> bytes:
    """Encrypt a file's bytes."""
    nonce = os.urandom(_NONCE)
    return _BYTES_V1 + nonce + AESGCM(keys.field_encryption_key).encrypt(nonce, data, context.encode())


def open_bytes(keys: KeyRing, blob: bytes, context: str) -> bytes:
    """Decrypt a file sealed by seal_bytes; raises on any tampering."""
    blob = bytes(blob)
    if blob[:1] != _BYTES_V1:
        raise ValueError("unknown file-encryption version")
    return AESGCM(keys.field_encryption_key).decrypt(blob[1:1 + _NONCE], blob[1 + _NONCE:], context.encode())
