"""Reading import files: both CSV readers agree on every record and its physical line; odd files are reported."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.retail import reader
from ombud.retail.format import LOGINS
from ombud.retail.importer import import_directory

HEADER = "login_id,account_id,at,ip,device,success\n"


def _read(path, which):
    source = reader.Source(LOGINS, path, "csv")
    header = reader.read_header(source)
    read = reader._read_csv_arrow if which == "arrow" else reader._read_csv_python
    frames, errors = [], []
    for chunk in read(source, header, 3):
        frames.append(chunk.frame)
        errors.extend((line, field) for line, field, _ in chunk.errors)
    frame = pl.concat(frames) if frames else pl.DataFrame()
    return frame.rows() if frame.height else [], sorted(errors)


TRICKY = (
    HEADER
    + 'L1,A1,2025-01-01T00:00:00Z,203.0.113.5,"two\nlines",true\r\n'
    + "\n"
    + "L2,A1,2025-01-01T00:00:00Z\n"
    + 'L3,A1,2025-01-01T00:00:00Z,,"three\nlines\nhere",false\n'
    + "L4,A1,2025-01-01T00:00:00Z,,,true,extra\n"
    + "\n\n"
    + 'L5,A1,2025-01-01T00:00:00Z,,"a ""quoted"" word",\n'
    + "L6,A1,2025-01-01T00:00:00Z,,,1"
)


def test_both_readers_agree_on_lines_and_ragged_rows(tmp_path):
    path = tmp_path / "logins.csv"
    path.write_bytes(TRICKY.encode())
    rows, errors = _read(path, "arrow")
    assert (rows, errors) == _read(path, "python")
    assert [(r[0], r[-1]) for r in rows] == [("L1", 2), ("L3", 6), ("L5", 12), ("L6", 13)]
    assert errors == [(5, "(row)"), (9, "(row)")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "x", "a\nb", "c,d", 'say "hi"', "é\n\nü"]),
                          st.integers(min_value=0, max_value=2), st.booleans()), min_size=1, max_size=12))
def test_readers_agree_on_generated_files(tmp_path_factory, records):
    lines = [HEADER]
    for i, (device, blanks, short) in enumerate(records):
        quoted = '"' + device.replace('"', '""') + '"'
        lines.append("\n" * blanks)
        lines.append(f"L{i},A1,2025-01-01T00:00:00Z,,{quoted}" + ("" if short else ",true") + "\n")
    path = tmp_path_factory.mktemp("gen") / "logins.csv"
    path.write_bytes("".join(lines).encode())
    assert _read(path, "arrow") == _read(path, "python")


def test_invalid_utf8_is_rejected_per_value(ctx, session, tmp_path):
    (tmp_path / "accounts.csv").write_bytes(
        b"account_id,created_at,name\nA1,2025-01-01T00:00:00Z,Jos\xe9 Garc\xeda\nA2,2025-01-01T00:00:00Z,Ana\n")
    report = import_directory(ctx, tmp_path)
    assert [(e.line, e.field, e.reason) for e in report.errors] == [(2, "name", "is not valid UTF-8")]
    assert report.kind("accounts").inserted == 1


def test_an_unclosed_quote_is_named(ctx, tmp_path):
    (tmp_path / "accounts.csv").write_text(
        'account_id,created_at,name\nA1,2025-01-01T00:00:00Z,Ana\nA2,2025-01-01T00:00:00Z,"Bo\nA3,x,y\n')
    report = import_directory(ctx, tmp_path)
    assert [(e.line, e.field) for e in report.errors] == [(3, "(row)")]
    assert "quote" in report.errors[0].reason
    assert report.kind("accounts").inserted == 1


@pytest.mark.parametrize("content", ["", "\n"])
def test_an_empty_file_needs_a_header(ctx, tmp_path, content):
    (tmp_path / "accounts.csv").write_text(content)
    with pytest.raises(Exception, match="header"):
        import_directory(ctx, tmp_path)
