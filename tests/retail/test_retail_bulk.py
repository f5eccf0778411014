"""The import's bulk shortcuts give exactly what the one-at-a-time functions give, and the writer thread fails safe."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from ombud.crypto import card_fingerprint, luhn_valid
from ombud.retail.importer import ImportAborted, import_directory
from ombud.retail.models import Account, Login, Order
from ombud.retail.tables import card_fingerprints
from ombud.retail.validate import luhn_valid_bulk


def _with_check_digit(body: str) -> str:
    """`body` plus the digit that makes it pass Luhn."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


cards = st.text("0123456789", min_size=11, max_size=18).map(_with_check_digit)


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=1, max_size=100), numbers=st.lists(cards, max_size=20))
def test_bulk_fingerprints_equal_the_crypto_module(key, numbers):
    assert card_fingerprints(key, numbers) == [card_fingerprint(key, n) for n in numbers]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), cards, st.text("0123456789", max_size=21),
                                 st.text("0123456789x- ", max_size=20)), max_size=30))
def test_bulk_luhn_equals_the_crypto_module(values):
    expected = [v is not None and v.isascii() and v.isdigit() and 12 <= len(v) <= 19 and luhn_valid(v)
                for v in values]
    assert luhn_valid_bulk(pl.Series("card", values, dtype=pl.String)).to_list() == expected


def _refuse_order(session, is_postgres, external_id):
    """A trigger that makes the store refuse one order (standing in for a store failure a valid row can't cause)."""
    if is_postgres:
        session.execute(text(
            "CREATE FUNCTION refuse_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.external_id = '{external_id}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$"))
        session.execute(text("CREATE TRIGGER refuse_order BEFORE INSERT OR UPDATE ON retail_order "
                             "FOR EACH ROW EXECUTE FUNCTION refuse_order()"))
    else:
        session.execute(text(f"CREATE TRIGGER refuse_order BEFORE INSERT ON retail_order WHEN "
                             f"NEW.external_id = '{external_id}' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    session.commit()


@pytest.mark.parametrize("first_import", [True, False], ids=["into-empty-tables", "into-filled-tables"])
def test_a_refused_batch_stops_the_import_and_earlier_batches_stay(ctx, session, good_dir, is_postgres,
                                                                   first_import):
    if not first_import:  # every table already holds rows: the staged upsert path
        import_directory(ctx, good_dir)
        session.execute(text("DELETE FROM retail_order_line"))
        session.execute(text("DELETE FROM retail_order"))
        session.execute(text("DELETE FROM retail_login"))
        session.commit()
        session.execute(text("INSERT INTO retail_order (external_id, account_id, placed_at, status, currency, "
                             "total_cents) SELECT 'O-OTHER', min(id), min(created_at), 'paid', 'USD', 1 "
                             "FROM retail_account"))
        session.commit()
    _refuse_order(session, is_postgres, "O2")
    seen = []
    with pytest.raises(ImportAborted, match=r"orders\.csv: the store refused the batch of lines 3-3") as caught:
        import_directory(ctx, good_dir, batch_size=1, on_batch=[lambda s, kind, ids: seen.append(kind)])
    report = caught.value.report
    assert report.kind("orders").inserted == 1  # O1, in the batch before
    session.expire_all()
    landed = set(session.scalars(select(Order.external_id)))
    assert landed == ({"O1"} if first_import else {"O1", "O-OTHER"})
    # Nothing after the refused batch: neither O3 nor the later files.
    assert session.scalar(select(func.count()).select_from(Login)) == 0
    assert "logins" not in seen and session.scalar(select(func.count()).select_from(Account)) == 3


def test_a_failing_lookup_in_the_reading_thread_leaves_the_writer_stopped(ctx, session, good_dir, monkeypatch):
    from ombud.retail import links

    def broken(*args, **kwargs):
        raise RuntimeError("lookup failed")

    monkeypatch.setattr(links.References, "lookup", broken)
    with pytest.raises(RuntimeError, match="lookup failed"):
        import_directory(ctx, good_dir, batch_size=1)
    session.expire_all()
    # The accounts file has no references: it landed; addresses, the first file with references, did not.
    assert session.scalar(select(func.count()).select_from(Account)) == 3
    assert session.scalar(text("SELECT count(*) FROM retail_address")) == 0
