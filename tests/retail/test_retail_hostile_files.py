"""Hostile files: each problem is named (file, line, reason) with the documented exit code, never a crash.

An import that cannot run (a damaged gzip stream) exits 2 before anything lands; a bad row is rejected and
named while the others land.
"""

from __future__ import annotations

import gzip
import sys

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ombud.cli import main as main_cli
from ombud.cli import retail as retail_cli
from ombud.retail.importer import import_directory
from ombud.retail.models import Account, Login, SupportNote
from ombud.retail.reader import MAX_FIELD_CHARS, MAX_JSON_KEYS, MAX_JSON_LINE
from ombud.staff.models import Employee


@pytest.fixture
def cli_ctx(ctx, monkeypatch):
    monkeypatch.setattr(ctx, "close", lambda: None)
    monkeypatch.setattr(retail_cli, "context", lambda: ctx)
    return ctx


def _run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """`ombud ARGS` through the real entry point (which turns a refused import into exit 2)."""
    monkeypatch.setattr(sys, "argv", ["ombud", *args])
    with pytest.raises(SystemExit) as exited:
        main_cli.main()
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out + out.err


def _count(ctx, model) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def _errors(report) -> set[tuple[str, int, str]]:
    return {(e.file, e.line, e.field) for e in report.errors}


def test_a_truncated_gz_stops_the_import_with_exit_2_before_anything_lands(cli_ctx, good_dir, monkeypatch,
                                                                           capsys):
    accounts = good_dir / "accounts.csv"
    packed = gzip.compress(accounts.read_bytes() * 50)
    (good_dir / "accounts.csv.gz").write_bytes(packed[: len(packed) // 2])
    accounts.unlink()
    code, output = _run_cli(monkeypatch, capsys, "import", str(good_dir))
    assert code == 2, output
    assert "accounts.csv.gz" in output and "truncated" in output and "Aborted" not in output
    assert _count(cli_ctx, Employee) == 0  # employees.csv comes first and is fine: it did not land either
    assert _count(cli_ctx, Account) == 0


def test_a_gz_that_is_not_gzip_stops_the_import_with_exit_2_before_anything_lands(cli_ctx, good_dir,
                                                                                  monkeypatch, capsys):
    accounts = good_dir / "accounts.csv"
    accounts.rename(good_dir / "accounts.csv.gz")  # plain text under a .gz name
    code, output = _run_cli(monkeypatch, capsys, "import", str(good_dir))
    assert code == 2, output
    assert "accounts.csv.gz" in output and "not a gzip file" in output and "Traceback" not in output
    assert _count(cli_ctx, Employee) == 0
    assert _count(cli_ctx, Account) == 0


def test_a_json_value_nested_100000_deep_rejects_its_line_and_the_others_land(ctx, good_dir):
    logins = good_dir / "logins.jsonl"
    lines = logins.read_text().splitlines()
    deep = "[" * 100_000 + "]" * 100_000
    lines.insert(1, f'{{"login_id": "LDEEP", "account_id": "A1", "at": "2023-06-01T08:00:00Z", "device": {deep}}}')
    logins.write_text("\n".join(lines) + "\n")
    report = import_directory(ctx, good_dir)
    assert _errors(report) == {("logins.jsonl", 2, "(row)")}
    assert "nested too deeply" in report.errors[0].reason
    assert _count(ctx, Login) == len(lines) - 1


def test_a_10_mb_text_field_is_named_over_the_limit_and_the_other_rows_land(ctx, good_dir):
    notes = good_dir / "support_notes.csv"
    text = notes.read_text()
    header, first = text.split("\n", 1)
    huge = "x" * (10 * 1024 * 1024)
    notes.write_text(f"{header}\nNHUGE,A1,2024-05-21T15:00:00Z,E1,phone,{huge}\n{first}")
    report = import_directory(ctx, good_dir)
    assert _errors(report) == {("support_notes.csv", 2, "(row)")}
    assert f"{MAX_FIELD_CHARS:,}" in report.errors[0].reason and "limit" in report.errors[0].reason
    expected_notes = next(k for k in report.kinds if k.kind == "support_notes").read - 1
    assert expected_notes > 0 and _count(ctx, SupportNote) == expected_notes


def test_a_real_u_fffd_in_a_name_is_kept_and_only_bytes_that_are_not_utf8_are_rejected(ctx, good_dir):
    accounts = good_dir / "accounts.csv"
    text = accounts.read_text().replace("Jane Q. Doe", "Jos\ufffd Doe")
    accounts.write_text(text)
    report = import_directory(ctx, good_dir)  # valid UTF-8 throughout (Arrow's fast parser)
    assert report.ok, [(e.file, e.line, e.field, e.reason) for e in report.errors]
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Account)) > 0

    # The same real U+FFFD beside a byte that is not UTF-8 in another row (Python's exact reader).
    data = text.encode().replace(b"Smith, John", b"Smith, J\xe9r\xf4me")
    accounts.write_bytes(data)
    report = import_directory(ctx, good_dir)
    broken = [e for e in report.errors if e.file == "accounts.csv"]
    assert [(e.line, e.field, e.reason) for e in broken] == [(3, "name", "is not valid UTF-8")]


def test_a_row_of_only_commas_is_rejected_and_named_while_blank_lines_are_skipped(ctx, good_dir):
    accounts = good_dir / "accounts.csv"
    lines = accounts.read_text().splitlines()
    width = len(lines[0].split(","))
    lines[2:2] = ["," * (width - 1), "", ",,"]  # lines 3 (a full record of empty fields), 4 (blank), 5 (ragged)
    accounts.write_text("\n".join(lines) + "\n")
    report = import_directory(ctx, good_dir)
    named = {(e.line, e.field) for e in report.errors if e.file == "accounts.csv"}
    assert 3 in {line for line, _ in named} and (5, "(row)") in named
    assert not any(line == 4 for line, _ in named)
    assert not report.ok


