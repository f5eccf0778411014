"""Audit events: the canonical leaf encoding (fixed forever for version 1), its checks, and pinning."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ombud.audit import merkle
from ombud.audit.events import AuditEvent, decode_leaf, detail_json, fields_json, pinned, prepare
from ombud.errors import InvalidInput

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

GOLDEN = AuditEvent(
    "access.read", "employee", "E1001", "C-000123", "case", "123", ("phone", "email"), "case:123", "allow",
    {"grant": 45, "masked": ["ssn"], "break_glass": False, "note": None},
    datetime(2026, 11, 23, 4, 5, 6, 789012, tzinfo=UTC),
)


def _spec_encoding(index, at_us, texts):
    """The version-1 encoding written from docs/audit-log.md, independently of the implementation."""
    out = struct.pack(">BQq", 1, index, at_us)
    for value in texts:
        if value is None:
            out += b"\xff\xff\xff\xff"
        else:
            raw = value.encode("utf-8")
            out += struct.pack(">I", len(raw)) + raw
    return out


def test_the_version_1_encoding_is_frozen():
    data = prepare(GOLDEN, NOW).leaf_data(42)
    at_us = 1795406706789012  # 2026-11-23T04:05:06.789012Z
    expected = _spec_encoding(42, at_us, [
        "access.read", "employee", "E1001", "C-000123", "case", "123", '["email","phone"]', "case:123", "allow",
        '{"break_glass":false,"grant":45,"masked":["ssn"],"note":null}',
    ])
    assert data == expected
    # These hashes are in docs/audit-log.md; a change here breaks every signed checkpoint ever published.
    assert merkle.leaf_hash(data).hex() == "a7a984a388bff75ae74903c1f31b3e6c0e4f972cc5bf177ac068b9411df81762"
    minimal = prepare(AuditEvent("staff.sign_in", at=datetime(2026, 11, 23, tzinfo=UTC)), NOW).leaf_data(0)
    assert merkle.leaf_hash(minimal).hex() == "51afcec07e0e5ee04d7fb7baf45eee645149b4cc58c55c425788699fbb4ae307"


def test_decode_gives_back_what_was_encoded():
    decoded = decode_leaf(prepare(GOLDEN, NOW).leaf_data(7))
    assert decoded["index"] == 7
    assert decoded["at_us"] == 1795406706789012
    assert decoded["action"] == "access.read" and decoded["actor_id"] == "E1001"
    assert decoded["fields"] == ("email", "phone")
    assert decoded["detail"] == {"grant": 45, "masked": ["ssn"], "break_glass": False, "note": None}
    with pytest.raises(ValueError):
        decode_leaf(prepare(GOLDEN, NOW).leaf_data(7) + b"x")
    with pytest.raises(ValueError):
        decode_leaf(b"\x02" + bytes(20))


def test_time_defaults_to_now_and_is_kept_in_utc():
    assert prepare(AuditEvent("x.y"), NOW).at == NOW
    eastern = datetime(2026, 11, 23, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    prepared = prepare(AuditEvent("x.y", at=eastern), NOW)
    assert prepared.at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC) and prepared.at.tzinfo is UTC


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).filter(
    lambda s: "@" not in s and "-" not in s
)
_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), _text, st.lists(_text, max_size=4)
)


@given(st.dictionaries(st.from_regex(r"[A-Za-z0-9_.]{1,12}", fullmatch=True), _values, max_size=6))
def test_detail_json_is_canonical_json(detail):
    text = detail_json(detail)
    assert text == json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(text) == detail


@given(st.lists(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), max_size=6))
def test_fields_are_a_sorted_set(fields):
    assert json.loads(fields_json(fields)) == sorted(set(fields))


@given(
    st.integers(0, 2**40), st.sampled_from(["employee", "system", "victim", "customer", "agency"]),
    st.one_of(st.none(), _text), st.one_of(st.none(), _text), st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
    st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), _values, max_size=4),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
)
def test_any_event_round_trips_through_its_leaf_data(index, actor_type, actor_id, purpose, fields, detail, at):
    event = AuditEvent("some.action", actor_type, actor_id, purpose=purpose, fields=tuple(fields), detail=detail, at=at)
    decoded = decode_leaf(prepare(event, NOW).leaf_data(index))
    assert decoded["index"] == index
    assert decoded["at_us"] == (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert decoded["actor_type"] == actor_type and decoded["actor_id"] == actor_id and decoded["purpose"] == purpose
    assert decoded["fields"] == tuple(sorted(set(fields))) and decoded["detail"] == detail


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (AuditEvent("Access Read"), "action"),
        (AuditEvent(""), "action"),
        (AuditEvent("a" * 101), "action"),
        (AuditEvent("x.y", actor_type="robot"), "actor_type"),
        (AuditEvent("x.y", customer_id="C" * 65), "customer_id"),
        (AuditEvent("x.y", purpose=123), "purpose"),  # type: ignore[arg-type]
        (AuditEvent("x.y", fields=("",)), "fields"),
        (AuditEvent("x.y", fields=(["email"],)), "fields"),  # type: ignore[arg-type]
        (AuditEvent("x.y", detail={"bad key": 1}), "detail"),
        (AuditEvent("x.y", detail={"n": 1.5}), "detail.n"),
        (AuditEvent("x.y", detail={"n": 2**60}), "detail.n"),
        (AuditEvent("x.y", detail={"n": {"nested": 1}}), "detail.n"),
        (AuditEvent("x.y", detail={"n": [1, 2]}), "detail.n"),
        (AuditEvent("x.y", at=datetime(2026, 1, 1)), "at"),  # naive on purpose
        (AuditEvent("x.y", at=datetime(1969, 12, 31, tzinfo=UTC)), "at"),
        (AuditEvent("x.y", subject_id="\ud800"), "detail"),
    ],
)
def test_bad_events_are_refused_naming_the_field(event, field):
    with pytest.raises(InvalidInput) as caught:
        prepare(event, NOW)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "event",
    [
        AuditEvent("access.read", customer_id="jane.doe@example.com"),
        AuditEvent("access.read", detail={"who": "mail jane@example.com"}),
        AuditEvent("access.read", detail={"list": ["ok", "078-05-1120"]}),
        AuditEvent("access.read", subject_id="078-05-1120"),
        AuditEvent("access.read", fields=("x@example.com",)),
    ],
)
def test_personal_data_is_kept_out_of_the_log(event):
    with pytest.raises(InvalidInput, match=r"personal data|email"):
        prepare(event, NOW)


def test_a_pinned_value_is_a_keyed_hash_not_the_value():
    key = bytes(32)
    pin = pinned(key, "email", "jane.doe@example.com")
    assert pin.startswith("kh:email:") and "jane" not in pin and len(pin) == len("kh:email:") + 32
    assert pin == pinned(key, "email", "jane.doe@example.com")
    assert pin != pinned(bytes([1]) * 32, "email", "jane.doe@example.com")
    assert pin != pinned(key, "phone", "jane.doe@example.com")
    prepare(AuditEvent("victim_request.received", detail={"claimant": pin}), NOW)  # accepted
