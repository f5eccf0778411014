"""The retail import's new kinds (sellers, products, reviews, support contacts, staff HR) and access events:
every bad row named by file, line and field; good rows land; importing again changes nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from ombud.cli import insider_events as insider_cli
from ombud.cli.main import app
from ombud.insider.eventimport import import_events
from ombud.insider.events import AccessEvent, ImportBatch
from ombud.retail.importer import import_directory
from ombud.retail.links import References
from ombud.retail.models import Product, Review, Seller, SupportContact
from ombud.staff.hr import normalise_postcode, postcode_hash
from ombud.staff.models import Employee

RETAIL_BAD = {
    ("staff_hr.csv", 3, "employee_id"),  # unknown employee
    ("staff_hr.csv", 4, "team"),  # required
    ("staff_hr.csv", 5, "employee_id"),  # E1 again
    ("staff_hr.csv", 6, "left_on"),  # before hired_on
    ("staff_hr.csv", 7, "manager_id"),  # their own manager
    ("staff_hr.csv", 8, "home_postcode"),
    ("sellers.csv", 3, "seller_id"),
    ("sellers.csv", 4, "name"),
    ("products.csv", 3, "seller_id"),  # unknown seller
    ("products.csv", 4, "title"),  # too long
    ("products.csv", 5, "seller_id"),  # a rejected seller
    ("reviews.csv", 3, "rating"),
    ("reviews.csv", 4, "product_id"),  # another seller's product
    ("reviews.csv", 5, "account_id"),
    ("reviews.csv", 6, "reviewed_at"),
    ("reviews.csv", 7, "seller_id"),  # a rejected seller
    ("support_contacts.csv", 3, "initiated_by"),
    ("support_contacts.csv", 4, "employee_id"),
    ("support_contacts.csv", 5, "ticket_ref"),
    ("support_contacts.csv", 6, "channel"),
}
EVENTS_BAD = {
    ("access_events.csv", 3, "data_class"),
    ("access_events.csv", 4, "employee_id"),
    ("access_events.csv", 5, "customer_id"),
    ("access_events.csv", 6, "at"),
    ("access_events.csv", 7, "ip"),
    ("access_events.csv", 8, "event_id"),  # ev1 of support_tool again
    ("access_events.csv", 10, "ticket_ref"),
}


@pytest.fixture(params=["map", "lookup"])
def strategy(request, monkeypatch):
    """Resolve references from whole-table maps (big imports) or by looking up each chunk's ids (small ones)."""
    monkeypatch.setattr(References, "MAP_MIN_SHARE", 0.0 if request.param == "map" else float("inf"))
    return request.param


def test_good_retail_files_land(ctx, session, good_world):
    report = import_directory(ctx, good_world)
    assert report.ok, [str(e) for e in report.errors]
    assert {k.kind: k.inserted for k in report.kinds if k.kind in ("sellers", "products", "reviews",
                                                                    "support_contacts")} == {
        "sellers": 2, "products": 3, "reviews": 3, "support_contacts": 3}
    hr = report.kind("staff_hr")
    assert (hr.updated, hr.unchanged) == (2, 1)  # E2 has no postcode on file and agrees with the directory
    reviews = {r.external_id: r for r in session.scalars(select(Review))}
    sellers = {s.id: s.external_id for s in session.scalars(select(Seller))}
    products = {p.id: p.external_id for p in session.scalars(select(Product))}
    assert (sellers[reviews["R1"].seller_id], products[reviews["R1"].product_id], reviews["R1"].rating) == (
        "S1", "P1", 1)
    assert reviews["R2"].product_id is None and sellers[reviews["R2"].seller_id] == "S2"
    contacts = {c.external_id: c for c in session.scalars(select(SupportContact))}
    assert contacts["C1"].initiated_by == "customer" and contacts["C2"].initiated_by == "staff"
    assert contacts["C1"].ticket_ref == contacts["C2"].ticket_ref == "T100"
    assert contacts["C3"].employee_id is None and contacts["C3"].initiated_by == "customer"


