"""Card fingerprints, keyed hashes and field encryption."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from ombud.crypto import CardNumberError, FieldCipher, card_fingerprint, keyed_hash, luhn_valid

KEY = b"k" * 32


def test_fingerprint_ignores_formatting_and_depends_on_key():
    plain = card_fingerprint(KEY, "4242424242424242")
    assert card_fingerprint(KEY, "4242 4242-4242 4242") == plain
    assert card_fingerprint(b"x" * 32, "4242424242424242") != plain
    assert "4242424242424242" not in plain


@pytest.mark.parametrize("bad", ["4242424242424241", "1234", "abcd"])
def test_fingerprint_refuses_what_is_not_a_card_number(bad):
    with pytest.raises(CardNumberError):
        card_fingerprint(KEY, bad)


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_luhn_check_digit_always_completes_a_number(prefix):
    check = next(d for d in "0123456789" if luhn_valid(prefix + d))
    assert luhn_valid(prefix + check)
    assert sum(luhn_valid(prefix + d) for d in "0123456789") == 1


def test_keyed_hash_separates_kinds():
    assert keyed_hash(KEY, "ssn", "123456789") != keyed_hash(KEY, "phone", "123456789")


@given(st.text(max_size=200), st.text(max_size=50))
def test_field_cipher_round_trips(plaintext, context):
    cipher = FieldCipher(KEY)
    assert cipher.decrypt(cipher.encrypt(plaintext, context), context) == plaintext


def test_field_cipher_binds_context_and_detects_tampering():
    cipher = FieldCipher(KEY)
    blob = cipher.encrypt("123-45-6789", "credit_application.ssn")
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, "other.column")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(InvalidTag):
        cipher.decrypt(flipped, "credit_application.ssn")
