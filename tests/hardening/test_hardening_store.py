"""Production mode in the one place every command and the server pass through, a store that is not migrated,
a tampered leaf hash of the wrong type, and the embedded store's file modes."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from ombud import migrate
from ombud.app import create_app
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.cli.main import main
from ombud.config import Environment, Settings
from ombud.context import Context, StoreNotReady
from ombud.db import transaction
from ombud.errors import ConfigurationError


def _run(monkeypatch, capsys, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `ombud ARGS` as the entry point does (exit code and everything printed)."""
    for name in ("OMBUD_DATABASE_URL", "OMBUD_ENV", "OMBUD_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["ombud", *args])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out + out.err


@pytest.mark.parametrize("args", [
    ["db", "upgrade"],
    ["staff", "add", "--name", "Pat Admin", "--email", "pat@example.com", "--team", "ops", "--role", "admin",
     "--region", "us"],
    ["staff", "token", "create", "pat@example.com", "--name", "tool"],
    ["audit", "events"],
    ["audit", "verify"],
])
def test_production_refuses_every_command_before_touching_anything(monkeypatch, capsys, tmp_path, args):
    data = tmp_path / "data"
    code, printed = _run(monkeypatch, capsys, args, {"OMBUD_ENV": "production", "OMBUD_DATA_DIR": str(data)})
    assert code == 2 and "OMBUD_DATABASE_URL" in printed and "OMBUD_FIELD_ENCRYPTION_KEY" in printed
    assert not data.exists()  # no embedded store, no generated key


def test_production_refuses_the_server_and_any_context(tmp_path):
    settings = Settings(env=Environment.production, data_dir=tmp_path)
    with pytest.raises(ConfigurationError):
        Context(settings)
    with pytest.raises(ConfigurationError):
        create_app(settings)


def test_a_store_never_migrated_says_run_db_upgrade(monkeypatch, capsys, tmp_path):
    env = {"OMBUD_ENV": "development", "OMBUD_DATA_DIR": str(tmp_path / "data")}
    for args in (["audit", "verify"], ["audit", "events"], ["staff", "list"]):
        code, printed = _run(monkeypatch, capsys, args, env)
        assert code == 2, (args, printed)  # not 1, which audit verify gives a tampered log
        assert "ombud db upgrade" in printed and "Traceback" not in printed
    code, printed = _run(monkeypatch, capsys, ["db", "upgrade"], env)
    assert code == 0
    code, printed = _run(monkeypatch, capsys, ["audit", "verify"], env)
    assert code == 0, printed


def test_a_store_behind_this_version_says_run_db_upgrade(tmp_path):
    settings = Settings(env=Environment.test, data_dir=tmp_path)
    migrate.upgrade(settings.resolved_database_url, "0004")
    ctx = Context(settings)
    with pytest.raises(StoreNotReady, match="ombud db upgrade"):
        ctx.sessions  # noqa: B018 (the property checks the store)
    ctx.close()


def test_a_leaf_hash_stored_as_text_is_reported_not_a_crash(monkeypatch, capsys, tmp_path):
    env = {"OMBUD_ENV": "development", "OMBUD_DATA_DIR": str(tmp_path / "data")}
    assert _run(monkeypatch, capsys, ["db", "upgrade"], env)[0] == 0
    ctx = Context(Settings(env=Environment.development, data_dir=tmp_path / "data"))
    with transaction(ctx.sessions) as session:
        for n in range(5):
            append_event(session, AuditEvent("staff.sign_in", customer_id=None, subject_id=str(n)))
    with transaction(ctx.sessions) as session:
        session.execute(text("UPDATE audit_event SET leaf_hash = 'not a hash' WHERE idx = 2"))
    ctx.close()
    code, printed = _run(monkeypatch, capsys, ["audit", "verify"], env)
    assert code == 1 and "event 2" in printed and "TypeError" not in printed


def test_the_embedded_store_and_its_keys_are_private(tmp_path):
    data = tmp_path / "deep" / "data"
    ctx = Context(Settings(env=Environment.development, data_dir=data))
    with ctx.engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
    ctx.keys  # noqa: B018 (generates the keys)
    ctx.close()
    db = data / "ombud.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    for folder in (data, data.parent, data / "keys"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for key in (data / "keys").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(tmp_path).stat().st_mode) != 0  # an existing parent is left as it was
