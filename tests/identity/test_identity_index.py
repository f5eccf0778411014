"""The identity index in the database: incremental upkeep through the import callback, full rebuilds."""

from __future__ import annotations

from identity_testdata import JANE, JANE_DOB
from sqlalchemy import select

from ombud.identity.index import import_callback, index_stats, reindex
from ombud.identity.models import IdentityBlockKey, IdentityRecord
from ombud.identity.service import discover
from ombud.retail.models import AddressKind


def _snapshot(session):
    """Records by owner with their payload and key set: what a rebuild must reproduce."""
    records = {r.id: r for r in session.scalars(select(IdentityRecord))}
    keys: dict[int, set] = {}
    for k in session.scalars(select(IdentityBlockKey)):
        keys.setdefault(k.record_id, set()).add((k.key, k.kind))
    return {
        (r.account_id, r.application_id): (r.payload, frozenset(keys.get(r.id, set()))) for r in records.values()
    }


def _world(retail, on_batch, session):
    jane = retail.account("Jane Q. Doe", "Jane.Doe@Example.com", "217-555-0143", JANE_DOB)
    home = retail.address(jane, "12 Oak St", "#4B")
    card = retail.card(jane, "4111111111111111", "JANE DOE", home)
    on_batch(session, "accounts", [jane.id])
    on_batch(session, "addresses", [home.id])
    on_batch(session, "payment_methods", [card.id])
    thief = retail.account("Mallory Smith", "mallory@example.net")
    drop = retail.address(thief, "9 Elm Road", city="Dover", region="DE", postal="19901",
                          kind=AddressKind.shipping)
    stolen = retail.card(thief, "4111111111111111", "Jane Doe", drop)
    app = retail.application(None, "Jane Doe", ssn="123-45-6789", dob=JANE_DOB)
    on_batch(session, "accounts", [thief.id])
    on_batch(session, "addresses", [drop.id])
    on_batch(session, "payment_methods", [stolen.id])
    on_batch(session, "credit_applications", [app.id])
    on_batch(session, "orders", [])  # kinds without identifiers change nothing
    on_batch(session, "logins", [1, 2, 3])
    return jane, thief, app


def test_the_import_callback_indexes_accounts_cards_addresses_and_applications(session, ctx, retail):
    on_batch = import_callback(ctx.keys)
    jane, thief, app = _world(retail, on_batch, session)
    records = {(r.account_id, r.application_id): r for r in session.scalars(select(IdentityRecord))}
    assert set(records) == {(jane.id, None), (thief.id, None), (None, app.id)}
    payload = records[(jane.id, None)].payload
    assert payload["e"][0][0] == "jane.doe@example.com"
    assert payload["p"][0][0] == "+12175550143"
    assert payload["a"][0][:4] == ["12", "oak st", "oak", "4b"]
    assert len(payload["c"]) == 1 and payload["c"][0][1] == "1111"
    # Card numbers and SSNs never appear: only the fingerprint and the keyed hash.
    text = str(payload) + str(records[(None, app.id)].payload)
    assert "4111111111111111" not in text and "123456789" not in text


def test_incremental_upkeep_follows_changes(session, ctx, retail):
    on_batch = import_callback(ctx.keys)
    _jane, thief, app = _world(retail, on_batch, session)
    before = _snapshot(session)[(thief.id, None)][1]
    new_address = retail.address(thief, "12 Oak Street", "Apt 4B")  # the thief adds the victim's address
    on_batch(session, "addresses", [new_address.id])
    after = _snapshot(session)[(thief.id, None)][1]
    assert after > before
    # The stand-alone application gets tied to an account: it leaves the index as a record of its own.
    app.account_id = thief.id
    session.flush()
    on_batch(session, "credit_applications", [app.id])
    owners = set(_snapshot(session))
    assert (None, app.id) not in owners
    thief_payload = _snapshot(session)[(thief.id, None)][0]
    assert thief_payload["s"]  # its SSN hash moved to the account's record


def test_reindex_equals_incremental(session, ctx, retail):
    on_batch = import_callback(ctx.keys)
    _world(retail, on_batch, session)
    incremental = _snapshot(session)
    result = reindex(session, ctx.keys)
    assert result.records == 3
    rebuilt = _snapshot(session)
    assert rebuilt == incremental
    stats = index_stats(session)
    assert stats["records"] == 3 and stats["application_records"] == 1 and not stats["stale"]
    assert stats["keys"] == sum(len(keys) for _, keys in rebuilt.values())
    assert {k["kind"] for k in stats["kinds"]} >= {"card", "ssn", "email", "phone", "address", "dob_surname"}


def test_records_go_when_their_account_goes(session, ctx, retail):
    on_batch = import_callback(ctx.keys)
    jane, thief, _app = _world(retail, on_batch, session)
    session.delete(thief)
    session.flush()
    session.expire_all()
    owners = set(_snapshot(session))
    assert (thief.id, None) not in owners and (jane.id, None) in owners


def test_discovery_after_incremental_upkeep(session, ctx, retail):
    on_batch = import_callback(ctx.keys)
    jane, thief, app = _world(retail, on_batch, session)
    result = discover(session, ctx.keys, JANE)
    found = {m.account_id or m.application_id: m for m in result.matches}
    assert set(found) == {jane.external_id, thief.external_id, app.external_id}
    assert found[thief.external_id].hard_link and found[thief.external_id].verdict == "suspected_fraud"
    assert [c.last4 for c in found[thief.external_id].cards] == ["1111"]
    assert found[app.external_id].record_kind == "application"
    assert {e.comparison for e in found[app.external_id].explanation if e.kind == "exact"} >= {"ssn", "date_of_birth"}


def test_reindex_leaves_the_key_table_model_whole(session, ctx, retail):
    # The rebuild drops and restores the key table's keys (PostgreSQL) or the table itself (SQLite) by the
    # model's own DDL; afterwards the model must still create the table with its keys, on either store.
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateTable

    retail.account("Jane Doe", email="jane@example.com")
    reindex(session, ctx.keys)
    reindex(session, ctx.keys)  # twice: the second starts from the restored table
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        ddl = str(CreateTable(IdentityBlockKey.__table__).compile(dialect=dialect))
        assert "pk_identity_block_key PRIMARY KEY" in ddl and "FOREIGN KEY(record_id)" in ddl, ddl
