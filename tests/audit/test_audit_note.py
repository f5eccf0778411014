"""Signed notes and checkpoint bodies, checked by an independent verifier written here from the C2SP specs."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ombud.audit.note import (
    NoteError,
    Signer,
    Verifier,
    checkpoint_body,
    open_note,
    parse_checkpoint,
    parse_verifier,
)

SEED = bytes(range(32))
ROOT = hashlib.sha256(b"root").digest()


def _independent_verify(note: str, vkey: str) -> str:
    """C2SP signed-note verification from the spec text: returns the note's text or raises."""
    name, hex_id, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 0x01 and len(key) == 33, "an Ed25519 verifier key"
    assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == hex_id
    assert note.endswith("\n")
    text, _, sigs = note.rpartition("\n\n")
    text += "\n"
    for line in sigs.rstrip("\n").split("\n"):
        assert line.startswith("\u2014 "), "em dash and a space"
        signer, b64sig = line[2:].split(" ")
        blob = base64.b64decode(b64sig)
        if signer == name and blob[:4].hex() == hex_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], text.encode())
            return text
    raise AssertionError("no signature by the key")


def _signer(name="ombud.example/audit"):
    return Signer(name, Ed25519PrivateKey.from_private_bytes(SEED))


def test_a_checkpoint_note_verifies_independently():
    signer = _signer()
    body = checkpoint_body("ombud.example/audit", 12345, ROOT)
    note = signer.sign(body.text())
    assert body.text() == f"ombud.example/audit\n12345\n{base64.b64encode(ROOT).decode()}\n"
    assert "\n\n\u2014 ombud.example/audit " in note
    text = _independent_verify(note, signer.verifier.text())
    assert parse_checkpoint(text) == body
    opened = open_note(note, [signer.verifier])
    assert opened.text == body.text() and opened.verified_by == (signer.verifier,)


def test_key_id_and_verifier_key_format_match_sumdb_note():
    signer = _signer("example.com/log")
    verifier = signer.verifier
    raw = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    digest = hashlib.sha256(b"example.com/log\n\x01" + raw).digest()
    assert verifier.key_id == int.from_bytes(digest[:4], "big")
    text = verifier.text()
    encoded = base64.b64encode(b"\x01" + raw).decode()
    assert text == f"example.com/log+{digest[:4].hex()}+{encoded}"
    assert parse_verifier(text) == verifier


def test_a_changed_note_fails_to_verify():
    signer = _signer()
    note = signer.sign(checkpoint_body("ombud.example/audit", 10, ROOT).text())
    forged = note.replace("\n10\n", "\n11\n")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [signer.verifier])
    with pytest.raises(InvalidSignature):
        _independent_verify(forged, signer.verifier.text())


def test_a_note_by_another_key_is_not_trusted():
    other = Signer("ombud.example/audit", Ed25519PrivateKey.generate())
    note = other.sign("ombud.example/audit\n1\n" + base64.b64encode(ROOT).decode() + "\n")
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(note, [_signer().verifier])
    # Several signers: the trusted one is enough, the unknown one is reported.
    cosigned = note + _signer().sign(note.rpartition("\n\n")[0] + "\n").rpartition("\n\n")[2]
    opened = open_note(cosigned, [_signer().verifier])
    assert opened.unknown_signers == (("ombud.example/audit", other.verifier.key_id),)


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n\u2014 a AAAA\n",
        "text\n\n- ascii dash AAAAAAA=\n",
        "text\n\n\u2014 name not-base64!\n",
        "text\n\n\u2014 name AAAAAAA=",  # no final newline
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(NoteError):
        open_note(note, [_signer().verifier])


@pytest.mark.parametrize(
    "text",
    [
        "origin\n012\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n12\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "origin\n12\n",
        "\n12\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n12\n" + base64.b64encode(ROOT).decode(),
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        parse_checkpoint(text)


def test_extension_lines_are_kept():
    text = "origin\n5\n" + base64.b64encode(ROOT).decode() + "\nextra line\n"
    assert parse_checkpoint(text).extensions == ("extra line",)


def test_bad_names_and_keys_are_refused():
    with pytest.raises(NoteError):
        _signer("has space")
    with pytest.raises(NoteError):
        _signer("has+plus")
    with pytest.raises(NoteError):
        Verifier("ok", b"short")
    with pytest.raises(NoteError):
        parse_verifier("name+00000000+AAAA")
    good = _signer().verifier.text()
    name, key_id, key = good.split("+", 2)
    with pytest.raises(NoteError, match="does not match"):
        parse_verifier(f"{name}+{int(key_id, 16) ^ 1:08x}+{key}")
    with pytest.raises(NoteError):
        _signer().sign("no newline")
    with pytest.raises(NoteError):
        _signer().sign("a\n\nb\n")
