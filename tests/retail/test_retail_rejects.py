"""Bad rows: each is named by file, line and field; it is rejected whole and nothing else is lost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import LargeBinary, String, Text, func, select
from typer.testing import CliRunner

from ombud.cli import retail as retail_cli
from ombud.cli.main import app
from ombud.models import metadata
from ombud.retail import service
from ombud.retail.importer import import_directory
from ombud.retail.links import References
from ombud.retail.models import Account, Order, OrderLine

#: Every card number written in the fixture files (good and bad, valid or not), and every SSN.
CARD_NUMBERS = (
    "4111111111111111", "5555555555554444", "378282246310005", "4111111111111112", "4012888888881881",
    "6011111111111117", "5105105105105100", "4000056655665556", "5200828282828210",
)
SSNS = ("123456789", "987654321", "111223333", "12345678")

#: (file, line, field) of every problem in tests/retail/data/bad, in a store that starts empty.
EXPECTED = {
    ("employees.csv", 3, "role"),
    ("employees.csv", 5, "email"),
    ("employees.csv", 6, "manager_id"),  # unknown manager
    ("employees.csv", 7, "manager_id"),  # manager rejected (line 5)
    ("employees.csv", 8, "employee_id"),  # E1 again
    ("employees.csv", 9, "email"),  # E1's email in other letters
    ("employees.csv", 10, "left_on"),
    ("employees.csv", 11, "hired_on"),
    ("accounts.csv", 3, "created_at"),  # no offset
    ("accounts.csv", 4, "status"),
    ("accounts.csv", 8, "account_id"),
    ("accounts.csv", 11, "(row)"),  # after a record spanning lines 9-10
    ("addresses.csv", 4, "account_id"),  # its account was rejected
    ("addresses.csv", 5, "account_id"),  # unknown account
    ("addresses.csv", 6, "kind"),
    ("addresses.csv", 7, "country"),
    ("payment_methods.jsonl", 2, "card_number"),  # Luhn
    ("payment_methods.jsonl", 3, "last4"),
    ("payment_methods.jsonl", 4, "exp_month"),
    ("payment_methods.jsonl", 5, "billing_address_id"),  # another account's address
    ("payment_methods.jsonl", 6, "(row)"),  # not JSON
    ("payment_methods.jsonl", 8, "card_number"),  # too short
    ("payment_methods.jsonl", 9, "removed_at"),
    ("payment_methods.jsonl", 10, "exp_year"),
    ("orders.csv", 3, "total"),  # three decimals
    ("orders.csv", 4, "ship_to_address_id"),  # another account's address
    ("orders.csv", 5, "payment_method_id"),  # a rejected card
    ("orders.csv", 6, "status"),
    ("orders.csv", 8, "total"),  # negative
    ("orders.csv", 9, "currency"),
    ("order_lines.csv", 3, "quantity"),
    ("order_lines.csv", 5, "order_id"),  # its order was rejected
    ("order_lines.csv", 6, "line_no"),  # O1 line 1 again
    ("order_lines.csv", 8, "line_no"),
    ("order_lines.csv", 9, "unit_price"),
    ("credit_applications.csv", 4, "product"),
    ("credit_applications.csv", 5, "decided_at"),
    ("credit_applications.csv", 7, "annual_income"),
    ("logins.jsonl", 2, "success"),
    ("logins.jsonl", 3, "ip"),  # a list
    ("logins.jsonl", 5, "account_id"),  # after a blank line; its account was rejected
    ("logins.jsonl", 6, "(row)"),  # not an object
    ("support_notes.csv", 4, "body"),  # after a record spanning lines 2-3
    ("support_notes.csv", 5, "channel"),
    ("support_notes.csv", 6, "created_at"),
}
#: Problems with soft fields (docs/import-format.md): the row lands without the value, with a warning.
WARNED = {
    ("accounts.csv", 5, "name", "is missing"),
    ("accounts.csv", 6, "date_of_birth", "is in the future"),
    ("accounts.csv", 7, "signup_ip", "is not an IPv4 or IPv6 address"),
    ("accounts.csv", 12, "email", "is not an email address"),
    ("addresses.csv", 9, "line1", "is missing"),
    ("credit_applications.csv", 3, "ssn", "must be nine digits (dashes allowed)"),
}
LANDED = {"employees": 2, "accounts": 7, "addresses": 4, "payment_methods": 2, "orders": 2, "order_lines": 3,
          "credit_applications": 3, "logins": 2, "support_notes": 2}


@pytest.fixture(params=["map", "lookup"])
def strategy(request, monkeypatch):
    """Resolve references from whole-table maps (big imports) or by looking up each chunk's ids (small ones)."""
    monkeypatch.setattr(References, "MAP_MIN_SHARE", 0.0 if request.param == "map" else float("inf"))
    return request.param


