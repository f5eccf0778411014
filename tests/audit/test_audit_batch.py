"""The batched append path: prepare_many is prepare, event for event, and append_events stores what
append_event would (executemany on SQLite, a binary COPY on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from auditutil import insert_stray_event
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from ombud.audit import batch, service
from ombud.audit.batch import prepare_many
from ombud.audit.events import AuditEvent, detail_json, prepare
from ombud.audit.models import AuditSequence
from ombud.audit.verify import recompute_leaf
from ombud.clock import FrozenClock, use_clock
from ombud.errors import InvalidInput

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

# Values that recur, values that do not, and values prepare refuses or handles the unusual way.
_texts = st.one_of(
    st.none(),
    st.sampled_from(["E-1", "C-0001", "case", "case:7", "allow", "grant:45", "x" * 100, "x" * 101, "Ünïcode ✓"]),
    st.text(max_size=12),
    st.sampled_from(["jane@example.com", "078-05-1120", "\ud800", 7, b"bytes"]),
)
_fields = st.one_of(
    st.sampled_from([(), ("email",), ("email", "phone"), ("phone", "email", "phone"), "email", ["email"], ("",),
                     ("a" * 65,), (["x"],), ("x@example.com",)]),
    st.lists(st.sampled_from(["email", "phone", "ssn", "address"]), max_size=3).map(tuple),
)
_details = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"grant": st.integers(0, 5)}),
    st.dictionaries(st.sampled_from(["a", "b.c", "bad key"]),
                    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.just(2**60), st.just(1.5),
                              st.text(max_size=5), st.lists(st.sampled_from(["x", "y"]), max_size=2)),
                    max_size=3),
)
_times = st.one_of(
    st.none(),
    st.just(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    st.just(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))),
    st.just(datetime(2026, 1, 2)),  # naive: refused
    st.just(datetime(1969, 12, 31, tzinfo=UTC)),  # before 1970: refused
)
_events = st.builds(
    AuditEvent,
    action=st.sampled_from(["access.read", "access.grant.approve", "Bad Action", "", "a" * 101, 5]),
    actor_type=st.sampled_from(["employee", "system", "robot"]),
    actor_id=_texts, customer_id=_texts, subject_type=_texts, subject_id=_texts, fields=_fields, purpose=_texts,
    decision=_texts, detail=_details, at=_times,
)


def _outcome(run):
    try:
        return run()
    except InvalidInput as exc:
        return ("refused", exc.field, str(exc))


@settings(max_examples=100, deadline=None)
@given(st.lists(_events, max_size=8))
def test_prepare_many_is_prepare_event_for_event(events):
    assert _outcome(lambda: prepare_many(events, NOW)) == _outcome(lambda: [prepare(e, NOW) for e in events])


@settings(max_examples=30, deadline=None)
@given(st.lists(_events, max_size=8), st.sampled_from([NOW, NOW.astimezone(timezone(timedelta(hours=2)))]))
def test_prepare_many_handles_any_clock_as_prepare_does(events, now):
    assert _outcome(lambda: prepare_many(events, now)) == _outcome(lambda: [prepare(e, now) for e in events])


_plain_texts = st.one_of(st.none(), st.sampled_from(["E-1", "C-0001", "case", "case:7", "Ünïcode ✓", "x" * 32]),
                        st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(
                            lambda t: "@" not in t and "-" not in t))
_plain_events = st.builds(
    AuditEvent,
    action=st.sampled_from(["access.read", "access.grant.approve", "staff.sign_in"]),
    actor_type=st.sampled_from(["employee", "system", "victim"]),
    actor_id=_plain_texts, customer_id=st.one_of(st.none(), st.sampled_from(["C-0001", "A000123", "acct_9"])),
    subject_type=_plain_texts, subject_id=_plain_texts,
    fields=st.lists(st.sampled_from(["email", "phone", "ssn"]), max_size=3).map(tuple), purpose=_plain_texts,
    decision=_plain_texts, detail=st.one_of(st.just({}), st.fixed_dictionaries({"grant": st.integers(0, 5)})),
    at=st.one_of(st.none(), st.datetimes(min_value=datetime(1970, 1, 2), timezones=st.just(UTC))),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_plain_events, max_size=8))
def test_plain_events_take_the_batch_path_and_come_out_the_same(events):
    exact = [prepare(e, NOW) for e in events]
    fallbacks = []
    original = batch.prepare
    batch.prepare = lambda event, now: fallbacks.append(event) or original(event, now)  # type: ignore[assignment]
    try:
        assert prepare_many(events, NOW) == exact
    finally:
        batch.prepare = original
    assert fallbacks == []


def _event(i):
    return AuditEvent(
        "access.read", "employee", f"E-{i % 3}", customer_id=f"C-{i:04d}", subject_type="case", subject_id=str(i % 5),
        fields=("email", "phone")[: 1 + i % 2], purpose=f"case:{i % 5}", decision=("allow", "deny")[i % 2],
        detail={"grant": i, "masked": ["ssn"]} if i % 3 else {},
        at=None if i % 4 else datetime(2026, 11, 23, 8, 0, i, tzinfo=timezone(timedelta(hours=-5))),
    )


_COLUMNS = ("idx, at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, purpose, decision, "
            "detail, leaf_hash")


def _rows(session):
    return [tuple(r) for r in session.execute(text(f"SELECT {_COLUMNS} FROM audit_event ORDER BY idx"))]


def test_a_batch_stores_exactly_what_single_appends_store(session):
    events = [_event(i) for i in range(40)]
    with use_clock(FrozenClock(NOW)):
        savepoint = session.begin_nested()
        for event in events:
            service.append_event(session, event)
        singles = _rows(session)
        savepoint.rollback()
        assert service.append_events(session, events) == list(range(40))
    batched = _rows(session)
    assert batched == singles
    assert all(recompute_leaf(row) == bytes(row[12]) for row in batched)
    assert service.get_event(session, 0).at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert service.get_event(session, 1).at == NOW
    assert session.scalar(select(AuditSequence.next_index)) == 40


def test_batches_continue_the_sequence(session):
    assert service.append_events(session, [_event(0)]) == [0]
    assert service.append_events(session, [_event(i) for i in range(1, 4)]) == [1, 2, 3]
    assert service.append_event(session, _event(4)) == 4
    assert service.append_events(session, [_event(i) for i in range(5, 9)]) == [5, 6, 7, 8]
    assert [row[0] for row in _rows(session)] == list(range(9))


def test_a_failed_batch_gives_the_indexes_back(session):
    service.append_event(session, _event(0))
    insert_stray_event(session, 3, NOW)
    savepoint = session.begin_nested()
    with pytest.raises(Exception):  # noqa: B017 - the driver's integrity error
        service.append_events(session, [_event(i) for i in range(1, 6)])
    savepoint.rollback()
    assert session.scalar(select(AuditSequence.next_index)) == 1


def test_a_bad_event_anywhere_in_a_batch_writes_nothing(session):
    events = [_event(i) for i in range(10)]
    events[7] = AuditEvent("access.read", customer_id="jane@example.com")
    with pytest.raises(InvalidInput) as caught:
        service.append_events(session, events)
    assert caught.value.field == "customer_id"
    assert _rows(session) == []


_fixed_details = st.dictionaries(
    st.sampled_from(["team", "region", "reason", "policy_ids", "classes_allowed", "a.b", "z", "reads"]),
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=6),
              st.lists(st.sampled_from(["contact", "x-y", "jane@example.com"]), max_size=2),
              st.sampled_from(["jane@example.com", "078-05-1120", "grant:4"])),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(_fixed_details, st.sampled_from(["reads_today", "a", "zz", "m"]),
       st.one_of(st.integers(-(2**53) + 1, 2**53 - 1), st.just(2**60), st.just(True)))
def test_a_filled_detail_template_is_prepared_exactly_as_its_plain_detail(fixed, slot, value):
    fixed = {k: v for k, v in fixed.items() if k != slot}
    try:
        template = batch.DetailTemplate(fixed, slot)
    except InvalidInput as exc:  # what the template refuses, prepare refuses with the same words
        with pytest.raises(InvalidInput) as plain:
            prepare(AuditEvent(action="access.read", detail={**fixed, slot: 0}), NOW)
        assert (plain.value.field, str(plain.value)) == (exc.field, str(exc))
        return
    filled = template.fill(value)
    if type(filled) is batch.CanonicalDetail:
        assert filled.canonical == detail_json({**fixed, slot: value})
        with pytest.raises(TypeError):
            filled[slot] = 1
    else:  # not a safe integer: a plain detail, decided by the usual checks
        assert detail_json(filled) == detail_json({**fixed, slot: value})
    event = AuditEvent(action="access.read", actor_type="employee", actor_id="E-1", detail=filled)
    plain = AuditEvent(action="access.read", actor_type="employee", actor_id="E-1",
                       detail={**fixed, slot: value})
    expected = _outcome(lambda: prepare(plain, NOW))
    assert _outcome(lambda: batch.prepare_one(event, NOW)) == expected
    assert _outcome(lambda: prepare_many([event, event], NOW)) == _outcome(lambda: [prepare(plain, NOW)] * 2)
