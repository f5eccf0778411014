"""Settings and secrets: generated for the embedded default, refused in production."""

from __future__ import annotations

import pytest

from ombud.config import Environment, Settings
from ombud.errors import ConfigurationError
from ombud.keys import load_keys


def test_embedded_default_generates_keys_once(tmp_path):
    settings = Settings(env=Environment.development, data_dir=tmp_path)
    first = load_keys(settings)
    second = load_keys(settings)
    assert first.card_fingerprint_key == second.card_fingerprint_key
    assert len(first.field_encryption_key) == 32
    assert set(first.generated) == {
        "card_fingerprint_key", "identifier_hash_key", "field_encryption_key", "audit_signing_key", "session_secret",
    }
    key_file = tmp_path / "keys" / "card_fingerprint.key"
    assert key_file.stat().st_mode & 0o077 == 0


def test_production_refuses_generated_secrets_and_names_them(tmp_path):
    settings = Settings(env=Environment.production, data_dir=tmp_path, card_fingerprint_key="ab" * 32)
    with pytest.raises(ConfigurationError) as err:
        load_keys(settings)
    message = err.value.message
    assert "OMBUD_FIELD_ENCRYPTION_KEY" in message and "OMBUD_DATABASE_URL" in message
    assert "OMBUD_CARD_FINGERPRINT_KEY" not in message
    assert not (tmp_path / "keys").exists()


def test_production_runs_with_every_secret_given(tmp_path):
    settings = Settings(
        env=Environment.production, data_dir=tmp_path, database_url="postgresql+psycopg://db/ombud",
        card_fingerprint_key="11" * 32, identifier_hash_key="22" * 32, field_encryption_key="33" * 32,
        audit_signing_key="44" * 32, session_secret="55" * 32,
    )
    keys = load_keys(settings)
    assert keys.generated == ()
    assert keys.field_encryption_key == bytes.fromhex("33" * 32)


def test_wrong_key_length_names_the_variable(tmp_path):
    settings = Settings(data_dir=tmp_path, field_encryption_key="00" * 16)
    with pytest.raises(ConfigurationError, match="OMBUD_FIELD_ENCRYPTION_KEY"):
        load_keys(settings)