def test_every_bad_row_is_named(ctx, bad_dir, strategy):
    report = import_directory(ctx, bad_dir)
    found = {(e.file, e.line, e.field) for e in report.errors}
    assert found == EXPECTED
    assert {(w.file, w.line, w.field, w.reason) for w in report.field_warnings} == WARNED
    assert report.warning_count == len(WARNED) and all(w.severity == "warning" for w in report.field_warnings)
    assert not report.ok
    assert {k.kind: k.inserted for k in report.kinds} == LANDED
    rejected_lines = {(f, line) for f, line, _ in EXPECTED}
    assert report.rejected == len(rejected_lines)
    assert {k.kind: k.read for k in report.kinds} == {
        k: LANDED[k] + sum(1 for f, _ in rejected_lines if f.startswith(k + ".")) for k in LANDED}


def test_messy_rows_land_without_the_bad_value(ctx, session, bad_dir):
    import_directory(ctx, bad_dir)
    nameless = service.require_account_by_external_id(session, "A4")
    assert nameless.name is None
    future_dob = service.require_account_by_external_id(session, "A5")
    assert future_dob.date_of_birth is None and future_dob.name


def test_reasons_say_what_is_wrong(ctx, bad_dir, strategy):
    report = import_directory(ctx, bad_dir)
    reasons = {(e.file, e.line): e.reason for e in report.errors}
    assert reasons[("addresses.csv", 4)] == "refers to account A2, which was rejected (accounts.csv line 3)"
    assert reasons[("orders.csv", 4)] == "refers to address AD7, which belongs to another account"
    assert reasons[("order_lines.csv", 6)] == "repeats the id given on line 2"
    assert reasons[("payment_methods.jsonl", 2)] == "fails the card-number checksum (Luhn)"
    assert "UTC offset" in reasons[("accounts.csv", 3)]
    assert reasons[("accounts.csv", 11)] == "has 4 fields; the header has 9"
    assert reasons[("orders.csv", 3)] == "has more than 2 decimal places"


def test_rejected_rows_leave_no_trace_and_good_rows_stay_whole(ctx, session, bad_dir):
    import_directory(ctx, bad_dir)
    for external_id in ("A2", "A3", "A 7", "A9"):
        assert service.get_account_by_external_id(session, external_id) is None
    orders = {o.external_id: o for o in session.scalars(select(Order))}
    assert set(orders) == {"O1", "O6"}
    # An order lands with its good lines; its bad line is rejected alone.
    lines = session.scalars(select(OrderLine.line_no).where(OrderLine.order_id == orders["O1"].id)
                            .order_by(OrderLine.line_no)).all()
    assert lines == [1, 3]
    assert orders["O1"].total_cents == 12999  # the retailer's total, not recomputed from the lines
    a8 = service.require_account_by_external_id(session, "A8")
    assert a8.signup_device == "first line\nsecond line"


def _text_columns():
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary)]
        if columns:
            yield table.name, columns