def test_staff_hr_keeps_only_a_keyed_hash_of_the_home_postcode(ctx, session, good_world):
    hr = good_world / "staff_hr.csv"
    hr.write_text(hr.read_text().replace("E2,Privacy,", "E2,Privacy Office,"))
    import_directory(ctx, good_world)
    staff = {e.external_id: e for e in session.scalars(select(Employee))}
    key = ctx.keys.identifier_hash_key
    # ZIP+4 and the customer's five-digit ZIP compare equal (A1 lives at 62704), the code itself is nowhere.
    assert staff["E1"].home_postcode_hash == postcode_hash(key, "62704", "US")
    assert staff["E4"].home_postcode_hash == postcode_hash(key, "SW1A1AA", "GB") != postcode_hash(key, "SW1A1AA")
    assert staff["E2"].home_postcode_hash is None
    assert staff["E2"].team == "Privacy Office"  # the HR file's team replaces the directory's
    assert staff["E4"].left_on.isoformat() == "2024-06-30"
    assert staff["E1"].manager_id == staff["E3"].id
    assert "62704" not in (staff["E1"].home_postcode_hash or "")


def test_postcodes_normalise():
    assert normalise_postcode("62704-1234") == normalise_postcode(" 62704 ") == "62704"
    assert normalise_postcode("6270") is None
    assert normalise_postcode("sw1a 1aa", "GB") == "SW1A1AA"


def test_every_bad_retail_row_is_named(ctx, bad_world, strategy):
    report = import_directory(ctx, bad_world)
    found = {(e.file, e.line, e.field) for e in report.errors}
    assert found == RETAIL_BAD
    reasons = {(e.file, e.line): e.reason for e in report.errors}
    assert reasons[("reviews.csv", 4)] == "refers to product P1, which belongs to another seller"
    assert reasons[("reviews.csv", 7)] == "refers to seller S3, which was rejected (sellers.csv line 4)"
    assert reasons[("staff_hr.csv", 7)] == "an employee cannot be their own manager"
    assert reasons[("staff_hr.csv", 5)] == "repeats the id given on line 2"
    assert {k.kind: k.inserted + k.updated for k in report.kinds if k.kind in (
        "sellers", "products", "reviews", "support_contacts")} == {
        "sellers": 2, "products": 1, "reviews": 1, "support_contacts": 1}
    assert report.kind("staff_hr").updated == 1  # E1; nothing of the rejected HR rows lands


def test_retail_reimport_changes_nothing(ctx, good_world):
    import_directory(ctx, good_world)
    again = import_directory(ctx, good_world)
    assert again.ok
    for kind in ("staff_hr", "sellers", "products", "reviews", "support_contacts"):
        k = again.kind(kind)
        assert (k.inserted, k.updated, k.unchanged) == (0, 0, k.read), kind


def test_events_land_and_reimport_is_idempotent(ctx, session, good_world, strategy):
    import_directory(ctx, good_world)
    first = import_events(ctx, good_world)
    assert first.ok, [str(e) for e in first.errors]
    assert first.ignored_files and "accounts.csv" in first.ignored_files
    assert sum(k.inserted for k in first.kinds) == 4
    events = {(e.source_system, e.external_id): e for e in session.scalars(select(AccessEvent))}
    e1 = next(e for e in session.scalars(select(Employee)) if e.external_id == "E1")
    video = events[("video", "ev3")]
    assert (video.employee_id, video.customer_id, video.data_class, video.site) == (e1.id, "A2", "video", "remote")
    assert video.at.isoformat() == "2025-02-03T22:10:00+00:00" and video.ticket_ref is None
    assert events[("support_tool", "ev1")].ticket_ref == "T100"
    assert video.break_glass and not events[("support_tool", "ev1")].break_glass  # empty means false
    batch_ids = {e.batch_id for e in events.values()}

    again = import_events(ctx, good_world)
    assert again.ok and sum(k.unchanged for k in again.kinds) == 4
    assert sum(k.inserted + k.updated for k in again.kinds) == 0
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AccessEvent)) == 4
    assert {e.batch_id for e in session.scalars(select(AccessEvent))} == batch_ids  # untouched rows keep their run
    batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.inserted, b.unchanged) for b in batches[-2:]] == [(4, 0), (0, 4)]
    assert batches[-1].finished_at is not None and batches[-1].files == ["access_events.csv",
                                                                         "access_events_orders.jsonl"]

    # A corrected event replaces the stored one and carries the run that corrected it.
    path = good_world / "access_events.csv"
    path.write_text(path.read_text().replace("10.1.2.3,Austin office,T100,\nev2", "10.1.2.4,Austin office,T100,\nev2"))
    third = import_events(ctx, path)
    assert [(k.inserted, k.updated, k.unchanged) for k in third.kinds] == [(0, 1, 2)]
    session.expire_all()
    corrected = session.scalars(select(AccessEvent).where(AccessEvent.external_id == "ev1")).one()
    assert corrected.ip == "10.1.2.4" and corrected.batch_id == batches[-1].id + 1


