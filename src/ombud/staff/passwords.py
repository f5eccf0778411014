"""Staff passwords: strength rules and argon2id hashing; pure (no database, no web framework)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ombud.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

#: argon2id with the library's RFC 9106 defaults (t=3, m=64 MiB, p=4); tests may swap in a cheaper one.
hasher = PasswordHasher()
#: Compared against when the email is unknown, so a wrong email costs as long as a wrong password; made on
#: first use, since an argon2id hash costs a noticeable part of a second and most commands never sign anyone in.
dummy_hash: str | None = None


def _dummy_hash() -> str:
    global dummy_hash
    if dummy_hash is None:
        dummy_hash = hasher.hash(secrets.token_urlsafe(16))
    return dummy_hash


def check_password_strength(password: str, *, email: str | None = None) -> None:
    """Refuse a password that is too short, absurdly long, too repetitive, or just the email address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"a password may have at most {MAX_PASSWORD_LENGTH} characters", field="password")
    if email and password.strip().lower() == email.strip().lower():
        raise InvalidInput("a password must not be the email address", field="password")
    if len(set(password)) < 4:
        raise InvalidInput("a password needs more than a few distinct characters", field="password")


def hash_password(password: str, *, email: str | None = None) -> str:
    """An argon2id hash of a password, after checking it is strong enough."""
    check_password_strength(password, email=email)
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash; never raises on a mismatch or a malformed hash.

    Without a hash it still spends the time of one verification, so timing does not tell whether
    an account exists.
    """
    try:
        matched = hasher.verify(password_hash or _dummy_hash(), password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than the current ones."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
