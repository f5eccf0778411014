"""The deployment's secrets: read from settings, or generated into the data folder for the embedded default."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ombud.config import Settings
from ombud.crypto import FieldCipher
from ombud.errors import ConfigurationError
from ombud.private import private_dir

#: setting name -> (file name in <data_dir>/keys, minimum length in bytes, exact length or None)
SECRETS: dict[str, tuple[str, int, int | None]] = {
    "card_fingerprint_key": ("card_fingerprint.key", 32, None),
    "identifier_hash_key": ("identifier_hash.key", 32, None),
    "field_encryption_key": ("field_encryption.key", 32, 32),
    "audit_signing_key": ("audit_signing.key", 32, 32),
    "session_secret": ("session.key", 32, None),
}


def decode_secret(name: str, text: str) -> bytes:
    """Bytes of a secret given as hex or base64 (standard or URL-safe)."""
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"OMBUD_{name.upper()} is neither hex nor base64", field=name) from exc


def _check_length(name: str, value: bytes) -> bytes:
    _, minimum, exact = SECRETS[name]
    if exact is not None and len(value) != exact:
        raise ConfigurationError(f"OMBUD_{name.upper()} must be exactly {exact} bytes", field=name)
    if len(value) < minimum:
        raise ConfigurationError(f"OMBUD_{name.upper()} must be at least {minimum} bytes", field=name)
    return value


def missing_production_settings(settings: Settings) -> list[str]:
    """Environment variables production needs that are unset (so a generated default would be used)."""
    missing = [f"OMBUD_{name.upper()}" for name in SECRETS if getattr(settings, name) is None]
    if settings.database_url is None:
        missing.append("OMBUD_DATABASE_URL")
    return missing


def check_production_ready(settings: Settings) -> None:
    """Refuse to run in production on generated secrets or the embedded database; name what is missing."""
    if not settings.is_production:
        return
    missing = missing_production_settings(settings)
    if missing:
        raise ConfigurationError(
            "OMBUD_ENV=production refuses generated or default secrets; set: " + ", ".join(missing)
        )


@dataclass(frozen=True)
class KeyRing:
    """The secret keys of one deployment."""

    card_fingerprint_key: bytes
    identifier_hash_key: bytes
    field_encryption_key: bytes
    audit_signing_seed: bytes
    session_secret: bytes
    generated: tuple[str, ...] = ()

    @cached_property
    def field_cipher(self) -> FieldCipher:
        return FieldCipher(self.field_encryption_key)

    @cached_property
    def audit_signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.audit_signing_seed)

    @cached_property
    def audit_public_key(self) -> Ed25519PublicKey:
        return self.audit_signing_key.public_key()


def _read_or_generate(path: Path, size: int) -> bytes:
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    private_dir(path.parent)
    value = secrets.token_bytes(size)
    # Write to a private temporary file then rename, so a crash never leaves a half-written key.
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex() + "\n")
    tmp.replace(path)
    return value


def load_keys(settings: Settings) -> KeyRing:
    """The key ring: configured secrets, else keys generated once into <data_dir>/keys (not in production)."""
    check_production_ready(settings)
    values: dict[str, bytes] = {}
    generated: list[str] = []
    for name, (file_name, minimum, exact) in SECRETS.items():
        configured = getattr(settings, name)
        if configured is not None:
            values[name] = _check_length(name, decode_secret(name, configured.get_secret_value()))
        else:
            values[name] = _read_or_generate(settings.data_dir / "keys" / file_name, exact or minimum)
            generated.append(name)
    return KeyRing(
        card_fingerprint_key=values["card_fingerprint_key"],
        identifier_hash_key=values["identifier_hash_key"],
        field_encryption_key=values["field_encryption_key"],
        audit_signing_seed=values["audit_signing_key"],
        session_secret=values["session_secret"],
        generated=tuple(generated),
    )
