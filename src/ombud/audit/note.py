"""C2SP signed notes with Ed25519 and C2SP tlog-checkpoint bodies; pure, no database.

Compatible with Go's golang.org/x/mod/sumdb/note: the key id is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || public key), a signature line is "— <name> base64(key id || sig)".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: Signature algorithm byte for Ed25519 in signed-note keys.
ALG_ED25519: Final = 0x01
#: The dash that opens a signature line: U+2014 EM DASH, then a space.
SIGNATURE_PREFIX: Final = "\u2014 "
HASH_SIZE: Final = 32
_MAX_SIGNATURES: Final = 100


class NoteError(ValueError):
    """A note, key or checkpoint is malformed, or no trusted key signed it."""


def _valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name) and name.isprintable()


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> int:
    """The 32-bit key id: the first four bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        if not _valid_key_name(self.name):
            raise NoteError(f"invalid key name {self.name!r}: no spaces, no '+', not empty")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def text(self) -> str:
        """The verifier key in note format: <name>+<hex key id>+<base64(0x01 || public key)>."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when `signature` is this key's Ed25519 signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier(text: str) -> Verifier:
    """A verifier from its note-format text; checks the key id matches the name and key."""
    parts = text.strip().split("+", 2)  # the base64 key may itself hold "+"
    if len(parts) != 3:
        raise NoteError("a verifier key reads <name>+<hex key id>+<base64 key>")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = int(hex_id, 16)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("the verifier key's id or key is not hex / base64") from exc
    if len(hex_id) != 8 or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("not an Ed25519 verifier key")
    verifier = Verifier(name, raw[1:])
    if verifier.key_id != wanted:
        raise NoteError("the verifier key's id does not match its name and key")
    return verifier


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        if not _valid_key_name(self.name):
            raise NoteError(f"invalid key name {self.name!r}: no spaces, no '+', not empty")

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, public_key_bytes(self.private_key.public_key()))

    def sign(self, text: str) -> str:
        """The signed note: the text, a blank line, and this key's signature line."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        if "\n\n" in text:
            raise NoteError("a note's text has no blank lines")
        signature = self.private_key.sign(text.encode())
        blob = self.verifier.key_id.to_bytes(4, "big") + signature
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signature by at least one trusted key checked out."""

    text: str
    verified_by: tuple[Verifier, ...]
    unknown_signers: tuple[tuple[str, int], ...]  # (name, key id) of signatures by keys not trusted


def open_note(note: str, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Check a signed note against trusted keys; raises NoteError when malformed or no trusted key signed it."""
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note has its text, a blank line, then signature lines")
    text, signature_block = note[: split + 1], note[split + 2 :]
    lines = signature_block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError("too many signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    unknown: list[tuple[str, int]] = []
    message = text.encode()
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"a signature line starts with an em dash and a space: {line[:40]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError(f"the signature of {name!r} is not base64") from exc
        if not _valid_key_name(name) or len(blob) < 5:
            raise NoteError(f"malformed signature line for {name!r}")
        ident = int.from_bytes(blob[:4], "big")
        verifier = known.get((name, ident))
        if verifier is None:
            unknown.append((name, ident))
            continue
        if not verifier.verify(message, blob[4:]):
            raise NoteError(f"the signature by {name} (key {ident:08x}) does not verify")
        verified.append(verifier)
    if not verified:
        raise NoteError("no trusted key signed this note")
    return OpenedNote(text, tuple(verified), tuple(unknown))


@dataclass(frozen=True)
class CheckpointBody:
    """The C2SP tlog-checkpoint body: origin, tree size, root hash, and any extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The body as note text: one value per line, each line ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)


def checkpoint_body(origin: str, size: int, root_hash: bytes) -> CheckpointBody:
    """A checkpoint body, checked: a one-line origin, a non-negative size, a 32-byte root."""
    if not origin or "\n" in origin or not origin.isprintable():
        raise NoteError("the checkpoint origin is one non-empty line")
    if size < 0 or len(root_hash) != HASH_SIZE:
        raise NoteError("a checkpoint has a non-negative size and a 32-byte root hash")
    return CheckpointBody(origin, size, root_hash)


def parse_checkpoint(text: str) -> CheckpointBody:
    """The checkpoint body in a note's text; raises NoteError when malformed."""
    if not text.endswith("\n"):
        raise NoteError("a checkpoint ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("the checkpoint origin is empty")
    if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"the checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("the checkpoint root hash is not base64") from exc
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_text:
        raise NoteError("the checkpoint root hash is not 32 bytes in standard base64")
    if any(not line for line in extensions):
        raise NoteError("a checkpoint has no empty extension lines")
    return CheckpointBody(origin, int(size_text), root, tuple(extensions))
