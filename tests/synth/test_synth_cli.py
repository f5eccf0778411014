"""`ombud synth` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ombud.cli.main import app

runner = CliRunner()


def test_synth_writes_files_and_prints_a_summary(tmp_path):
    out = tmp_path / "retailer"
    result = runner.invoke(app, ["synth", "--accounts", "400", "--seed", "3", "--out", str(out), "--workers", "1",
                                 "--victim-rate", "0.05"])
    assert result.exit_code == 0, result.output
    assert "accounts.csv" in result.output and "victims:" in result.output
    summary = json.loads((out / "truth" / "summary.json").read_text())
    assert summary["accounts"] == 400 and summary["seed"] == 3 and summary["victims"] > 0
    assert (out / "employees.csv").exists()


def test_synth_refuses_a_used_folder_without_force_and_names_the_option(tmp_path):
    out = tmp_path / "retailer"
    assert runner.invoke(app, ["synth", "-n", "100", "-o", str(out), "--workers", "1"]).exit_code == 0
    again = runner.invoke(app, ["synth", "-n", "100", "-o", str(out), "--workers", "1"])
    assert again.exit_code != 0
    assert "--out" in again.output and "force" in again.output
    forced = runner.invoke(app, ["synth", "-n", "100", "-o", str(out), "--workers", "1", "--force",
                                 "--format", "jsonl"])
    assert forced.exit_code == 0, forced.output
    assert (out / "accounts.jsonl").exists() and not (out / "accounts.csv").exists()


def test_synth_rejects_a_bad_date_and_format(tmp_path):
    bad_date = runner.invoke(app, ["synth", "-n", "10", "-o", str(tmp_path / "a"), "--as-of", "31/12/2025"])
    assert bad_date.exit_code != 0 and "--as-of" in bad_date.output
    bad_format = runner.invoke(app, ["synth", "-n", "10", "-o", str(tmp_path / "b"), "--format", "xml"])
    assert bad_format.exit_code != 0 and "--format" in bad_format.output


def test_synth_victim_prints_a_profile_for_discovery(synth):
    first = runner.invoke(app, ["synth-victim", str(synth.path)])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == synth.victims()[0]["profile"]
    takeover = runner.invoke(app, ["synth-victim", str(synth.path), "--kind", "account_takeover", "--truth"])
    line = json.loads(takeover.output)
    assert any(case["kind"] == "account_takeover" for case in line["cases"])
    wanted = synth.victims()[5]["victim_id"]
    assert json.loads(runner.invoke(app, ["synth-victim", str(synth.path), wanted, "--truth"]).output)[
        "victim_id"] == wanted
    missing = runner.invoke(app, ["synth-victim", str(synth.path), "V9999999"])
    assert missing.exit_code != 0 and "V9999999" in missing.output
