"""`ombud synth --households --messy --no-logins`: household members with ground truth, a damaged export,
no sign-in history; and the stream without these options is unchanged."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, timedelta

import pytest

from ombud.identity.normalize import parse_name
from ombud.synth import generate
from ombud.synth.households import generation_of

SMALL = {"accounts": 2500, "seed": 5, "victim_rate": 0.08}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("households")
    generate(base / "plain", **SMALL)
    generate(base / "households", **SMALL, households=True, messy=3.0, logins=False)
    return base / "plain", base / "households"


def _rows(directory, kind):
    with (directory / f"{kind}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _truth(directory):
    return [json.loads(line) for line in (directory / "truth" / "victims.jsonl").read_text().splitlines()]


def test_household_members_live_with_the_victim_under_their_own_details(outputs):
    _plain, hh = outputs
    accounts = {r["account_id"]: r for r in _rows(hh, "accounts")}
    kinds = Counter()
    gaps = []
    for victim in _truth(hh):
        profile = victim["profile"]
        mine = parse_name(profile["names"][0])
        for look in victim["lookalikes"]:
            kinds[look["kind"]] += 1
            assert set(look["account_ids"]) <= set(victim["household_account_ids"]) or look["kind"] not in (
                "junior", "senior", "twin", "spouse", "family", "roommate")
            for account_id in look["account_ids"]:
                row = accounts[account_id]
                assert row["email"] not in profile["emails"]  # their own email, never the victim's
                if look["kind"] in ("junior", "senior") and row["name"]:
                    other = parse_name(row["name"])
                    assert other.surname == mine.surname
                    assert other.generation in ("", "jr", "sr")
                    if row["date_of_birth"] and "-02-30" not in row["date_of_birth"] and profile["date_of_birth"]:
                        # A generation apart, the junior the younger: never a father and son months apart.
                        gap = (date.fromisoformat(row["date_of_birth"]) - date.fromisoformat(
                            profile["date_of_birth"])).days / 365.25
                        assert 19.9 <= (gap if look["kind"] == "junior" else -gap) <= 35.1, (look, gap)
                        gaps.append(gap)
                if look["kind"] == "twin" and row["date_of_birth"] and "-02-30" not in row["date_of_birth"]:
                    assert row["date_of_birth"] == profile["date_of_birth"]
        assert not set(victim["household_account_ids"]) & set(victim["fraudulent_account_ids"])
    assert kinds["spouse"] and kinds["junior"] + kinds["senior"] and kinds["twin"]
    assert gaps


def test_a_same_name_parent_or_child_is_a_generation_away_and_an_adult():
    as_of = date(2026, 1, 1)
    step = timedelta(days=25 * 365)
    young, old, middle = date(2000, 5, 1), date(1930, 5, 1), date(1970, 5, 1)
    assert generation_of("junior", young, as_of, step) == ("senior", young - step)  # too young for a grown son
    assert generation_of("senior", old, as_of, step) == ("junior", old + step)  # too old for a living father
    assert generation_of("junior", middle, as_of, step) == ("junior", middle + step)
    assert generation_of("senior", middle, as_of, step) == ("senior", middle - step)


def test_the_export_is_messy_and_has_no_sign_ins(outputs):
    _plain, hh = outputs
    assert not (hh / "logins.csv").exists()
    addresses = _rows(hh, "addresses")
    assert sum(1 for r in addresses if not r["region"]) > 0.05 * len(addresses)
    assert any(r["date_of_birth"].endswith("-02-30") for r in _rows(hh, "accounts"))


def test_without_the_options_the_output_is_as_before(outputs, tmp_path):
    plain, _hh = outputs
    again = tmp_path / "again"
    generate(again, **SMALL, households=False)
    for name in ("accounts.csv", "addresses.csv", "logins.csv"):
        assert (again / name).read_bytes() == (plain / name).read_bytes()
    assert all(set(v["household_account_ids"]) <= set(v["lookalike_account_ids"]) for v in _truth(plain))
