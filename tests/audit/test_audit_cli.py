"""`ombud audit ...` against a scratch store built the way a user builds one (`ombud db upgrade`)."""

from __future__ import annotations

import json

import pytest
from auditutil import empty_log
from sqlalchemy import text
from typer.testing import CliRunner

from ombud.audit import service
from ombud.audit.events import AuditEvent
from ombud.audit.note import open_note, parse_checkpoint, parse_verifier
from ombud.cli.common import console as cli_console
from ombud.cli.common import err_console as cli_err_console
from ombud.cli.main import app
from ombud.config import Settings
from ombud.context import Context
from ombud.db import transaction


@pytest.fixture(scope="module")
def store_env(tmp_path_factory):
    """A scratch SQLite store migrated by the CLI itself, shared by this module's tests."""
    data_dir = tmp_path_factory.mktemp("audit-cli")
    env = {"OMBUD_DATA_DIR": str(data_dir), "OMBUD_DATABASE_URL": f"sqlite:///{data_dir / 'ombud.db'}",
           "OMBUD_ENV": "test"}
    result = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    return env


@pytest.fixture
def store(store_env, monkeypatch):
    """The scratch store with an empty audit log; commands run against it."""
    for key, value in store_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli_console, "width", 200)
    monkeypatch.setattr(cli_err_console, "width", 200)
    ctx = Context(Settings(data_dir=store_env["OMBUD_DATA_DIR"], database_url=store_env["OMBUD_DATABASE_URL"]))
    with ctx.engine.begin() as conn:
        empty_log(conn)
    yield ctx
    ctx.close()


def _run(*args):
    return CliRunner().invoke(app, list(args))


def _append(ctx, n):
    with transaction(ctx.sessions) as session:
        service.append_events(session, [
            AuditEvent("access.read", "employee", "E-7", customer_id=f"C-{i}", fields=("email",), purpose="case:1")
            for i in range(n)
        ])


def test_checkpoint_key_verify_prove_export(store, tmp_path):
    assert _run("audit", "checkpoint").exit_code == 2  # empty log
    _append(store, 6)
    signed = _run("audit", "checkpoint")
    assert signed.exit_code == 0, signed.output
    key = parse_verifier(_run("audit", "key").stdout)
    note = signed.stdout[signed.stdout.index(store.settings.audit_origin):]
    assert parse_checkpoint(open_note(note, [key]).text).size == 6
    _append(store, 2)
    verified = _run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "OK" in verified.stdout and "2 events after the latest checkpoint" in verified.stdout
    proof = _run("audit", "prove", "--index", "4", "--json")
    assert proof.exit_code == 0, proof.output
    body = json.loads(proof.stdout)
    assert body["verified"] and body["tree_size"] == 6 and body["index"] == 4
    assert _run("audit", "prove", "--index", "7").exit_code == 2  # not in the latest checkpoint yet
    out = tmp_path / "published"
    assert _run("audit", "export", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["6.checkpoint", "audit.vkey", "checkpoint"]
    assert _run("audit", "verify", "--checkpoints", str(out)).exit_code == 0


def test_verify_fails_naming_the_first_bad_entry(store):
    _append(store, 9)
    assert _run("audit", "checkpoint").exit_code == 0
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET customer_id = 'C-X' WHERE idx = 4"))
    result = _run("audit", "verify")
    assert result.exit_code == 1
    assert "first bad entry: event 4 (changed)" in result.stderr
    report = json.loads(_run("audit", "verify", "--json").stdout)
    assert not report["ok"] and report["first_problem"]["index"] == 4


def test_verify_trusts_extra_keys_and_refuses_bad_ones(store):
    result = _run("audit", "verify", "--key", "not-a-key")
    assert result.exit_code == 2 and "key" in result.stderr


def test_events_lists_and_filters(store):
    _append(store, 3)
    listed = _run("audit", "events", "--customer-id", "C-1", "--json")
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["index"] for r in rows] == [1] and rows[0]["fields"] == ["email"]
    table = _run("audit", "events", "--action", "access")
    assert table.exit_code == 0 and "access.read" in table.stdout
    assert _run("audit", "events", "--since", "yesterday").exit_code == 2
