"""Appending to the log and reading it back, in the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from auditutil import insert_stray_event
from sqlalchemy import func, select, text

from ombud.audit import merkle, service
from ombud.audit.events import AuditEvent
from ombud.audit.models import AuditEntry, AuditSequence
from ombud.clock import FrozenClock, use_clock
from ombud.errors import InvalidInput, NotFound

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _read(customer="C-1", actor="E-1", **kw):
    return AuditEvent("access.read", "employee", actor, customer, fields=("email",), purpose="case:1", decision="allow",
                      **kw)


def test_append_returns_the_next_leaf_index_and_stores_the_leaf(session):
    with use_clock(FrozenClock(T0)):
        first = service.append_event(session, _read(detail={"grant": 7}))
        rest = service.append_events(session, [_read(), AuditEvent("staff.sign_in", "employee", "E-2")])
    assert (first, rest) == (0, [1, 2])
    assert service.log_size(session) == 3
    record = service.get_event(session, 0)
    assert record.at == T0 and record.detail == {"grant": 7} and record.fields == ("email",)
    assert record.leaf_hash == merkle.leaf_hash(record.leaf_data())
    row = session.get(AuditEntry, 0)
    assert json.loads(row.detail) == {"grant": 7} and row.fields == '["email"]'


def test_append_flushes_without_committing(session):
    service.append_event(session, _read())
    session.rollback()
    assert service.log_size(session) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_rolled_back_append_leaves_no_trace_and_the_sequence_continues(session):
    service.append_event(session, _read())
    savepoint = session.begin_nested()
    service.append_events(session, [_read(), _read()])  # the "crash": this unit of work never commits
    assert service.log_size(session) == 3
    savepoint.rollback()
    assert service.log_size(session) == 1
    assert session.scalar(select(func.max(AuditEntry.idx))) == 0
    assert service.append_event(session, _read()) == 1  # no gap where the lost events were


def test_a_failed_insert_gives_the_indexes_back(session):
    service.append_event(session, _read())
    # A stray row where the next event would go (only tampering makes one): the append fails cleanly.
    insert_stray_event(session, 1, T0)
    savepoint = session.begin_nested()
    with pytest.raises(Exception):  # noqa: B017 - the driver's integrity error
        service.append_event(session, _read())
    savepoint.rollback()
    assert session.scalar(select(AuditSequence.next_index)) == 1


def test_invalid_events_write_nothing(session):
    service.append_event(session, _read())
    with pytest.raises(InvalidInput):
        service.append_events(session, [_read(), AuditEvent("Bad Action")])
    assert service.log_size(session) == 1
    assert service.append_events(session, []) == []


def test_list_filters_and_pages(session):
    clock = FrozenClock(T0)
    with use_clock(clock):
        for i in range(6):
            service.append_event(session, _read(customer=f"C-{i % 2}", actor=f"E-{i % 3}"))
            clock.advance(timedelta(minutes=1))
        service.append_event(session, AuditEvent("accessory.added"))
        service.append_event(session, AuditEvent("access", decision="deny"))
    assert [r.index for r in service.list_events(session, customer_id="C-1")] == [1, 3, 5]
    assert [r.index for r in service.list_events(session, actor_id="E-0")] == [0, 3]
    assert [r.index for r in service.list_events(session, action_prefix="access")] == [0, 1, 2, 3, 4, 5, 7]
    assert [r.index for r in service.list_events(session, action_prefix="access.read", after_index=3)] == [4, 5]
    window = service.list_events(session, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [r.index for r in window] == [2, 3]
    assert [r.index for r in service.list_events(session, limit=2, newest_first=True)] == [7, 6]
    assert [r.index for r in service.list_events(session, before_index=2)] == [0, 1]
    with pytest.raises(InvalidInput):
        service.list_events(session, limit=0)


def test_action_prefix_escapes_like_wildcards(session):
    service.append_event(session, AuditEvent("a_b.c"))
    service.append_event(session, AuditEvent("axb.c"))
    assert [r.action for r in service.list_events(session, action_prefix="a_b")] == ["a_b.c"]


def test_unknown_event_is_not_found(session):
    with pytest.raises(NotFound):
        service.get_event(session, 99)


def test_a_missing_sequence_row_is_recreated_where_the_events_end(session):
    service.append_events(session, [_read(), _read()])
    session.execute(text("DELETE FROM audit_sequence"))
    assert service.append_event(session, _read()) == 2
    assert service.log_size(session) == 3