def test_a_quoted_note_of_many_short_lines_over_4_mib_is_named_not_an_arrow_block_error(ctx, good_dir):
    notes = good_dir / "support_notes.csv"
    header, rest = notes.read_text().split("\n", 1)
    line = "The customer read out another line of the letter she got about the account. " * 2
    long_note = "\n".join([line] * (5 * 1024 * 1024 // len(line)))  # 5 MiB, no line over 200 characters
    fits = "\n".join([line] * (2 * 1024 * 1024 // len(line)))  # 2 MiB: over Arrow's record size, under the limit
    notes.write_text(f'{header}\nNLONG,A1,2024-05-21T15:00:00Z,E1,phone,"{long_note}"\n'
                     f'NFITS,A1,2024-05-21T15:00:00Z,E1,phone,"{fits}"\n{rest}')
    report = import_directory(ctx, good_dir)
    assert _errors(report) == {("support_notes.csv", 2, "(row)")}
    assert f"{MAX_FIELD_CHARS:,}" in report.errors[0].reason
    read = next(k for k in report.kinds if k.kind == "support_notes").read
    assert _count(ctx, SupportNote) == read - 1
    with ctx.sessions() as session:
        fits_rows = select(func.count()).select_from(SupportNote).where(SupportNote.external_id == "NFITS")
        assert session.scalar(fits_rows) == 1


def test_json_lines_values_keys_and_lines_are_capped_naming_the_line(ctx, good_dir):
    logins = good_dir / "logins.jsonl"
    lines = logins.read_text().splitlines()
    base = '"account_id": "A1", "at": "2023-06-01T08:00:00Z"'
    lines[1:1] = [
        f'{{"login_id": "LLONG", {base}, "device": "{"d" * (MAX_FIELD_CHARS + 1)}"}}',
        f'{{"login_id": "LHUGE", {base}, "extra": "{"e" * (MAX_JSON_LINE + 10)}"}}',
        "{" + ", ".join(f'"k{i}": {i}' for i in range(MAX_JSON_KEYS + 1)) + "}",
        f'{{"login_id": "LLIST", {base}, "unknown_list": {list(range(50))}}}',
    ]
    logins.write_text("\n".join(lines) + "\n")
    report = import_directory(ctx, good_dir)
    named = {(e.line, e.field): e.reason for e in report.errors if e.file == "logins.jsonl"}
    assert set(named) == {(2, "device"), (3, "(row)"), (4, "(row)")}, named
    assert "field-length limit" in named[(2, "device")] and f"{MAX_JSON_LINE:,}" in named[(3, "(row)")]
    assert f"at most {MAX_JSON_KEYS}" in named[(4, "(row)")]
    assert _count(ctx, Login) == len(lines) - 3  # the record with an unknown list field lands, the field ignored
    assert any("unknown_list" in w for w in report.warnings)


@pytest.mark.parametrize("typed", ["555-010-0001", "5550100001", "078-05-1120", "tel:5550100001", "janedoe"])
def test_an_account_id_that_is_personal_data_is_rejected_naming_the_row(ctx, good_dir, typed):
    accounts = good_dir / "accounts.csv"
    accounts.write_text(accounts.read_text().replace("\nA2,", f"\n{typed},", 1))
    report = import_directory(ctx, good_dir)
    named = [(e.file, e.line, e.field) for e in report.errors if e.file == "accounts.csv"]
    assert named == [("accounts.csv", 3, "account_id")]
    assert "customer id" in report.errors[0].reason and typed not in report.errors[0].reason
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Account).where(Account.external_id == typed)) == 0


def test_a_retailers_own_id_pattern_holds_at_import(ctx, good_dir):
    from ombud import customer_ids

    customer_ids.configure(r"A[0-9]+")
    try:
        accounts = good_dir / "accounts.csv"
        accounts.write_text(accounts.read_text().replace("\nA2,", "\nB2,", 1))
        report = import_directory(ctx, good_dir)
    finally:
        customer_ids.configure(None)
    assert ("accounts.csv", 3, "account_id") in _errors(report)


@pytest.mark.parametrize("value", ["A000123", "C-0001", "acct_9", "555-010-0001", "5550100001", "jane@x.com",
                                   "tel:5550100001", "2001:db8::1", "x078-05-1120", "5550100001x12", "a", "A" * 65])
def test_the_vectorised_customer_id_check_agrees_with_the_edge(value):
    import polars as pl

    from ombud import customer_ids
    from ombud.retail.validate import not_customer_id

    vector = pl.DataFrame({"v": [value]}).select(not_customer_id(pl.col("v"))).item()
    assert vector == (customer_ids.problem(value) is not None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z0-9_.:\- +@()]{0,70}", fullmatch=True)
                | st.from_regex(r"(tel:|ext|\+1[-. ]?)?[0-9]{3}[-. ]?[0-9]{2,3}[-. ]?[0-9]{4}(x[0-9]{1,3})?",
                                fullmatch=True), min_size=1, max_size=20))
def test_the_vectorised_customer_id_check_agrees_with_the_edge_everywhere(values):
    from ombud import customer_ids
    from ombud.retail.validate import not_customer_id

    vector = pl.DataFrame({"v": values}).select(not_customer_id(pl.col("v"))).to_series().to_list()
    assert vector == [customer_ids.problem(v) is not None for v in values]
