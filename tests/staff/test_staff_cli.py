"""`ombud staff ...` against a scratch store built the way a user builds one (`ombud db upgrade`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ombud.cli.common import console as cli_console
from ombud.cli.main import app
from ombud.config import Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.staff import service

PASSWORD = "a long enough passphrase"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A scratch SQLite store, migrated by the CLI itself; commands in this module share it."""
    data_dir = tmp_path_factory.mktemp("cli-store")
    env = {"OMBUD_DATA_DIR": str(data_dir), "OMBUD_DATABASE_URL": f"sqlite:///{data_dir / 'ombud.db'}",
           "OMBUD_ENV": "test"}
    result = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    return env


@pytest.fixture
def ombud(store, monkeypatch):
    for key, value in store.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli_console, "width", 200)  # tables unwrapped, as on a wide terminal

    def run(*args, input=None):
        return CliRunner().invoke(app, list(args), env=store, input=input)

    return run


def _employee(store, email):
    ctx = Context(Settings(data_dir=store["OMBUD_DATA_DIR"], database_url=store["OMBUD_DATABASE_URL"]))
    try:
        with transaction(ctx.sessions) as session:
            employee = service.get_employee_by_email(session, email)
            if employee is None:
                return None
            session.expunge(employee)
            return employee
    finally:
        ctx.close()


def test_add_with_prompt_asks_twice_and_the_password_works(ombud, store):
    result = ombud("staff", "add", "--email", "Kim.Agent@Example.com", "--name", "Kim Agent", "--role", "agent",
                   "--team", "Trust & Safety", "--region", "us-east", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "added Kim Agent <kim.agent@example.com> as agent" in result.output
    employee = _employee(store, "kim.agent@example.com")
    assert employee.external_id.startswith("emp-") and employee.team == "Trust & Safety"
    assert service.verify_password(employee.password_hash, PASSWORD)


def test_add_with_password_stdin_and_manager(ombud, store):
    assert ombud("staff", "add", "--email", "boss@example.com", "--name", "Bo Boss", "--role", "admin",
                 "--team", "IT", "--region", "us", "--password-stdin", "--external-id", "E-1",
                 input=PASSWORD + "\n").exit_code == 0
    result = ombud("staff", "add", "--email", "report@example.com", "--name", "Rae Report", "--role",
                   "privacy_officer", "--team", "Privacy", "--region", "us", "--manager", "boss@example.com",
                   "--hired", "2025-04-01", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    report, boss = _employee(store, "report@example.com"), _employee(store, "boss@example.com")
    assert report.manager_id == boss.id and str(report.hired_on) == "2025-04-01" and boss.external_id == "E-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "unknown role"),
        (["--hired", "April"], "not a date"),
        (["--email", "not-an-email"], "not an email address"),
        (["--manager", "nobody@example.com"], "no employee with email"),
    ],
)
def test_add_names_what_is_wrong_and_writes_nothing(ombud, store, args, message):
    base = {"--email": "bad.input@example.com", "--name": "Bad Input", "--role": "agent", "--team": "T",
            "--region": "r"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]
    result = ombud("staff", "add", *flat, "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 2
    assert message in result.output
    assert _employee(store, "bad.input@example.com") is None


def test_add_refuses_a_duplicate_and_a_weak_password(ombud):
    args = ["staff", "add", "--email", "dup@example.com", "--name", "Dup", "--role", "agent", "--team", "T",
            "--region", "r", "--password-stdin"]
    assert ombud(*args, input=PASSWORD + "\n").exit_code == 0
    duplicate = ombud(*args, input=PASSWORD + "\n")
    assert duplicate.exit_code == 2 and "exists" in duplicate.output
    weak = ombud(*[a if a != "dup@example.com" else "weak@example.com" for a in args], input="short\n")
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output


def test_list_set_password_token_and_deactivate(ombud, store):
    assert ombud("staff", "add", "--email", "lee@example.com", "--name", "Lee Leaving", "--role", "agent",
                 "--team", "T", "--region", "r", "--password", PASSWORD).exit_code == 0
    listing = ombud("staff", "list")
    assert listing.exit_code == 0 and "Lee Leaving" in listing.output

    changed = ombud("staff", "set-password", "lee@example.com", input="another fine passphrase\n" * 2)
    assert changed.exit_code == 0, changed.output
    assert service.verify_password(_employee(store, "lee@example.com").password_hash, "another fine passphrase")

    created = ombud("staff", "token", "create", "lee@example.com", "--name", "case tool", "--days", "5")
    assert created.exit_code == 0, created.output
    token = next(line for line in created.output.splitlines() if line.startswith("omb_"))
    prefix = token.split("_")[1]
    assert "active" in ombud("staff", "token", "list", "lee@example.com").output

    gone = ombud("staff", "deactivate", "lee@example.com")
    assert gone.exit_code == 0 and "1 token(s) revoked" in gone.output
    assert "Lee Leaving" not in ombud("staff", "list").output
    assert "Lee Leaving" in ombud("staff", "list", "--all").output
    assert "revoked" in ombud("staff", "token", "list", "lee@example.com").output

    ctx = Context(Settings(data_dir=store["OMBUD_DATA_DIR"], database_url=store["OMBUD_DATABASE_URL"]))
    with transaction(ctx.sessions) as session:
        assert service.resolve_api_token(session, token) is None
        with pytest.raises(service.Unauthenticated):
            service.authenticate(session, ctx.settings, email="lee@example.com",
                                 password="another fine passphrase", ip=None)
    ctx.close()
    assert ombud("staff", "token", "revoke", prefix).exit_code == 0  # revoking twice is harmless
    missing = ombud("staff", "token", "revoke", "00000000")
    assert missing.exit_code == 2 and "no API token" in missing.output


def test_token_create_prints_only_the_token_on_stdout(ombud):
    assert ombud("staff", "add", "--email", "tool@example.com", "--name", "Tool Owner", "--role", "agent",
                 "--team", "T", "--region", "r", "--no-password").exit_code == 0
    result = CliRunner().invoke(app, ["staff", "token", "create", "tool@example.com", "--name", "ci"])
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("omb_") and len(result.stdout.strip().splitlines()) == 1
