"""The import as a retailer's engineer relies on it: good rows land, bad rows are named, re-imports are no-ops."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text

from ombud.crypto import card_fingerprint, keyed_hash
from ombud.errors import InvalidInput, OmbudError
from ombud.retail import service
from ombud.retail.importer import import_directory
from ombud.retail.models import Account, Address, CreditApplication, Login, Order, OrderLine, PaymentMethod
from ombud.staff.models import Employee

KINDS = ("employees", "accounts", "addresses", "payment_methods", "orders", "order_lines", "credit_applications",
         "logins", "support_notes")
GOOD_COUNTS = {"employees": 4, "accounts": 3, "addresses": 4, "payment_methods": 4, "orders": 3, "order_lines": 4,
               "credit_applications": 2, "logins": 3, "support_notes": 2}


def test_good_files_land_whole(ctx, session, good_dir):
    report = import_directory(ctx, good_dir)

    assert report.ok and report.error_count == 0
    assert {k.kind: k.inserted for k in report.kinds} == GOOD_COUNTS
    assert service.count_records(session) == {k: v for k, v in GOOD_COUNTS.items() if k != "employees"}

    a2 = service.require_account_by_external_id(session, "A2")
    assert a2.status == "active"  # the default
    assert a2.created_at == datetime(2023, 2, 3, 16, 30, tzinfo=UTC)  # -05:00 turned into UTC
    a3 = service.require_account_by_external_id(session, "A3")
    assert a3.created_at == datetime(2024, 5, 6, 6, 15, 0, 250000, tzinfo=UTC)
    assert a3.date_of_birth == date(1984, 7, 19)

    a1 = service.require_account_by_external_id(session, "A1")
    addresses = service.list_addresses(session, a1.id)
    assert [(a.external_id, a.kind, a.country) for a in addresses] == [("AD1", "shipping", "US"),
                                                                       ("AD2", "billing", "US")]
    orders = service.list_orders(session, a1.id)
    assert [(o.external_id, o.total_cents, o.currency) for o in orders] == [("O1", 12999, "USD")]
    lines = service.list_order_lines(session, [orders[0].id])[orders[0].id]
    assert [(line.line_no, line.quantity, line.unit_price_cents) for line in lines] == [(1, 1, 9999), (2, 2, 1500)]
    assert orders[0].ship_to_address_id == addresses[0].id and orders[0].billing_address_id == addresses[1].id


def test_cards_are_fingerprinted_and_brands_derived(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    key = ctx.keys.card_fingerprint_key
    victims_card = card_fingerprint(key, "4111111111111111")
    same_card = service.find_payment_methods_by_fingerprint(session, victims_card)
    assert [pm.external_id for pm in same_card] == ["PM1", "PM3"]  # one card on two accounts
    pm3 = same_card[1]
    assert (pm3.brand, pm3.last4, pm3.exp_month, pm3.exp_year) == ("visa", "1111", 4, 2027)  # brand derived
    pm2 = session.scalar(select(PaymentMethod).where(PaymentMethod.external_id == "PM2"))
    assert (pm2.brand, pm2.last4) == ("mastercard", "4444")
    assert pm2.card_fingerprint == card_fingerprint(key, "5555555555554444")


def test_ssns_are_encrypted_and_hashed(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    apps = {a.external_id: a for a in session.scalars(select(CreditApplication))}
    ca1, ca2 = apps["CA1"], apps["CA2"]
    assert ctx.keys.field_cipher.decrypt(ca1.ssn_encrypted, "retail_credit_application.ssn") == "123456789"
    assert ca1.ssn_hash == keyed_hash(ctx.keys.identifier_hash_key, "ssn", "123456789")
    assert (ca1.ssn_last4, ca1.annual_income_cents, ca1.credit_limit_cents) == ("6789", 8_500_000, 250_000)
    assert ca2.account_id is None and ca2.ssn_last4 == "4321" and ca2.country == "US"


def test_staff_directory_links_managers_listed_later(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    staff = {e.external_id: e for e in session.scalars(select(Employee))}
    assert staff["E1"].manager_id == staff["E3"].id  # E3 comes after E1 in the file
    assert staff["E3"].manager_id is None
    assert staff["E1"].email == "avery.stone@example.com"  # compared case-insensitively, stored lower
    assert staff["E4"].left_on == date(2024, 6, 30)
    assert all(e.password_hash is None for e in staff.values())


def test_logins_and_multiline_notes(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    a1 = service.require_account_by_external_id(session, "A1")
    assert [(login.external_id, login.success) for login in service.list_logins(session, a1.id)] == [
        ("L2", False), ("L1", True)]
    a3 = service.require_account_by_external_id(session, "A3")
    assert service.list_logins(session, a3.id)[0].success is True  # the default
    note = service.list_support_notes(session, a1.id)[0]
    assert note.body.count("\n") == 1 and note.channel == "phone"


def _table_counts(session):
    return {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in (
        "staff_employee", "retail_account", "retail_address", "retail_payment_method", "retail_order",
        "retail_order_line", "retail_credit_application", "retail_login", "retail_support_note")}


def test_reimport_changes_nothing(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    before = _table_counts(session)
    encrypted = session.scalar(select(CreditApplication.ssn_encrypted).where(CreditApplication.external_id == "CA1"))
    calls = []
    report = import_directory(ctx, good_dir, on_batch=[lambda s, kind, ids: calls.append((kind, ids))])
    assert {k.kind: (k.inserted, k.updated, k.unchanged, k.rejected) for k in report.kinds} == {
        kind: (0, 0, n, 0) for kind, n in GOOD_COUNTS.items()}
    assert calls == []
    session.expire_all()
    assert _table_counts(session) == before
    # The SSN is not re-encrypted (a fresh nonce would change the blob) when it did not change.
    assert session.scalar(select(CreditApplication.ssn_encrypted)
                          .where(CreditApplication.external_id == "CA1")) == encrypted


def _edit(path, old, new):
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, new))


def test_changed_rows_are_updated_and_new_rows_inserted(ctx, session, good_dir):
    import_directory(ctx, good_dir)
    _edit(good_dir / "accounts.csv", "Jane Q. Doe,jane.doe@example.com", "Jane Quinn Doe,jane.doe@example.com")
    _edit(good_dir / "orders.csv", "-07:00,shipped", "-07:00,returned")
    _edit(good_dir / "order_lines.csv", "Laptop,1,1200.50", "Laptop,1,1200.50\nO3,2,SKU-901,Bag,1,30")
    _edit(good_dir / "employees.csv", "E4,Drew Parker,drew.parker@example.com,Security,security_analyst,eu-west,E3",
          "E4,Drew Parker,drew.parker@example.com,Security,security_analyst,eu-west,E2")
    calls = []
    report = import_directory(ctx, good_dir, on_batch=[lambda s, kind, ids: calls.append((kind, ids))])

    summary = {k.kind: (k.inserted, k.updated, k.unchanged) for k in report.kinds}
    assert summary["accounts"] == (0, 1, 2)
    assert summary["orders"] == (0, 1, 2)
    assert summary["order_lines"] == (1, 0, 4)
    assert summary["employees"] == (0, 1, 3)
    session.expire_all()
    a1 = service.require_account_by_external_id(session, "A1")
    o2 = service.get_order_by_external_id(session, "O2")
    e4 = session.scalar(select(Employee).where(Employee.external_id == "E4"))
    e2 = session.scalar(select(Employee).where(Employee.external_id == "E2"))
    new_line = session.scalar(select(OrderLine).where(OrderLine.line_no == 2, OrderLine.sku == "SKU-901"))
    assert a1.name == "Jane Quinn Doe" and o2.status == "returned" and e4.manager_id == e2.id
    assert dict(calls) == {"accounts": [a1.id], "orders": [o2.id], "order_lines": [new_line.id], "employees": [e4.id]}


def test_callbacks_run_per_batch_inside_the_transaction(ctx, session, good_dir):
    seen = []

    def callback(callback_session, kind, ids):
        if kind == "addresses":  # the rows are visible in the same transaction, before it commits
            found = callback_session.scalars(select(Address.id).where(Address.id.in_(ids))).all()
            assert sorted(found) == sorted(ids)
        seen.append((kind, list(ids)))

    import_directory(ctx, good_dir, batch_size=2, on_batch=[callback])
    by_kind = {}
    for kind, ids in seen:
        assert 1 <= len(ids) <= 2 or kind == "employees"  # the staff directory is one batch
        by_kind.setdefault(kind, []).extend(ids)
    assert sorted(by_kind["accounts"]) == sorted(session.scalars(select(Account.id)))
    assert sorted(by_kind["orders"]) == sorted(session.scalars(select(Order.id)))
    assert sorted(by_kind["logins"]) == sorted(session.scalars(select(Login.id)))
    assert len(by_kind["employees"]) == 4


def test_a_failing_callback_undoes_its_batch(ctx, session, good_dir):
    def explode(callback_session, kind, ids):
        if kind == "orders":
            raise RuntimeError("index unavailable")

    with pytest.raises(RuntimeError):
        import_directory(ctx, good_dir, on_batch=[explode])
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(PaymentMethod)) == 4


def test_header_problems_stop_before_anything_lands(ctx, session, good_dir):
    _edit(good_dir / "orders.csv", "order_id,account_id,placed_at", "order_id,account,placed_at")
    with pytest.raises(InvalidInput, match=r"orders\.csv line 1: required column"):
        import_directory(ctx, good_dir)
    assert service.count_records(session)["accounts"] == 0


def test_a_kind_given_twice_is_refused(ctx, good_dir):
    (good_dir / "accounts.jsonl").write_text("")
    with pytest.raises(InvalidInput, match="more than once"):
        import_directory(ctx, good_dir)


def test_empty_directory_is_refused(ctx, tmp_path):
    with pytest.raises(OmbudError, match="no import file"):
        import_directory(ctx, tmp_path)


def test_unknown_columns_and_files_are_reported(ctx, good_dir):
    _edit(good_dir / "accounts.csv", "signup_device\n", "signup_device,loyalty_tier\n")
    content = (good_dir / "accounts.csv").read_text().splitlines()
    (good_dir / "accounts.csv").write_text("\n".join([content[0]] + [line + ",gold" for line in content[1:]]) + "\n")
    (good_dir / "victims.jsonl").write_text("{}\n")
    report = import_directory(ctx, good_dir)
    assert report.ok
    assert any("loyalty_tier" in w for w in report.warnings)
    assert report.ignored_files == ["victims.jsonl"]


def test_gzipped_files_are_read(ctx, session, good_dir):
    import gzip
    import shutil

    for name in ("accounts.csv", "logins.jsonl"):
        with (good_dir / name).open("rb") as src, gzip.open(good_dir / (name + ".gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)
        (good_dir / name).unlink()
    report = import_directory(ctx, good_dir)
    assert report.ok and report.kind("accounts").inserted == 3 and report.kind("logins").inserted == 3
