"""The vectorised verification pass agrees with the row-by-row one: clean logs pass, altered ones fall back.

The fast pass reads committed data through its own connections, so these tests commit (and clean up).
Chunks are made tiny so that chunk edges, partial chunks and the levels above the chunks are all exercised.
"""

from __future__ import annotations

import hashlib
import os
from array import array

import pytest
from auditutil import empty_log
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ombud.audit import checkpoint as checkpoints
from ombud.audit import fastverify, service
from ombud.audit.events import AuditEvent
from ombud.audit.verify import verify_log
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import make_sessionmaker, transaction

pytestmark = pytest.mark.skipif(not fastverify.available(), reason="ADBC drivers or pyarrow not installed")

SIZES = (37, 64, 100, 150)
_COPY = ("at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, purpose, decision, detail, "
         "leaf_hash")


@pytest.fixture
def store(engine, database_url, tmp_path, monkeypatch):
    """150 events committed in four steps, each checkpointed; fast-path chunks of 16 events."""
    monkeypatch.setattr(fastverify, "CHUNK_LEVEL", 4)
    with engine.begin() as conn:
        empty_log(conn)
    ctx = Context(Settings(env=Environment.test, data_dir=tmp_path / "data", database_url=database_url))
    ctx.__dict__["engine"] = engine
    ctx.__dict__["sessions"] = make_sessionmaker(engine)
    done = 0
    for size in SIZES:
        with transaction(ctx.sessions) as session:
            service.append_events(session, [
                AuditEvent("access.read", "employee", f"E-{i % 5}", customer_id=f"C-{i}",
                           purpose=None if i % 3 else f"case:{i}", detail={"n": i} if i % 2 else {})
                for i in range(done, size)
            ])
            checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        done = size
    with transaction(ctx.sessions) as session:
        service.append_events(session, [AuditEvent("staff.sign_in")] * 3)  # not yet checkpointed
    try:
        yield ctx
    finally:
        with engine.begin() as conn:
            empty_log(conn)


def _verify(ctx, fast):
    with transaction(ctx.sessions) as session:
        return verify_log(session, [checkpoints.verifier(ctx.keys, ctx.settings)], ctx.settings.audit_origin,
                          fast=fast)


def test_the_fast_pass_accepts_an_intact_log(store):
    with transaction(store.sessions) as session:
        url = session.get_bind().url
    result = fastverify.check(url, events=153, tree_size=150, sizes=SIZES, workers=2)
    assert result.ok, result.reason
    assert result.events == 153 and result.nodes_checked == 150 - bin(150).count("1")
    fast, slow = _verify(store, True), _verify(store, False)
    assert fast.ok and slow.ok
    assert (fast.events, fast.nodes_checked) == (slow.events, slow.nodes_checked) == (153, 146)


#: Alterations verify_log catches around the chunk check (heads, the log's extent, nodes outside the tree).
_AROUND = ("frontier", "VALUES (2, 40", "SELECT -1", "SELECT 153", "idx = 160")


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_event SET customer_id = 'C-X' WHERE idx = 70",
        "UPDATE audit_event SET purpose = 'case:0' WHERE idx = 1",  # a null made text
        "DELETE FROM audit_event WHERE idx = 16",
        "UPDATE audit_node SET hash = :zero WHERE level = 4 AND idx = 2",  # a chunk root
        "UPDATE audit_node SET hash = :zero WHERE level = 6 AND idx = 1",  # above the chunks
        "UPDATE audit_node SET hash = :zero WHERE level = 1 AND idx = 74",  # the last node stored
        "UPDATE audit_tree SET frontier = :zero",
        "UPDATE audit_event SET leaf_hash = :short WHERE idx = 3",  # a stored hash one byte short
        "DELETE FROM audit_node WHERE level = 3 AND idx = 17",  # the last node of a level, gone
        "INSERT INTO audit_node (level, idx, hash) VALUES (2, 40, :zero)",  # a node beyond the tree
        f"INSERT INTO audit_event SELECT -1, {_COPY} FROM audit_event WHERE idx = 0",  # a row before the log
        f"INSERT INTO audit_event SELECT 153, {_COPY} FROM audit_event WHERE idx = 0",  # past the sequence
        "UPDATE audit_event SET idx = 160 WHERE idx = 152",  # the last event moved out
    ],
)
def test_any_alteration_makes_the_fast_pass_hand_over(store, engine, tamper):
    with engine.begin() as conn:
        conn.execute(text(tamper), {"zero": bytes(32), "short": bytes(31)})
    with transaction(store.sessions) as session:
        url = session.get_bind().url
    checked = fastverify.check(url, events=153, tree_size=150, sizes=SIZES, workers=1)
    assert not checked.ok or any(mark in tamper for mark in _AROUND)
    fast, slow = _verify(store, True), _verify(store, False)
    assert not fast.ok and not slow.ok
    assert fast.first_problem == slow.first_problem


