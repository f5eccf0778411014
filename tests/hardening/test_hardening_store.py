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


def _leaf_commands() -> list[list[str]]:
    """Every command of the `ombud` app (groups walked down to their leaves), as argument lists."""
    import typer

    from ombud.cli.main import app

    out: list[list[str]] = []
    todo = [([], typer.main.get_command(app))]
    while todo:
        path, command = todo.pop()
        children = getattr(command, "commands", None)
        if children:
            todo.extend(([*path, name], child) for name, child in children.items())
        else:
            out.append(path)
    return sorted(out)


def test_production_is_refused_by_every_command_of_every_domain(monkeypatch, capsys, tmp_path):
    """The worker, requests, incidents, insider, look-back, outbox... and any command added later: each one is
    refused in production without its secrets before it reads a file or opens a store (`config` only describes)."""
    leaves = _leaf_commands()
    groups = {path[0] for path in leaves}
    assert {"worker", "requests", "incidents", "insider", "lookback", "outbox", "access", "import"} <= groups
    data = tmp_path / "data"
    for path in leaves:
        if path == ["config"]:
            continue
        code, printed = _run(monkeypatch, capsys, path, {"OMBUD_ENV": "production", "OMBUD_DATA_DIR": str(data)})
        assert code == 2 and "OMBUD_DATABASE_URL" in printed, (path, printed)
    assert not data.exists()


@pytest.mark.parametrize("args", [
    ["requests", "list"], ["requests", "sla"], ["incidents", "list"], ["insider", "alerts", "--as", "E1"],
    ["outbox", "list"], ["lookback", "list"], ["worker", "--drain"], ["access", "decisions"], ["cases", "list"],
])
def test_every_domain_on_a_store_never_migrated_says_run_db_upgrade(monkeypatch, capsys, tmp_path, args):
    env = {"OMBUD_ENV": "development", "OMBUD_DATA_DIR": str(tmp_path / "data")}
    code, printed = _run(monkeypatch, capsys, args, env)
    assert code == 2, (args, printed)
    assert "ombud db upgrade" in printed and "Traceback" not in printed


@pytest.mark.parametrize("content,reason", [
    (b'{"full_name": "Ann \xff\xfe Doe"}', "not JSON in UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'["a list", "not the details"]', "must be a JSON object"),
    (b'{"description": "' + b"x" * (2 * 1024 * 1024) + b'"}', "larger than"),
])
def test_a_letter_or_template_file_that_is_not_small_json_is_named_not_a_traceback(monkeypatch, capsys, tmp_path,
                                                                                   content, reason):
    env = {"OMBUD_ENV": "development", "OMBUD_DATA_DIR": str(tmp_path / "data")}
    letter = tmp_path / "letter.json"
    letter.write_bytes(content)
    code, printed = _run(monkeypatch, capsys, ["requests", "receive-letter", str(letter), "--received-at",
                                               "2026-12-01T09:00:00Z", "--as", "E1"], env)
    printed = " ".join(printed.split())  # the console wraps a long path
    assert code == 1 and reason in printed and "Traceback" not in printed and "letter.json" in printed
    assert "xxxxxxxx" not in printed
    if reason != "must be a JSON object":
        code, printed = _run(monkeypatch, capsys, ["outbox", "preview", "victim_request_receipt", "--context",
                                                   str(letter)], env)
        printed = " ".join(printed.split())
        assert code == 1 and reason in printed and "Traceback" not in printed


def test_production_still_answers_help_for_every_command_and_group(monkeypatch, capsys, tmp_path):
    """Describing a command needs no secrets: `--help` on any group or command, and a group named without a
    command, show their help in production too (as they would anywhere), touching nothing."""
    leaves = _leaf_commands()
    data = tmp_path / "data"
    env = {"OMBUD_ENV": "production", "OMBUD_DATA_DIR": str(data)}
    for path in [*leaves, *sorted({tuple(p[:1]) for p in leaves if len(p) > 1})]:
        code, printed = _run(monkeypatch, capsys, [*path, "--help"], env)
        assert code == 0 and "Usage: ombud " + " ".join(path) in printed, (path, printed)
        assert "OMBUD_DATABASE_URL" not in printed
    code, printed = _run(monkeypatch, capsys, ["requests"], env)
    assert code == 2 and "Usage: ombud requests" in printed and "OMBUD_DATABASE_URL" not in printed
    assert not data.exists()


@pytest.mark.parametrize("args", [
    ["discover", "--profile", "--help"],  # --help is the profile's file name here, not a request for help
    ["requests", "list", "--no-such-option", "--help"],
    ["insider", "alerts", "--as", "--help"],
])
def test_production_refuses_a_line_where_help_is_not_what_click_reads(monkeypatch, capsys, tmp_path, args):
    data = tmp_path / "data"
    code, printed = _run(monkeypatch, capsys, args, {"OMBUD_ENV": "production", "OMBUD_DATA_DIR": str(data)})
    assert code == 2 and "OMBUD_DATABASE_URL" in printed and "Usage:" not in printed
    assert not data.exists()
