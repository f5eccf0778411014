"""The synthetic retailer's insider data: determinism, truth consistent with the events, scenarios as described,
and the files pass the import's checks."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from ombud.errors import InvalidInput
from ombud.insider.eventimport import import_events
from ombud.retail.importer import import_directory
from ombud.synth import generate
from ombud.synth.insider import InsiderOptions
from ombud.synth.insider_scenarios import SCENARIOS

PARAMS = {"accounts": 2500, "seed": 21, "chunk_accounts": 1000}
OPTIONS = InsiderOptions(days=75, load=6.0, scenario_rate=1.0, staff=90)
INSIDER_FILES = ("sellers.csv", "products.csv", "reviews.csv", "support_contacts.csv", "staff_hr.csv",
                 "access_events.csv", "truth/insider.jsonl")


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("insider") / "retailer"
    generate(out, **PARAMS, insider=OPTIONS)
    return out


@pytest.fixture(scope="module")
def truth(world: Path) -> list[dict]:
    return [json.loads(line) for line in (world / "truth" / "insider.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def events(world: Path) -> dict[str, dict[str, str]]:
    return {row["event_id"]: row for row in _rows(world, "access_events.csv")}


def test_same_seed_same_bytes_and_off_means_unchanged(tmp_path, world):
    again = tmp_path / "again"
    generate(again, **PARAMS, insider=OPTIONS)
    assert _digest(again) == _digest(world)
    plain = tmp_path / "plain"
    generate(plain, **PARAMS)
    files = _digest(plain)
    assert not set(INSIDER_FILES) & set(files)
    assert "insider" not in json.loads((plain / "truth" / "summary.json").read_text())


def test_every_scenario_kind_is_there_and_counted(world, truth):
    summary = json.loads((world / "truth" / "summary.json").read_text())
    counted = Counter(f"{t['label']}:{t['scenario']}" for t in truth)
    assert summary["insider"] == dict(sorted(counted.items()))
    kinds = {t["scenario"] for t in truth}
    malicious = {name for name, label in SCENARIOS if label == "insider"}
    assert malicious <= kinds
    assert {"outage_spike", "family_ticket_routed"} <= kinds
    assert {t["label"] for t in truth if t["scenario"] in malicious} == {"insider"}
    for name in INSIDER_FILES:
        assert (world / name).exists()
    assert summary["rows"]["access_events"] == len(_rows(world, "access_events.csv"))


def test_truth_events_exist_and_match_their_line(truth, events):
    for line in truth:
        assert line["event_ids"] or line["scenario"] == "new_hire_ramp", line["scenario"]
        mine = [events[e] for e in line["event_ids"]]  # every truth event is in the file
        assert sorted({e["customer_id"] for e in mine}) == line["customer_ids"]
        if mine:
            assert min(e["at"] for e in mine) == line["window"]["start"]
            assert max(e["at"] for e in mine) == line["window"]["end"]
        if line["employee_id"] is not None:
            assert {e["employee_id"] for e in mine} <= {line["employee_id"]}
    ids = [e for line in truth for e in line["event_ids"]]
    assert len(ids) == len(set(ids))  # an event belongs to one scenario


def test_scenarios_do_what_they_say(world, truth, events):
    reviews = _rows(world, "reviews.csv")
    contacts = _rows(world, "support_contacts.csv")
    hr = {row["employee_id"]: row for row in _rows(world, "staff_hr.csv")}
    by_ticket: dict[str, list[dict]] = {}
    for contact in contacts:
        by_ticket.setdefault(contact["ticket_ref"], []).append(contact)
    postcode = {}
    for address in _rows(world, "addresses.csv"):
        postcode.setdefault(address["account_id"], address["postal_code"][:5])
    for line in truth:
        mine = [events[e] for e in line["event_ids"]]
        kind = line["scenario"]
        if kind == "seller_negative_reviewers":
            angry = {r["account_id"] for r in reviews if r["seller_id"] == line["params"]["seller_id"]
                     and int(r["rating"]) <= 2}
            assert set(line["customer_ids"]) <= angry
            assert {e["data_class"] for e in mine} == {"contact"}
        elif kind == "self_opened_tickets":
            assert line["ticket_refs"]
            for ref in line["ticket_refs"]:
                assert {c["initiated_by"] for c in by_ticket[ref]} == {"staff"}
                assert {c["employee_id"] for c in by_ticket[ref]} == {line["employee_id"]}
        elif kind == "break_glass_habit":
            assert {e["break_glass"] for e in mine} == {"true"}
        elif kind == "bulk_lookup":
            assert len({e["customer_id"] for e in mine}) >= 100
        elif kind == "video_beyond_case":
            assert {e["data_class"] for e in mine} == {"video"} and {e["source_system"] for e in mine} == {"video"}
        elif kind == "neighbour_snoop":
            home = hr[line["employee_id"]]["home_postcode"]
            assert home and all(postcode[c] == home for c in line["customer_ids"])
        elif kind == "departing_employee":
            left = hr[line["employee_id"]]["left_on"]
            assert left and all(e["at"][:10] < left for e in mine)
        elif kind == "outage_spike":
            assert line["label"] == "innocent" and len(line["employee_ids"]) >= 1
            assert all(e["ticket_ref"] == "" or by_ticket[e["ticket_ref"]][0]["initiated_by"] == "customer"
                       for e in mine)


def test_most_looks_are_explained_by_a_customers_ticket_or_an_order(world, events):
    contacts = _rows(world, "support_contacts.csv")
    opened = {(c["ticket_ref"], c["account_id"]) for c in contacts if c["initiated_by"] == "customer"}
    with_ticket = sum(1 for e in events.values() if (e["ticket_ref"], e["customer_id"]) in opened)
    order_tool = sum(1 for e in events.values() if e["source_system"] == "order_tool" and not e["ticket_ref"])
    assert with_ticket / len(events) > 0.8
    assert (with_ticket + order_tool) / len(events) > 0.9
    assert {e["source_system"] for e in events.values()} == {"support_tool", "order_tool", "video"}


def test_the_files_pass_the_import(ctx, world):
    report = import_directory(ctx, world)
    assert report.ok, [str(e) for e in report.errors[:5]]
    assert report.kind("staff_hr").read == report.kind("employees").read > 80
    events = import_events(ctx, world)
    assert events.ok, [str(e) for e in events.errors[:5]]
    assert sum(k.inserted for k in events.kinds) == len(_rows(world, "access_events.csv"))


def test_options_are_checked(tmp_path):
    with pytest.raises(InvalidInput) as bad:
        generate(tmp_path / "x", accounts=100, insider=InsiderOptions(days=3))
    assert bad.value.field == "insider-days"
    assert not (tmp_path / "x").exists()


def test_cli_insider_flags_and_jsonl(tmp_path):
    from typer.testing import CliRunner

    from ombud.cli.main import app

    out = tmp_path / "retailer"
    result = CliRunner().invoke(app, ["synth", "-n", "600", "-s", "4", "-o", str(out), "--workers", "1", "--format",
                                      "jsonl", "--insider", "--insider-days", "30", "--insider-load", "4",
                                      "--insider-staff", "45"])
    assert result.exit_code == 0, result.output
    assert "access_events.jsonl" in result.output and "insider scenarios" in result.output
    lines = (out / "access_events.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"event_id", "source_system", "employee_id", "customer_id", "data_class", "at", "ip",
                          "site", "ticket_ref", "break_glass"}
    assert abs(len((out / "employees.jsonl").read_text().splitlines()) - 45) <= 3  # team shares are rounded
    bad = CliRunner().invoke(app, ["synth", "-n", "100", "-o", str(tmp_path / "b"), "--insider", "--insider-days",
                                   "2"])
    assert bad.exit_code != 0 and "--insider-days" in bad.output