def test_workers_start_without_re_running_the_main_script(store, tmp_path):
    """The workers never re-run the parent's main module: not the CLI (slow), not code piped to `python -`."""
    import subprocess
    import sys

    with transaction(store.sessions) as session:
        url = session.get_bind().url.render_as_string(hide_password=False)
    marker = tmp_path / "main-ran"
    code = (
        "import pathlib, sys\n"
        "from ombud.audit import fastverify\n"
        f"pathlib.Path({str(marker)!r}).open('a').write('x')\n"
        f"result = fastverify.check({url!r}, events=153, tree_size=150, sizes=[150], workers=2, chunk_level=4)\n"
        "sys.exit(0 if result.ok else 1)\n"
    )
    done = subprocess.run([sys.executable, "-"], input=code, text=True, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "x"  # the piped main ran once, in the parent only


@pytest.mark.parametrize(
    "rewrite",
    [
        "UPDATE audit_event SET at = replace(at, ' ', 'T') WHERE idx = 20",  # the same instant, ISO 'T'
        "UPDATE audit_event SET at = at || '000' WHERE idx = 21",  # nanosecond digits: the fast pass declines
    ],
)
def test_a_rewrite_that_keeps_every_value_passes_both_ways(store, engine, rewrite, is_postgres):
    """SQLite keeps times as text; a different spelling of the same instant is not a change (both passes)."""
    if is_postgres:
        pytest.skip("PostgreSQL keeps times as timestamptz")
    with engine.begin() as conn:
        conn.execute(text(rewrite))
    fast, slow = _verify(store, True), _verify(store, False)
    assert fast.ok and slow.ok, (fast.problems, slow.problems)
    assert fast.events == slow.events == 153


# --- the native hashing the fast pass uses, against hashlib -------------------------------------------------

native_hashing = pytest.mark.skipif(fastverify.native is None, reason="ombud.audit._sha256many was not built")


def test_the_native_module_is_built_in_ci():
    # The verification goal depends on it; a CI install that silently lost it would only be slower.
    if os.environ.get("CI"):
        assert fastverify.native is not None, "ombud.audit._sha256many was not built (see hatch_build.py)"


@native_hashing
@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.binary(max_size=300), max_size=40), cut=st.integers(min_value=0, max_value=40))
def test_native_leaf_hashes_equal_hashlib_also_on_a_slice(values, cut):
    import pyarrow as pa

    array = pa.array(values, pa.binary())
    part = array.slice(min(cut, len(values)))  # an array with an offset into its buffers
    for candidate in (array, part):
        expected = b"".join(hashlib.sha256(v).digest() for v in candidate.to_pylist())
        assert fastverify.hash_all(candidate) == expected


@native_hashing
@settings(max_examples=60, deadline=None)
@given(count=st.integers(min_value=0, max_value=70), extra=st.integers(min_value=0, max_value=31))
def test_native_node_hashes_equal_rfc6962_nodes(count, extra):
    hashes = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)) + b"\xab" * extra
    expected = b"".join(
        hashlib.sha256(b"\x01" + hashes[i : i + 64]).digest() for i in range(0, (len(hashes) // 64) * 64, 64)
    )
    assert fastverify._next_level(hashes) == expected


@native_hashing
def test_native_hashing_refuses_offsets_outside_the_data():
    with pytest.raises(ValueError, match="offsets"):
        fastverify.native.each(b"abc", array("i", [0, 2, 9]).tobytes(), 2)
    with pytest.raises(ValueError, match="offsets"):
        fastverify.native.each(b"abc", array("i", [0]).tobytes(), 1)
