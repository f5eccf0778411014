"""The files follow docs/import-format.md: the documented columns, value forms, and consistent references."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ombud.crypto import luhn_valid
from ombud.synth import COLUMNS, KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"
ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MONEY = re.compile(r"^\d+(\.\d{1,2})?$")
AS_OF = "2026-11-01T00:00:00Z"


def documented_columns() -> dict[str, tuple[list[str], set[str]]]:
    """kind -> (columns in documented order, the required ones), read from the format document."""
    out = {}
    for section in re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        kind = section.split()[0]
        if kind not in KINDS:
            continue
        body = section.split("\n", 1)[1]
        depth, top = 0, []
        for char in body:  # drop parenthesised remarks, which name values, not columns
            depth += char == "("
            if depth == 0:
                top.append(char)
            depth -= char == ")"
        text = "".join(top)
        columns = re.findall(r"`([a-z0-9_]+)`", text)
        required = set(re.findall(r"\*\*`([a-z0-9_]+)`\*\*", text))
        out[kind] = (columns, required)
    return out


DOCUMENTED = documented_columns()


def test_every_kind_is_documented_with_the_same_columns():
    assert set(DOCUMENTED) == set(KINDS)
    for kind in KINDS:
        assert list(COLUMNS[kind]) == DOCUMENTED[kind][0], kind


@pytest.mark.parametrize("kind", KINDS)
def test_headers_and_required_values(synth, kind):
    header = (synth.path / f"{kind}.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header.split(",") == DOCUMENTED[kind][0]
    rows = synth.rows(kind)
    assert rows, f"{kind} is empty"
    for row in rows:
        for column in DOCUMENTED[kind][1]:
            assert row[column], (kind, column, row)
        for column, value in row.items():
            if not value:
                continue
            if column.endswith("_id"):
                assert ID.match(value), (kind, column, value)
            if column.endswith("_at") or column == "at":
                assert TIMESTAMP.match(value) and value <= AS_OF, (kind, column, value)
            if column in ("date_of_birth", "hired_on", "left_on"):
                date.fromisoformat(value)
            if column in ("total", "unit_price", "annual_income", "credit_limit"):
                assert MONEY.match(value), (kind, column, value)


def test_ids_are_unique(synth):
    for kind, column in (("employees", "employee_id"), ("accounts", "account_id"), ("addresses", "address_id"),
                         ("payment_methods", "payment_method_id"), ("orders", "order_id"),
                         ("credit_applications", "application_id"), ("logins", "login_id"),
                         ("support_notes", "note_id")):
        values = [row[column] for row in synth.rows(kind)]
        assert len(values) == len(set(values)), kind
    lines = [(row["order_id"], row["line_no"]) for row in synth.rows("order_lines")]
    assert len(lines) == len(set(lines))


def test_enumerations(synth):
    assert {r["role"] for r in synth.rows("employees")} == {"agent", "privacy_officer", "security_analyst", "admin"}
    assert {r["status"] for r in synth.rows("accounts")} <= {"active", "locked", "closed"}
    assert {r["kind"] for r in synth.rows("addresses")} == {"shipping", "billing"}
    assert {r["status"] for r in synth.rows("orders")} <= {"pending", "paid", "shipped", "delivered", "cancelled",
                                                          "returned"}
    assert {r["product"] for r in synth.rows("credit_applications")} == {"store_card", "financing"}
    assert {r["decision"] for r in synth.rows("credit_applications")} <= {"pending", "approved", "declined"}
    assert {r["success"] for r in synth.rows("logins")} == {"true", "false"}


def test_cards_pass_luhn_on_test_ranges(synth):
    prefixes = {"visa": ("4",), "mastercard": ("5", "2"), "amex": ("34", "37"), "discover": ("6",)}
    for row in synth.rows("payment_methods"):
        number = row["card_number"]
        assert luhn_valid(number), number
        assert row["last4"] == number[-4:]
        assert number.startswith(prefixes[row["brand"]])
        assert len(number) == (15 if row["brand"] == "amex" else 16)
        assert 1 <= int(row["exp_month"]) <= 12
        if row["removed_at"]:
            assert row["removed_at"] > row["added_at"]


def test_personal_data_is_fictional(synth):
    for row in synth.rows("credit_applications"):
        if row["ssn"]:
            digits = row["ssn"].replace("-", "")
            assert len(digits) == 9 and digits[0] == "9", row["ssn"]  # 9xx: never issued as an SSN
    for kind in ("accounts", "employees", "credit_applications"):
        for row in synth.rows(kind):
            if row["email"]:
                assert re.search(r"@([a-z]+\.)?example\.(com|net|org)$", row["email"], re.I), row["email"]


def test_references_point_to_rows_of_the_same_account(synth):
    accounts = synth.by_id("accounts", "account_id")
    addresses = synth.by_id("addresses", "address_id")
    cards = synth.by_id("payment_methods", "payment_method_id")
    orders = synth.by_id("orders", "order_id")
    employees = synth.by_id("employees", "employee_id")
    seen = set()
    for row in synth.rows("employees"):
        assert not row["manager_id"] or row["manager_id"] in seen  # managers come first
        seen.add(row["employee_id"])
    for row in synth.rows("addresses"):
        assert row["created_at"] >= accounts[row["account_id"]]["created_at"]
    for row in synth.rows("payment_methods"):
        assert row["added_at"] >= accounts[row["account_id"]]["created_at"]
        if row["billing_address_id"]:
            billing = addresses[row["billing_address_id"]]
            assert billing["account_id"] == row["account_id"] and billing["kind"] == "billing"
    for row in synth.rows("orders"):
        assert row["placed_at"] >= accounts[row["account_id"]]["created_at"]
        for column, kind in (("ship_to_address_id", "shipping"), ("billing_address_id", "billing")):
            if row[column]:
                address = addresses[row[column]]
                assert address["account_id"] == row["account_id"] and address["kind"] == kind
                assert address["created_at"] <= row["placed_at"]
        if row["payment_method_id"]:
            card = cards[row["payment_method_id"]]
            assert card["account_id"] == row["account_id"]
            assert card["added_at"] <= row["placed_at"]
            assert not card["removed_at"] or row["placed_at"] < card["removed_at"]
    totals: dict[str, Decimal] = {}
    numbers: dict[str, list[int]] = {}
    for row in synth.rows("order_lines"):
        assert row["order_id"] in orders
        assert int(row["quantity"]) >= 1
        totals[row["order_id"]] = totals.get(row["order_id"], Decimal(0)) + int(row["quantity"]) * Decimal(
            row["unit_price"])
        numbers.setdefault(row["order_id"], []).append(int(row["line_no"]))
    for order_id, order in orders.items():
        assert Decimal(order["total"]) == totals[order_id]
        assert numbers[order_id] == list(range(1, len(numbers[order_id]) + 1))
    for kind in ("credit_applications", "logins", "support_notes"):
        for row in synth.rows(kind):
            assert not row["account_id"] or row["account_id"] in accounts, kind
    for row in synth.rows("support_notes"):
        assert row["author"] in employees
        assert row["created_at"] >= accounts[row["account_id"]]["created_at"]
