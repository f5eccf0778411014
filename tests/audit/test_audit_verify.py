"""`ombud audit verify`'s library function against a database altered behind the log's back.

Each test changes the stored log with plain SQL, as someone with write access to the database could,
and checks the verification fails and names the first bad entry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, service
from ombud.audit.events import AuditEvent, prepare
from ombud.audit.note import Signer
from ombud.audit.verify import check_latest, recompute_leaf, verify_log
from ombud.clock import FrozenClock, use_clock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COLUMNS = "at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, purpose, decision, detail"


def _event(i):
    return AuditEvent(
        "access.read", "employee", f"E-{i % 4}", customer_id=f"C-{i:04d}", subject_type="case", subject_id=str(i),
        fields=("email", "phone"), purpose=f"case:{i}", decision="allow", detail={"grant": i},
    )


@pytest.fixture
def log(session, ctx):
    """40 events, checkpoints at 16 and 40, then 3 events not yet checkpointed."""
    clock = FrozenClock(T0)
    with use_clock(clock):
        for i in range(16):
            service.append_event(session, _event(i))
            clock.advance(timedelta(seconds=1))
        checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        service.append_events(session, [_event(i) for i in range(16, 40)])
        checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        service.append_events(session, [_event(i) for i in range(40, 43)])
    return session


def _verify(session, ctx, verifier, **kw):
    return verify_log(session, [verifier], ctx.settings.audit_origin, **kw)


def _row(session, idx):
    return session.execute(text(f"SELECT {COLUMNS}, leaf_hash FROM audit_event WHERE idx = :i"), {"i": idx}).one()


def _set(session, idx, **values):
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    session.execute(text(f"UPDATE audit_event SET {assignments} WHERE idx = :idx"), {**values, "idx": idx})


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_an_untouched_log_verifies(log, ctx, verifier):
    seen = []
    report = _verify(log, ctx, verifier, progress=lambda done, total: seen.append((done, total)))
    assert report.ok, report.problems
    assert (report.events, report.tree_size, report.checkpoints, report.latest_checkpoint) == (43, 40, 2, 40)
    assert report.uncovered == 3 and report.nodes_checked == 40 - 1 - 1  # 39 interior nodes minus none uncovered
    assert seen[-1] == (43, 43)
    assert check_latest(log, [verifier], ctx.settings.audit_origin).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("customer_id", "C-0022"),  # one character flipped: 21 -> 22
        ("actor_id", "E-2 "),
        ("fields", '["email"]'),
        ("purpose", None),
        ("decision", "deny"),
        ("detail", '{"grant":22}'),
        ("action", "access.reed"),
    ],
)
def test_a_changed_column_is_named(log, ctx, verifier, column, value):
    _set(log, 21, **{column: value})
    report = _verify(log, ctx, verifier)
    assert not report.ok
    first = report.first_problem
    assert (first.index, first.kind) == (21, "changed"), first
    assert "event 21" in first.message


def test_a_changed_time_is_named(log, ctx, verifier):
    at = _row(log, 5).at
    shifted = datetime.fromisoformat(at) if isinstance(at, str) else at
    shifted = shifted + timedelta(microseconds=1)
    _set(log, 5, at=shifted.replace(tzinfo=None) if isinstance(at, str) else shifted)
    assert (_verify(log, ctx, verifier).first_problem.index, "changed") == (5, "changed")


def test_a_flipped_byte_of_a_leaf_hash_is_named(log, ctx, verifier):
    _set(log, 33, leaf_hash=_flip(bytes(_row(log, 33).leaf_hash)))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (33, "changed")


def test_a_deleted_event_is_named(log, ctx, verifier):
    log.execute(text("DELETE FROM audit_event WHERE idx = 12"))
    report = _verify(log, ctx, verifier)
    first = report.first_problem
    assert (first.index, first.kind) == (12, "missing"), first
    assert "event 12 missing" in first.message


def test_deleting_the_newest_events_is_caught(log, ctx, verifier):
    log.execute(text("DELETE FROM audit_event WHERE idx >= 38"))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (38, "missing"), first


def test_deleting_and_renumbering_is_named(log, ctx, verifier):
    log.execute(text("DELETE FROM audit_event WHERE idx = 9"))
    log.execute(text("UPDATE audit_event SET idx = -idx WHERE idx > 9"))
    log.execute(text("UPDATE audit_event SET idx = -idx - 1 WHERE idx < 0"))
    log.execute(text("UPDATE audit_sequence SET next_index = next_index - 1"))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (9, "moved"), first
    assert "logged as event 10" in first.message


def test_swapped_rows_are_named(log, ctx, verifier):
    a, b = _row(log, 5), _row(log, 30)
    names = [*COLUMNS.split(", "), "leaf_hash"]
    _set(log, 5, **dict(zip(names, b, strict=True)))
    _set(log, 30, **dict(zip(names, a, strict=True)))
    report = _verify(log, ctx, verifier)
    assert (report.first_problem.index, report.first_problem.kind) == (5, "changed")
    assert {p.index for p in report.problems if p.kind == "changed"} == {5, 30}


def test_neighbours_swapped_are_named_as_moved(log, ctx, verifier):
    a, b = _row(log, 6), _row(log, 7)
    names = [*COLUMNS.split(", "), "leaf_hash"]
    _set(log, 6, **dict(zip(names, b, strict=True)))
    _set(log, 7, **dict(zip(names, a, strict=True)))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (6, "moved"), first


def _forge(session, idx, event):
    """A row for `event` at `idx` with a correctly computed leaf hash: what a careful forger writes."""
    prepared = prepare(event, T0)
    leaf = merkle.leaf_hash(prepared.leaf_data(idx))
    at = prepared.at.replace(tzinfo=None) if session.bind.dialect.name == "sqlite" else prepared.at
    session.execute(text(
        f"INSERT INTO audit_event (idx, {COLUMNS}, leaf_hash) VALUES (:idx, :at, :action, :actor_type, :actor_id, "
        ":customer_id, :subject_type, :subject_id, :fields, :purpose, :decision, :detail, :leaf)"
    ), {"idx": idx, "at": at, "action": prepared.action, "actor_type": prepared.actor_type,
        "actor_id": prepared.actor_id, "customer_id": prepared.customer_id, "subject_type": prepared.subject_type,
        "subject_id": prepared.subject_id, "fields": prepared.fields_json, "purpose": prepared.purpose,
        "decision": prepared.decision, "detail": prepared.detail_json, "leaf": leaf})


def test_an_event_inserted_in_the_middle_is_named(log, ctx, verifier):
    log.execute(text("UPDATE audit_event SET idx = -idx - 1 WHERE idx >= 20"))
    log.execute(text("UPDATE audit_event SET idx = -idx WHERE idx < 0"))
    log.execute(text("UPDATE audit_sequence SET next_index = next_index + 1"))
    _forge(log, 20, AuditEvent("access.grant.approve", "employee", "E-9", customer_id="C-0020"))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (20, "moved"), first
    assert "stored at 21 was logged as event 20" in first.message


def test_an_event_appended_behind_the_logs_back_is_named(log, ctx, verifier):
    _forge(log, 43, AuditEvent("access.read", "employee", "E-9", customer_id="C-0001"))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (43, "extra"), first


def test_a_rewrite_that_recomputes_every_stored_hash_is_caught_by_the_checkpoints(log, ctx, verifier):
    """The attacker edits event 21, then recomputes its leaf hash, the stored tree and its head."""
    _set(log, 21, customer_id="C-9999")
    leaf = recompute_leaf((21, *_row(log, 21)[:-1]))
    _set(log, 21, leaf_hash=leaf)
    log.execute(text("DELETE FROM audit_node"))
    log.execute(text("UPDATE audit_tree SET size = 0, frontier = :f"), {"f": b""})
    from ombud.audit import tree

    tree.integrate(log)
    report = _verify(log, ctx, verifier)
    kinds = {p.kind for p in report.problems}
    assert kinds <= {"checkpoint", "consistency"}, report.problems
    first = report.first_problem
    # The first checkpoint (16) still matches, so the change is in 16..39, and no finer from the store alone.
    assert (first.kind, first.index, first.last) == ("checkpoint", 16, 39), first


def test_a_changed_stored_tree_node_is_named(log, ctx, verifier):
    node = log.execute(text("SELECT hash FROM audit_node WHERE level = 2 AND idx = 3")).scalar_one()
    log.execute(text("UPDATE audit_node SET hash = :h WHERE level = 2 AND idx = 3"), {"h": _flip(bytes(node))})
    first = _verify(log, ctx, verifier).first_problem
    assert (first.kind, first.index, first.last) == ("node", 12, 15), first


def test_a_changed_checkpoint_record_or_signature_is_caught(log, ctx, verifier):
    log.execute(text("UPDATE audit_checkpoint SET root_hash = :r WHERE tree_size = 16"), {"r": bytes(32)})
    assert "differ from its signed note" in _verify(log, ctx, verifier).first_problem.message
    note = log.execute(text("SELECT note FROM audit_checkpoint WHERE tree_size = 40")).scalar_one()
    log.execute(text("UPDATE audit_checkpoint SET note = :n WHERE tree_size = 40"),
                {"n": note.replace("\n40\n", "\n41\n")})
    report = _verify(log, ctx, verifier)
    assert any(p.kind == "signature" and "does not verify" in p.message for p in report.problems)
    assert not check_latest(log, [verifier], ctx.settings.audit_origin).ok


def test_a_checkpoint_signed_by_another_key_is_not_trusted(log, ctx, verifier):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    intruder = Signer(ctx.settings.audit_key_name, Ed25519PrivateKey.generate())
    note = log.execute(text("SELECT note FROM audit_checkpoint WHERE tree_size = 40")).scalar_one()
    forged = intruder.sign(note[: note.rfind("\n\n") + 1])
    log.execute(text("UPDATE audit_checkpoint SET note = :n WHERE tree_size = 40"), {"n": forged})
    report = _verify(log, ctx, verifier)
    assert any("no trusted key" in p.message for p in report.problems)
    assert _verify(log, ctx, verifier).ok is False
    # ... unless that key is trusted too (e.g. the log's previous signing key).
    assert verify_log(log, [verifier, intruder.verifier], ctx.settings.audit_origin).ok


def test_published_checkpoints_catch_deleted_or_rewritten_stored_ones(log, ctx, verifier):
    published = [c.note for c in checkpoints.list_checkpoints(log)]
    assert _verify(log, ctx, verifier, published=published).ok
    # The attacker rewrites event 21 and every hash, deletes the stored checkpoint 40 and signs... nothing: no key.
    _set(log, 21, customer_id="C-9999")
    _set(log, 21, leaf_hash=recompute_leaf((21, *_row(log, 21)[:-1])))
    log.execute(text("DELETE FROM audit_checkpoint WHERE tree_size = 40"))
    report = _verify(log, ctx, verifier, published=published)
    messages = " | ".join(p.message for p in report.problems)
    assert "published checkpoint of size 40 is not in the store" in messages
    assert report.first_problem.index <= 21 <= report.first_problem.last


def test_a_changed_sequence_head_is_caught(log, ctx, verifier):
    log.execute(text("UPDATE audit_sequence SET next_index = 50"))
    first = _verify(log, ctx, verifier).first_problem
    assert (first.index, first.kind) == (43, "missing"), first


def test_an_event_forged_below_index_zero_is_named(log, ctx, verifier):
    log.execute(text(f"INSERT INTO audit_event (idx, {COLUMNS}, leaf_hash) SELECT -1, {COLUMNS}, leaf_hash "
                     "FROM audit_event WHERE idx = 0"))
    report = _verify(log, ctx, verifier)
    assert not report.ok
    first = report.first_problem
    assert (first.index, first.kind) == (-1, "extra"), first
    assert "-1" in first.message


@pytest.mark.parametrize(("level", "idx"), [(1, 21), (1, -1), (0, 3), (6, 0), (3, 5)])
def test_a_tree_node_stored_outside_the_tree_is_caught(log, ctx, verifier, level, idx):
    """Integration stores exactly the complete subtrees of the tree (40 leaves here); anything else is foreign."""
    log.execute(text("INSERT INTO audit_node (level, idx, hash) VALUES (:l, :i, :h)"),
                {"l": level, "i": idx, "h": bytes(32)})
    report = _verify(log, ctx, verifier)
    assert [(p.kind, p.index) for p in report.problems] == [("node", None)], report.problems
    assert "1 tree node(s) outside the tree of 40 events" in report.problems[0].message
