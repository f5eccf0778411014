"""The pure heart: exposure rules (Polars against a row-at-a-time statement), jurisdictions and deadlines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.access.classes import FIELDS, DataClass
from ombud.errors import InvalidInput
from ombud.incidents import exposure as exp
from ombud.incidents import rules

T = datetime(2026, 3, 1, tzinfo=UTC)
CLASSES = [c.value for c in DataClass]

read_st = st.fixed_dictionaries({
    "idx": st.integers(0, 10_000),
    "at": st.integers(0, 10_000).map(lambda s: T + timedelta(seconds=s)),
    "customer_id": st.sampled_from(["C1", "C2", "C3", None]),
    "fields": st.lists(st.sampled_from([*FIELDS, "future_field"]), min_size=1, max_size=5, unique=True),
    "decision": st.sampled_from(["allow", "partial", "deny", None]),
    "detail": st.fixed_dictionaries({"classes_allowed": st.lists(st.sampled_from(CLASSES), unique=True)}),
})
imported_st = st.fixed_dictionaries({
    "id": st.integers(1, 10_000),
    "source_system": st.sampled_from(["video", "orders-tool"]),
    "customer_id": st.sampled_from(["C1", "C4"]),
    "data_class": st.sampled_from(["video", "contact", "Contact"]),
    "at": st.integers(0, 10_000).map(lambda s: T + timedelta(seconds=s)),
})


def _frames(reads, imported):
    rf = pl.DataFrame(
        [{**r, "fields": json.dumps(r["fields"]), "detail": json.dumps(r["detail"])} for r in reads],
        schema=exp.READ_SCHEMA,
    )
    return rf, pl.DataFrame(imported, schema=exp.IMPORTED_SCHEMA)


@settings(max_examples=150, deadline=None)
@given(st.lists(read_st, max_size=12, unique_by=lambda r: r["idx"]),
       st.lists(imported_st, max_size=6, unique_by=lambda r: r["id"]))
def test_set_wise_exposure_equals_the_row_at_a_time_rule(reads, imported):
    got = exp.exposure(*_frames(reads, imported))
    want = exp.reference_exposure(reads, imported)
    rows = {(r["customer_id"], r["item"], r["source"]): r for r in got.to_dicts()}
    assert set(rows) == set(want)
    for key, row in rows.items():
        w = want[key]
        assert (row["data_class"], row["first_at"], row["last_at"], row["events"]) == (
            w.data_class, w.first_at, w.last_at, w.events)


def test_masked_and_refused_reads_show_nothing():
    assert exp.shown_items(["email"], "deny", ["contact"]) == []
    assert exp.shown_items(["email", "payment_methods"], "partial", ["identity_basic", "contact"]) == [
        ("email", "contact")]
    assert exp.shown_items(["orders"], "partial", ["order_history"]) == [("orders", "order_history")]
    assert ("orders.ip", "login_device") in exp.shown_items(["orders"], "allow", ["order_history", "login_device"])
    assert exp.shown_items(["future_field"], "allow", []) == [("future_field", "unknown")]


def test_diff_names_what_changed():
    old = {("C1", "email", "audit"): (1, 1, 1), ("C2", "phone", "audit"): (1, 1, 1)}
    new = {("C1", "email", "audit"): (1, 2, 2), ("C3", "phone", "audit"): (1, 1, 1)}
    d = exp.diff(old, new)
    assert d.added == [("C3", "phone", "audit")] and d.removed == [("C2", "phone", "audit")]
    assert d.changed == [("C1", "email", "audit")] and d.customers_added == ["C3"] and d.customers_removed == ["C2"]


@pytest.mark.parametrize(("country", "region", "code"), [
    ("US", "CA", "CA"), ("US", "california", "CA"), ("us", " New  York ", "NY"), ("US", "Tex.", "default"),
    ("US", "TX", "TX"), ("US", "WA", "default"), ("CA", "ON", "default"), (None, "DE", "DE"), ("US", "", "default"),
])
def test_jurisdiction_from_the_address(country, region, code):
    assert rules.jurisdiction_of(country, region) == code


@pytest.mark.parametrize(("code", "days"), [("CA", 30), ("TX", 60), ("NY", 30), ("FL", 30), ("CO", 30), ("DE", 60),
                                             ("default", 30)])
def test_individual_deadlines_per_jurisdiction(code, days):
    found = rules.deadlines({code: 3}, T)
    assert [(d.kind, d.due_at) for d in found] == [("individuals", T + timedelta(days=days))]


def test_regulator_thresholds_and_days():
    texas = {d.kind: d for d in rules.deadlines({"TX": 250}, T)}
    assert texas["regulator"].due_at == T + timedelta(days=30)
    assert "regulator" not in {d.kind for d in rules.deadlines({"TX": 249}, T)}
    assert "regulator" not in {d.kind for d in rules.deadlines({"CA": 500}, T)}
    ca = {d.kind: d for d in rules.deadlines({"CA": 501}, T)}
    assert ca["regulator"].due_at == T + timedelta(days=30 + 15)  # before the notices: the latest it can be
    sent = T + timedelta(days=3)
    ca = {d.kind: d for d in rules.deadlines({"CA": 501}, T, notices_sent_at={"CA": sent})}
    assert ca["regulator"].due_at == sent + timedelta(days=15)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["CA", "TX", "NY", "FL", "CO", "DE", "default", "ZZ"]), st.integers(0, 2000)),
       st.integers(0, 10**8).map(lambda s: T + timedelta(seconds=s)))
def test_deadlines_run_from_discovery_and_cover_every_jurisdiction(counts, discovered):
    table = rules.load_rules()
    found = rules.deadlines(counts, discovered)
    individuals = {d.jurisdiction for d in found if d.kind == "individuals"}
    assert individuals == {c for c, n in counts.items() if n > 0}
    for d in found:
        rule = table.get(d.jurisdiction, table["default"])
        assert d.due_at > discovered
        if d.kind == "individuals":
            assert d.due_at - discovered == timedelta(days=rule.individual_days)
        else:
            assert rule.regulator_required(d.customers)
    assert [d.due_at for d in found] == sorted(d.due_at for d in found)


def test_bad_rules_are_refused_naming_the_entry():
    with pytest.raises(InvalidInput, match="default"):
        rules.parse_rules('[CA]\nname="x"')
    with pytest.raises(InvalidInput, match=r"\[XX\]: missing individual_days"):
        rules.parse_rules(rules.RULES_FILE.read_text() + '\n[XX]\nname="x"\ntitle="t"\nheadings=[]\nsource="s"\n')
    with pytest.raises(InvalidInput, match="headings lack"):
        rules.parse_rules('[default]\nname="d"\nindividual_days=30\ntitle="t"\nheadings=["What Happened"]\nsource="s"')


def test_every_rule_cites_its_source_and_the_required_headings():
    for rule in rules.load_rules().values():
        assert rule.source and tuple(rule.headings) == rules.REQUIRED_HEADINGS


_SAMPLE = json.loads((Path(__file__).parents[2] / "src/ombud/notify/templates/incident_notice.sample.json").read_text())


@settings(max_examples=60, deadline=None)
@given(field=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True).filter(lambda f: f not in _SAMPLE),
       line=st.integers(min_value=0, max_value=6))
def test_wording_naming_an_unknown_field_fails_with_the_field_named(field, line):
    from ombud.incidents.wording import Wording, render

    text = "\n" * line + "Dear {{ name }}, {{ " + field + " }}\n"
    with pytest.raises(InvalidInput) as caught:
        render(Wording("{{ title }}", text, None), _SAMPLE)
    assert field in caught.value.message and caught.value.field == "text"


def test_wording_cannot_reach_python_internals():
    from ombud.incidents.wording import Wording, render

    escape = "{{ name.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(InvalidInput):
        render(Wording("{{ title }}", escape, None), _SAMPLE)
    escaped = render(Wording("{{ title }}", "x", "<p>{{ name }}</p>"), {**_SAMPLE, "name": "<b>A</b>"})
    assert escaped.html == "<p>&lt;b&gt;A&lt;/b&gt;</p>"
