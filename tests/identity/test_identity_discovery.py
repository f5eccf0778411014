"""Discovery end to end on a small synthetic retailer: imported with the index callback, every victim
searched with only their own identifiers, the results held against the ground truth."""

from __future__ import annotations

import json

import pytest
from identity_testdata import JANE
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.errors import InvalidInput
from ombud.identity.evaluate import evaluate, read_truth
from ombud.identity.index import import_callback
from ombud.identity.service import discover
from ombud.identity.training import train
from ombud.retail.importer import import_directory


@pytest.fixture(scope="module")
def store(engine, database_url, synthetic, tmp_path_factory):
    """The synthetic retailer imported once for the module, inside a transaction rolled back at its end;
    each test's sessions work in savepoints of it."""
    with engine.connect() as conn:
        outer = conn.begin()
        settings = Settings(env=Environment.test, data_dir=tmp_path_factory.mktemp("data"), database_url=database_url)
        ctx = Context(settings)
        ctx.__dict__["engine"] = engine
        ctx.__dict__["sessions"] = sessionmaker(bind=conn, expire_on_commit=False,
                                                join_transaction_mode="create_savepoint")
        report = import_directory(ctx, synthetic, on_batch=[import_callback(ctx.keys)])
        assert report.error_count == 0
        try:
            yield ctx
        finally:
            outer.rollback()


@pytest.fixture(scope="module")
def imported(synthetic):
    return list(read_truth(synthetic / "truth" / "victims.jsonl"))


@pytest.fixture
def ctx(store):
    return store


@pytest.fixture
def sessions(store):
    return store.sessions


def test_every_victim_finds_the_fraud_and_not_the_lookalikes(ctx, sessions, imported):
    with sessions() as session:
        result = evaluate(imported, lambda p: discover(session, ctx.keys, p, include_below_threshold=False))
        summary = result.summary()
        assert summary["victims"] == len(imported) and summary["fraudulent_accounts"] > 40
        assert summary["micro_recall"] >= 0.98
        assert summary["micro_precision"] >= 0.97
        assert summary["own_accounts_flagged"] == 0
        assert summary["lookalike_false_positives"] <= 2

        # Training on the retailer's own data keeps the quality.
        train(session, ctx.keys, sample_records=300, random_pairs=3000)
        trained = evaluate(imported[:40], lambda p: discover(session, ctx.keys, p, include_below_threshold=False))
        assert trained.summary()["micro_recall"] >= 0.98
        assert trained.summary()["micro_precision"] >= 0.95


def test_a_takeover_is_reported_as_the_victims_own_account_with_what_changed(ctx, sessions, imported):
    victim = next(v for v in imported if any(c["kind"] == "account_takeover" for c in v["cases"]))
    taken = next(c["account_id"] for c in victim["cases"] if c["kind"] == "account_takeover")
    with sessions() as session:
        result = discover(session, ctx.keys, victim["profile"])
    match = next(m for m in result.matches if m.account_id == taken)
    assert match.verdict == "own_account_takeover_suspected"
    assert any("not one of yours" in s or "new device" in s for s in match.signals)
    assert match.orders  # the orders shipped to the intruder's address are listed


def test_results_hold_references_and_the_searchers_own_hints_only(ctx, sessions, imported):
    victim = next(v for v in imported if any(c["kind"] == "card_added" for c in v["cases"]))
    with sessions() as session:
        result = discover(session, ctx.keys, victim["profile"])
    text = result.model_dump_json()
    case = next(c for c in victim["cases"] if c["kind"] == "card_added")
    match = next(m for m in result.matches if m.account_id == case["account_id"])
    assert match.hard_link and match.cards and set(case["payment_method_ids"]) & {c.payment_method_id for c in
                                                                                  match.cards}
    assert {e.comparison for e in match.explanation} >= {"card", "given_name", "surname", "address"}
    for number in victim["profile"]["card_numbers"]:
        assert number not in text
    assert victim["profile"]["ssn"] not in text and victim["profile"]["ssn"].replace("-", "") not in text
    # The thief's own email or phone never appears; only ids, kinds, weights and masked hints.
    assert "@" not in text


def test_bad_profiles_name_the_field(sessions, ctx):
    for profile, field in (
        ({"emails": ["not-an-email"]}, "emails[0]"),
        ({"card_numbers": ["4111 1111 1111 1112"]}, "card_numbers[0]"),
        ({"ssn": "12-345"}, "ssn"),
        ({"date_of_birth": "31/31/1990"}, "date_of_birth"),
        ({"addresses": [{"line1": "1 Main St"}]}, "addresses[0].postal_code"),
        ({"names": "Jane Doe"}, "names"),
        ({"nickname": "JD"}, "nickname"),
        ({}, "profile"),
    ):
        with pytest.raises(InvalidInput) as caught, sessions() as session:
            discover(session, ctx.keys, profile)
        assert caught.value.field == field, (profile, caught.value.message)


def test_the_cli_discovers_one_profile_and_many(ctx, sessions, imported, tmp_path, monkeypatch):
    from ombud.cli import identity as identity_cli
    from ombud.cli.main import app

    monkeypatch.setattr(identity_cli, "context", lambda: ctx)
    monkeypatch.setattr(ctx, "close", lambda: None)
    victim = imported[0]
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(victim["profile"]))
    runner = CliRunner()
    shown = runner.invoke(app, ["discover", "--profile", str(profile)], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    as_json = runner.invoke(app, ["discover", "--profile", str(profile), "--json"])
    assert as_json.exit_code == 0
    body = json.loads(as_json.output)
    assert {m["account_id"] for m in body["matches"]} >= set(victim["fraudulent_account_ids"])

    many = tmp_path / "profiles.jsonl"
    lines = [json.dumps(v) for v in imported[:5]] + [json.dumps({"emails": ["nope"]})]
    many.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    batch = runner.invoke(app, ["discover", "--profiles", str(many), "--out", str(out)])
    assert batch.exit_code == 1  # one bad line
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(results) == 6 and results[0]["victim_id"] == imported[0]["victim_id"]
    assert results[-1]["field"] == "emails[0]"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(JANE | {"phones": ["call me"]}))
    refused = runner.invoke(app, ["discover", "--profile", str(bad)])
    assert refused.exit_code != 0 and "phones[0]" in refused.output
