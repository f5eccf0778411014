"""`ombud demo` end to end, as a new user runs it (a small retailer, its own data folder)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from ombud.audit.models import AuditEntry
from ombud.cli.main import app
from ombud.identity.models import IdentityRecord, IdentityTerm
from ombud.retail.models import Account
from ombud.staff.models import Employee


def test_demo_builds_a_store_walks_through_and_can_run_again(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("OMBUD_DATABASE_URL", raising=False)
    data = tmp_path / "ombud-data"
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--accounts", "300", "--data-dir", str(data)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "imported" in out and "0 rejected" in out
    assert "demo staff" in out and (data / "demo-credentials.txt").is_file()
    assert "ombud serve" in out
    assert "is now closed" in " ".join(out.split()) and list((data / "demo-records").glob("*-records.pdf"))

    # The victim the demo showed can be searched again with one command, from their own identifiers only.
    profile = data / "demo-victim-profile.json"
    assert f"ombud discover --profile {profile}" in out.replace("\n", "")
    monkeypatch.setenv("OMBUD_DATA_DIR", str(data))
    found = runner.invoke(app, ["discover", "--profile", str(profile), "--json"])
    assert found.exit_code == 0, found.output
    assert '"suspected_fraud"' in found.output or "suspected fraud" in found.output.replace("_", " ")

    engine = create_engine(f"sqlite:///{data / 'ombud.db'}")
    try:
        with engine.connect() as conn:
            accounts = conn.scalar(select(func.count()).select_from(Account))
            records = conn.scalar(select(func.count()).select_from(IdentityRecord))
            terms = conn.scalar(select(func.count()).select_from(IdentityTerm))
            # The demo's audit log speaks only of people who exist: every employee and customer it names.
            staff = set(conn.scalars(select(Employee.external_id)))
            customers = set(conn.scalars(select(Account.external_id)))
            actors = set(conn.scalars(select(AuditEntry.actor_id).where(AuditEntry.actor_type == "employee")))
            named = set(conn.scalars(select(AuditEntry.customer_id).where(AuditEntry.customer_id.is_not(None))))
    finally:
        engine.dispose()
    assert accounts and records >= accounts  # the identity index was built after the import
    assert terms > 0  # with its term frequencies
    assert actors and actors <= staff, f"audit events by employees who do not exist: {actors - staff}"
    assert named and named <= customers, f"audit events about customers who do not exist: {named - customers}"

    again = runner.invoke(app, ["demo", "--accounts", "300", "--data-dir", str(data)], env={"COLUMNS": "160"})
    assert again.exit_code == 0, again.output  # a demo folder is rebuilt from scratch