def test_card_numbers_and_ssns_are_stored_nowhere(ctx, session, good_dir, bad_dir, is_postgres):
    import_directory(ctx, good_dir)
    import_directory(ctx, bad_dir)
    secrets = [*CARD_NUMBERS, *(n[-12:] for n in CARD_NUMBERS), "4111 1111 1111 1111", "5555-5555-5555-4444",
               *SSNS, "123-45-6789"]
    checked = 0
    for table, columns in _text_columns():
        for row in session.execute(select(*columns)):
            for value in row:
                if value is None:
                    continue
                blob = bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else value
                assert not any(secret in blob for secret in secrets), f"a secret is stored in {table}"
                checked += 1
    assert checked > 100


def test_errors_never_carry_card_numbers_or_ssns(ctx, bad_dir):
    rejected = []
    report = import_directory(ctx, bad_dir, on_reject=rejected.append)
    assert len(rejected) == report.error_count + report.warning_count == len(EXPECTED) + len(WARNED)
    dump = json.dumps([e.as_dict() for e in rejected])
    assert not any(secret in dump for secret in (*CARD_NUMBERS, "12-345-678", "4111111111111112"))


@pytest.fixture
def cli_ctx(ctx, monkeypatch):
    monkeypatch.setattr(ctx, "close", lambda: None)
    monkeypatch.setattr(retail_cli, "context", lambda: ctx)
    return ctx


def test_cli_exits_non_zero_and_writes_rejects(cli_ctx, bad_dir, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(app, ["import", str(bad_dir), "--rejects", str(rejects), "--batch-size", "2"])
    assert result.exit_code == 1, result.output
    assert "rejected" in result.output and "orders.csv:4" in result.output
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert {(e["file"], e["line"], e["field"]) for e in entries if e["severity"] == "error"} == EXPECTED
    assert {(e["file"], e["line"], e["field"], e["reason"]) for e in entries if e["severity"] == "warning"} == WARNED
    assert {"file", "line", "kind", "field", "reason", "id", "severity"} <= set(entries[0])
    assert "field warning" in result.output
    assert not any(number in result.output + rejects.read_text() for number in CARD_NUMBERS)


def test_cli_exits_zero_on_good_files(cli_ctx, good_dir):
    result = CliRunner().invoke(app, ["import", str(good_dir)])
    assert result.exit_code == 0, result.output
    assert "order_lines" in result.output and "inserted" in result.output


def _indexed_emails(ctx) -> dict[str, dict[str, list]]:
    """Per account: each indexed email and the sources (references) that gave it."""
    from ombud.identity.models import IdentityRecord
    from ombud.retail.models import Account

    with ctx.sessions() as session:
        rows = session.execute(
            select(Account.external_id, IdentityRecord.payload)
            .join(IdentityRecord, IdentityRecord.account_id == Account.id)
        ).all()
    return {external_id: dict(payload.get("e", [])) for external_id, payload in rows}


def test_cli_first_import_builds_the_identity_index_once_then_imports_keep_it_current(cli_ctx, good_dir):
    from ombud.identity.index import index_stats, is_empty

    with cli_ctx.sessions() as session:
        assert is_empty(session)
    first = CliRunner().invoke(app, ["import", str(good_dir)], env={"COLUMNS": "160"})
    assert first.exit_code == 0, first.output
    assert "identity index built" in first.output  # an empty index: built in bulk after the rows landed
    with cli_ctx.sessions() as session:
        stats = index_stats(session)
        accounts = session.scalar(select(func.count()).select_from(Account))
    assert stats["records"] >= accounts > 0
    assert "jane.doe@example.com" in _indexed_emails(cli_ctx)["A1"]

    accounts_csv = good_dir / "accounts.csv"
    accounts_csv.write_text(accounts_csv.read_text().replace("jane.doe@example.com", "jane.q.doe@example.org"))
    again = CliRunner().invoke(app, ["import", str(good_dir)], env={"COLUMNS": "160"})
    assert again.exit_code == 0, again.output
    assert "identity index built" not in again.output  # per batch, in the batch's transaction
    emails = _indexed_emails(cli_ctx)["A1"]
    assert "A" in emails["jane.q.doe@example.org"]  # the account's own email changed
    assert "A" not in emails["jane.doe@example.com"]  # the old one remains only as its credit application's

