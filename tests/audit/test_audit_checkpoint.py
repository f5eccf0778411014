"""The stored tree, proofs served from it, and signed checkpoints (made on demand, on a schedule, exported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, service, tree
from ombud.audit.events import AuditEvent
from ombud.audit.models import AuditNode
from ombud.audit.note import open_note, parse_checkpoint, parse_verifier
from ombud.clock import FrozenClock, use_clock
from ombud.errors import Conflict, InvalidInput, NotFound

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _append(session, n):
    return service.append_events(session, [AuditEvent("access.read", "employee", f"E-{i}") for i in range(n)])


def _leaves(session):
    return [r.leaf_hash for r in service.list_events(session, limit=1000)]


def test_integration_is_incremental_and_stores_every_complete_subtree(session):
    _append(session, 5)
    head = tree.integrate(session)
    assert head.size == 5 and head.root_hash == merkle.root(_leaves(session))
    assert session.scalar(select(func.count()).select_from(AuditNode)) == 2 + 1  # (1,0) (1,1) (2,0)
    _append(session, 6)
    calls = []
    head = tree.integrate(session, progress=calls.append)
    assert calls == [6]  # only the new leaves are read
    assert head.size == 11 and head.root_hash == merkle.root(_leaves(session))
    assert session.scalar(select(func.count()).select_from(AuditNode)) == 5 + 2 + 1
    assert tree.integrate(session).size == 11  # nothing new: nothing done


def test_integration_in_steps_gives_the_same_tree(session):
    _append(session, 37)
    for _ in range(4):
        tree.integrate(session, limit=10)
    assert tree.tree_head(session).size == 37
    assert tree.tree_head(session).root_hash == merkle.root(_leaves(session))


def test_proofs_from_the_store_verify_for_every_index_and_size(session):
    _append(session, 23)
    leaves = _leaves(session)
    for size in (1, 2, 7, 8, 13, 23):
        root = tree.root_at(session, size)
        assert root == merkle.root(leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(session, index, size)
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
        for first in range(1, size + 1):
            proof = tree.consistency_proof(session, first, size)
            assert merkle.verify_consistency(first, size, proof, merkle.root(leaves[:first]), root)


def test_proof_requests_beyond_the_log_are_refused(session):
    _append(session, 3)
    with pytest.raises(NotFound):  # valid numbers that name no leaf, or a tree the log does not hold (yet)
        tree.inclusion_proof(session, 3, 3)
    with pytest.raises(NotFound):
        tree.root_at(session, 4)
    with pytest.raises(InvalidInput):
        tree.consistency_proof(session, 0, 3)


def test_a_checkpoint_signs_the_current_tree(session, ctx, verifier):
    with pytest.raises(Conflict):
        checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    _append(session, 9)
    result = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    assert result.created
    record = result.checkpoint
    body = parse_checkpoint(open_note(record.note, [verifier]).text)
    assert (body.origin, body.size, body.root_hash) == (ctx.settings.audit_origin, 9, merkle.root(_leaves(session)))
    assert record.key_id == f"{verifier.key_id:08x}" and record.key_name == ctx.settings.audit_key_name
    again = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    assert not again.created and again.checkpoint.id == record.id
    _append(session, 1)
    assert checkpoints.create_checkpoint(session, ctx.keys, ctx.settings).checkpoint.tree_size == 10
    assert [c.tree_size for c in checkpoints.list_checkpoints(session)] == [9, 10]


def test_maybe_checkpoint_signs_when_the_log_grew_and_the_interval_passed(session, ctx):
    clock = FrozenClock(T0)
    interval = timedelta(seconds=ctx.settings.audit_checkpoint_interval_seconds)
    with use_clock(clock):
        assert checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings) is None  # empty log
        _append(session, 2)
        assert checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings).tree_size == 2
        _append(session, 1)
        clock.advance(interval - timedelta(seconds=1))
        assert checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings) is None  # too soon
        clock.advance(timedelta(seconds=1))
        assert checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings).tree_size == 3
        clock.advance(interval * 3)
        assert checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings) is None  # not grown


def test_export_writes_note_files_and_the_verifier_key(session, ctx, tmp_path, verifier):
    _append(session, 3)
    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    _append(session, 4)
    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    written = checkpoints.export_checkpoints(session, ctx.keys, ctx.settings, tmp_path / "out")
    assert sorted(p.name for p in written) == ["3.checkpoint", "7.checkpoint", "audit.vkey", "checkpoint"]
    key = parse_verifier((tmp_path / "out" / "audit.vkey").read_text())
    assert key == verifier
    for name, size in (("3.checkpoint", 3), ("7.checkpoint", 7), ("checkpoint", 7)):
        note = (tmp_path / "out" / name).read_bytes().decode()
        assert parse_checkpoint(open_note(note, [key]).text).size == size