def test_every_bad_event_is_named_and_nothing_of_it_lands(ctx, session, bad_world, strategy):
    import_directory(ctx, bad_world)
    report = import_events(ctx, bad_world)
    assert {(e.file, e.line, e.field) for e in report.errors} == EVENTS_BAD
    reasons = {(e.line, e.field): e.reason for e in report.errors}
    assert reasons[(8, "event_id")] == "repeats the id given on line 2"
    assert reasons[(5, "customer_id")].startswith("refers to account A99")
    assert reasons[(3, "data_class")].startswith("must be one of: identity_basic")
    assert "video" in reasons[(3, "data_class")]
    landed = session.scalars(select(AccessEvent.source_system + ":" + AccessEvent.external_id)).all()
    assert sorted(landed) == ["support_tool:ev1", "video:ev1"]
    assert report.rejected == len(EVENTS_BAD)


@pytest.fixture
def cli_ctx(ctx, monkeypatch):
    monkeypatch.setattr(ctx, "close", lambda: None)
    monkeypatch.setattr(insider_cli, "context", lambda: ctx)
    return ctx


def test_cli_import_events(cli_ctx, bad_world, tmp_path):
    import_directory(cli_ctx, bad_world)
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(app, ["insider", "import-events", str(bad_world), "--rejects", str(rejects)])
    assert result.exit_code == 1, result.output
    assert "access_events.csv:3" in result.output
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert {(e["file"], e["line"], e["field"]) for e in entries} == EVENTS_BAD
    missing = CliRunner().invoke(app, ["insider", "import-events", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2


@settings(max_examples=200, deadline=None)
@given(zip5=st.from_regex(r"[0-9]{5}", fullmatch=True), plus4=st.from_regex(r"[0-9]{4}", fullmatch=True),
       sep=st.sampled_from(["-", " ", ""]), pad=st.sampled_from(["", " ", "  "]))
def test_a_zip_and_its_zip_plus_4_hash_alike(zip5, plus4, sep, pad):
    key = b"k" * 32
    assert postcode_hash(key, f"{pad}{zip5}{sep}{plus4}{pad}", "us") == postcode_hash(key, zip5, "US")
    assert normalise_postcode(normalise_postcode(zip5) or "") == zip5
    assert postcode_hash(key, zip5, "US") != postcode_hash(key, zip5, "GB")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789 -", min_size=2, max_size=12))
def test_other_countries_ignore_case_spaces_and_dashes(code):
    key = b"k" * 32
    assert postcode_hash(key, code.lower(), "GB") == postcode_hash(key, code.replace(" ", "").replace("-", ""), "GB")


@pytest.mark.parametrize("typed", ["555-010-0001", "5550100001", "078-05-1120", "tel:5550100001"])
def test_an_event_whose_customer_id_is_personal_data_is_rejected_before_anything_is_stored(ctx, session,
                                                                                          good_world, typed):
    import_directory(ctx, good_world)
    path = good_world / "access_events.csv"
    path.write_text(path.read_text().replace("\nev2,support_tool,E1,A1,", f"\nev2,support_tool,E1,{typed},", 1))
    report = import_events(ctx, path)
    assert [(e.line, e.field) for e in report.errors] == [(3, "customer_id")]
    assert "customer id" in report.errors[0].reason and typed not in report.errors[0].reason
    stored = session.scalars(select(AccessEvent.customer_id)).all()
    assert typed not in stored and stored
