"""`ombud insider scan / alerts / alert / assign / dismiss / escalate` against a scratch store."""

from __future__ import annotations

import pytest
from insiderutil import build
from typer.testing import CliRunner

from ombud.cli.common import console as cli_console
from ombud.cli.main import app
from ombud.config import Settings
from ombud.context import Context
from ombud.db import transaction


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("insider-cli")
    env = {"OMBUD_DATA_DIR": str(data_dir), "OMBUD_DATABASE_URL": f"sqlite:///{data_dir / 'ombud.db'}",
           "OMBUD_ENV": "test"}
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    ctx = Context(Settings(data_dir=data_dir, database_url=env["OMBUD_DATABASE_URL"], env="test"))
    with transaction(ctx.sessions) as session:
        world = build(session)
        names = {"analyst": world.analyst.external_id, "agent": world.agents[1].external_id,
                 "snooper": world.snooper.external_id}
    ctx.close()
    return env, names


@pytest.fixture
def ombud(store, monkeypatch):
    env, _ = store
    monkeypatch.setattr(cli_console, "width", 200)
    return lambda *args: CliRunner().invoke(app, list(args), env=env)


def test_scan_then_triage_from_the_shell(ombud, store):
    _, names = store
    result = ombud("insider", "scan")
    assert result.exit_code == 0, result.output
    assert "new alerts" in result.output and "explained" in result.output
    listed = ombud("insider", "alerts", "--as", names["analyst"])
    assert listed.exit_code == 0, listed.output
    assert "Employee " in listed.output and names["snooper"] not in listed.output
    alert_id = next(line.split()[0] for line in listed.output.splitlines() if "Employee " in line)
    shown = ombud("insider", "alert", alert_id, "--as", names["analyst"])
    assert shown.exit_code == 0 and "in checkpoint" not in shown.output  # no checkpoint signed yet
    assert "awaiting checkpoint" in shown.output
    refused = ombud("insider", "dismiss", alert_id, "--as", names["analyst"], "--reason", "whatever")
    assert refused.exit_code == 2 and "reason" in refused.output
    assert ombud("insider", "assign", alert_id, "--as", names["analyst"]).exit_code == 0
    escalated = ombud("insider", "escalate", alert_id, "--as", names["analyst"])
    assert escalated.exit_code == 0, escalated.output
    after = ombud("insider", "alerts", "--as", names["analyst"], "--status", "escalated")
    assert names["snooper"] in after.output


def test_agents_may_not_read_alerts(ombud, store):
    _, names = store
    result = ombud("insider", "alerts", "--as", names["agent"])
    assert result.exit_code == 2 and "security analysts" in result.output


def test_scan_refuses_a_bad_engine_and_date(ombud):
    assert ombud("insider", "scan", "--engine", "oracle").exit_code == 2
    assert ombud("insider", "scan", "--since", "last tuesday").exit_code == 2
