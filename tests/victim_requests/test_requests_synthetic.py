"""The injected requests of a small synthetic retailer, worked by the written procedure, against the truth."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.identity.index import import_callback
from ombud.retail.importer import import_directory
from ombud.staff.models import Role
from ombud.staff.testing import make_employee
from ombud.synth import generate
from ombud.synth.requests import read_requests
from ombud.victim_requests import synthload


@pytest.fixture(scope="module")
def retailer(tmp_path_factory):
    path = tmp_path_factory.mktemp("requests-synth") / "retailer"
    generate(path, accounts=800, seed=11, victim_rate=0.06)
    return path


def test_the_injected_requests_cover_every_kind(retailer):
    lines = read_requests(retailer)
    kinds = {line["kind"] for line in lines}
    assert {"genuine", "unconfirmable", "misrepresentation"} <= kinds
    for line in lines:
        assert not {"thief", "suspect", "opened_by"} & set(line["request"])
        if line["kind"] == "repeat":
            assert line["repeat_of"] in {x["request_id"] for x in lines}


def test_the_procedure_against_the_truth(retailer, engine, database_url, tmp_path):
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            ctx = Context(Settings(env=Environment.test, data_dir=tmp_path / "data", database_url=database_url))
            ctx.__dict__["engine"] = engine
            ctx.__dict__["sessions"] = sessionmaker(bind=conn, expire_on_commit=False,
                                                    join_transaction_mode="create_savepoint")
            assert import_directory(ctx, retailer, on_batch=[import_callback(ctx.keys)]).error_count == 0
            with ctx.sessions() as session:
                agent = make_employee(session, role=Role.agent, team="victim-requests")
                officer = make_employee(session, role=Role.privacy_officer, team="Privacy")
                second = make_employee(session, role=Role.privacy_officer, team="Privacy")
                report = synthload.run_scenario(session, ctx.keys, ctx.settings, read_requests(retailer),
                                                agent=agent, officer=officer, second_officer=second)
                summary = report.summary()
        finally:
            outer.rollback()
    assert summary["genuine_verified"] == 1.0
    assert summary["genuine_verified_and_all_fraud_confirmed"] >= 0.8, summary
    assert summary["non_genuine_declined"] == 1.0, summary
    repeats = [o for o in report.outcomes if o.kind == "repeat"]
    assert all(o.verified for o in repeats)  # a repeat is honoured, never refused
    assert summary["median_days_to_verified"] == pytest.approx(20 / 24, abs=0.01)
