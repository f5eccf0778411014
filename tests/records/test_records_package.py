"""The records package: only the confirmed subjects' records, every one of them; the manifest verifies against
the audit log and a changed byte fails; navigational data left out unless asked, and the choice recorded."""

from __future__ import annotations

import io
import json
import zipfile

import pypdf
import pytest
import recordsutil
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ombud.audit import checkpoint as checkpoints
from ombud.audit.service import get_event
from ombud.errors import InvalidInput
from ombud.records import bundle, render
from ombud.records.collect import Subject, collect, parse_subjects
from ombud.records.models import SubjectKind
from ombud.records.service import generate_package, read_package, verify_package


def _zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_package_holds_the_fraudulent_account_and_verifies(session, settings):
    fraud = recordsutil.account(session, orders=3, marker="THIEFMARK")
    other = recordsutil.account(session, orders=2, marker="INNOCENTMARK")
    package = generate_package(session, settings, subjects=[("account", fraud.account.external_id)],
                               reference="VR-TEST-1", actor_type="employee", actor_id="E1")
    data = read_package(settings, package)
    files = _zip_files(data)
    assert set(files) >= {"VR-TEST-1-records.pdf", "records.json", "manifest.json", "README.txt",
                          "csv/orders.csv", "csv/order_lines.csv", "csv/accounts.csv"}
    everything = b"".join(files.values())
    assert b"INNOCENTMARK" not in everything
    document = json.loads(files["records.json"])
    assert [e["account"]["account_id"] for e in document["accounts"]] == [fraud.account.external_id]
    assert len(document["accounts"][0]["orders"]) == 3
    assert document["package"]["navigational_data"]["included"] is False
    assert "sign_ins" not in document["accounts"][0]
    assert b"LOGIN-" not in everything and b"Browser THIEFMARK" not in everything  # sign-ins left out
    pdf = pypdf.PdfReader(io.BytesIO(files["VR-TEST-1-records.pdf"]))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert fraud.account.external_id in text and "ORD-" in text and "Left out" in text
    assert "pdfaid" in (pdf.xmp_metadata.xml_metadata.decode() if hasattr(pdf.xmp_metadata, "xml_metadata")
                        else str(pdf.xmp_metadata.rdf_root.toxml()))
    leaf = get_event(session, package.audit_index)
    assert leaf.action == "records.package.generate" and leaf.detail["manifest_sha256"] == package.manifest_sha256
    assert leaf.detail["navigational_included"] is False
    assert package.manifest_sha256 == bundle.sha256_hex(files["manifest.json"])
    result = verify_package(session, data)
    assert result.ok, result.problems
    assert result.audit_index == package.audit_index
    assert other  # the other customer's account exists in the store


def test_a_changed_byte_fails_and_a_checkpoint_proves_the_leaf(session, settings, ctx):
    fraud = recordsutil.account(session, orders=1)
    package = generate_package(session, settings, subjects=[("account", fraud.account.external_id)],
                               reference="VR-TEST-2", actor_type="employee", actor_id="E1")
    data = read_package(settings, package)
    checkpoints.create_checkpoint(session, ctx.keys, settings)
    sealed = verify_package(session, data)
    assert sealed.ok and sealed.in_checkpoint is not None and sealed.in_checkpoint > package.audit_index
    files = _zip_files(data)
    tampered_csv = files["csv/orders.csv"].replace(b"ORD-", b"ORX-", 1)
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, tampered_csv if name == "csv/orders.csv" else content)
    result = verify_package(session, rebuilt.getvalue())
    assert not result.ok and any("csv/orders.csv" in p for p in result.problems)
    # A manifest rewritten to match the changed file no longer matches the audit log.
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == "csv/orders.csv":
            entry["sha256"] = bundle.sha256_hex(tampered_csv)
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, content in files.items():
            replaced = {"csv/orders.csv": tampered_csv,
                        "manifest.json": json.dumps(manifest, indent=1, sort_keys=True).encode()}
            archive.writestr(name, replaced.get(name, content))
    forged_result = verify_package(session, forged.getvalue())
    assert not forged_result.ok and any("audit log recorded" in p for p in forged_result.problems)
    assert not verify_package(session, b"not a zip").ok


def test_navigational_data_only_when_asked_and_recorded(session, settings):
    fraud = recordsutil.account(session, orders=1, marker="NAVMARK")
    package = generate_package(session, settings, subjects=[("account", fraud.account.external_id)],
                               reference="VR-TEST-3", actor_type="employee", actor_id="E1",
                               include_navigational=True)
    files = _zip_files(read_package(settings, package))
    assert b"Browser NAVMARK" in files["csv/sign_ins.csv"]
    assert get_event(session, package.audit_index).detail["navigational_included"] is True


def test_repeat_request_gets_a_new_version(session, settings):
    fraud = recordsutil.account(session, orders=1)
    first = generate_package(session, settings, subjects=[("account", fraud.account.external_id)],
                             reference="VR-TEST-4", actor_type="employee", actor_id="E1")
    second = generate_package(session, settings, subjects=[("account", fraud.account.external_id)],
                              reference="VR-TEST-4", actor_type="employee", actor_id="E1")
    assert (first.version, second.version) == (1, 2)
    assert first.superseded_at is not None and second.superseded_at is None
    assert second.file_name == "VR-TEST-4-v2.zip"


def test_bad_subjects_are_named(session, settings):
    with pytest.raises(InvalidInput) as caught:
        parse_subjects([("account", "A1"), ("spaceship", "X")])
    assert caught.value.field == "subjects[1]"
    with pytest.raises(InvalidInput) as missing:
        collect(session, [Subject(SubjectKind.account, "NO-SUCH")])
    assert "account NO-SUCH" in missing.value.message
    with pytest.raises(InvalidInput):
        generate_package(session, settings, subjects=[], reference="VR-X", actor_type="system", actor_id="t")


def test_csv_cells_cannot_run_as_formulas(session):
    fraud = recordsutil.account(session, orders=1)
    fraud.notes[0].body = "=HYPERLINK(\"http://evil.example\")"
    session.flush()
    files = render.render_csv(collect(session, [Subject(SubjectKind.account, fraud.account.external_id)]))
    assert b"'=HYPERLINK" in files["csv/support_notes.csv"]


@pytest.fixture
def store(session):
    """Four accounts; their records are what the property draws confirmed subjects from."""
    return [recordsutil.account(session, orders=2, marker=f"STOREMARK{i}X") for i in range(4)]


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_only_confirmed_subjects_records_appear(session, store, data):
    pool = ([Subject(SubjectKind.account, b.account.external_id) for b in store]
            + [Subject(SubjectKind.payment_method, c.external_id) for b in store for c in b.cards]
            + [Subject(SubjectKind.credit_application, a.external_id) for b in store for a in b.applications])
    chosen = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))
    document = collect(session, chosen)
    accounts = {s.ref for s in chosen if s.kind is SubjectKind.account}
    cards = {s.ref for s in chosen if s.kind is SubjectKind.payment_method}
    apps = {s.ref for s in chosen if s.kind is SubjectKind.credit_application}
    expected_orders, expected_notes, expected_apps = set(), set(), set()
    for b in store:
        whole = b.account.external_id in accounts
        card_ids = {c.id for c in b.cards if whole or c.external_id in cards}
        expected_orders |= {o.external_id for o in b.orders if whole or o.payment_method_id in card_ids}
        expected_notes |= {n.external_id for n in b.notes if whole}
        expected_apps |= {a.external_id for a in b.applications if whole or a.external_id in apps}
    text = json.dumps(document)
    orders = {o["order_id"] for e in document["accounts"] + document["payment_methods"] for o in e["orders"]}
    notes = {n["note_id"] for e in document["accounts"] for n in e["support_notes"]}
    applications = {a["application_id"] for e in document["accounts"] for a in e["credit_applications"]} | \
        {a["application_id"] for a in document["credit_applications"]}
    assert orders == expected_orders  # every record of a confirmed subject, and no other order
    assert notes == expected_notes
    assert applications == expected_apps
    for b in store:
        if b.account.external_id in accounts:
            continue
        # An account not confirmed: its notes, sign-ins and other people's orders never appear.
        assert b.notes[0].body not in text
        unconfirmed_orders = {o.external_id for o in b.orders} - expected_orders
        assert not any(o in text for o in unconfirmed_orders)
    csv_text = b"".join(render.render_csv(document).values()).decode("utf-8-sig")
    for b in store:
        if b.account.external_id not in accounts:
            assert b.notes[0].body not in csv_text
