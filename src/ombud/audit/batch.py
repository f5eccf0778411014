"""Preparing many audit events at once, for the batched append path; pure, no database.

`prepare_many(events, now)` gives exactly `[prepare(event, now) for event in events]` (the same stored values
and the same canonical bytes, docs/audit-log.md), only cheaper: a batch repeats most of its values (the
action, the actor, the decision, the field set, the purpose of a case), so each distinct value is checked
and encoded once per batch instead of once per event, and the time of events that give none is converted
once. `prepare_one(event, now)` is `prepare(event, now)` for single appends (every brokered read), with the
checked values of earlier events remembered process-wide in bounded tables.

Only the common, plainly valid shapes take this path (text that is exactly `str`, field sets as tuples, times
in UTC). Anything else, and any event that fails a check, is handed to `events.prepare` itself, so the
errors (and the handling of unusual but valid input) are prepare's own, word for word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from ombud import customer_ids
from ombud.audit.events import (
    _ACTION,
    _DETAIL_KEY,
    _NULL,
    ACTOR_TYPES,
    EPOCH,
    MAX_DETAIL_JSON,
    MAX_FIELD_NAME,
    MAX_LENGTHS,
    MAX_SAFE_INT,
    ONE_MICROSECOND,
    AuditEvent,
    DetailValue,
    PreparedEvent,
    _check_detail,
    _check_personal,
    _quote,
    _value_json,
    fields_json,
    prepare,
)
from ombud.errors import InvalidInput

_MAX_ACTION: Final = MAX_LENGTHS["action"]
#: The optional text values in encoding order: (name, column width).
_OPTIONAL: Final = tuple((name, MAX_LENGTHS[name]) for name in (
    "actor_id", "customer_id", "subject_type", "subject_id", "purpose", "decision"
))


class _Unusual(Exception):
    """This event is not of the plain shape the batch path handles; events.prepare decides it."""


def _encoded(value: str) -> bytes:
    data = value.encode()  # UnicodeEncodeError (a lone surrogate) goes to prepare, which names it
    return len(data).to_bytes(4, "big") + data


def _time(at: datetime) -> tuple[int, bytes]:
    """Microseconds since the epoch of a UTC time, and their 8 encoded bytes."""
    at_us = (at - EPOCH) // ONE_MICROSECOND
    if at_us < 0:
        raise _Unusual
    return at_us, at_us.to_bytes(8, "big", signed=True)


class _Batch:
    """The values of one batch already checked and encoded, one table per kind of value."""

    #: Entries in all tables together after which `prepare_one` starts afresh (bounds its memory).
    LIMIT: Final = 8192

    def __init__(self, now: datetime) -> None:
        self.actions: dict[str, bytes] = {}
        self.actor_types: dict[str, bytes] = {}
        self.optional: list[dict[str, bytes]] = [{} for _ in _OPTIONAL]
        self.fields: dict[tuple[str, ...], tuple[str, bytes]] = {(): ("[]", _encoded("[]"))}
        self.detail_keys: dict[str, str] = {}  # a checked detail key and its JSON ("key":)
        self.now = now
        self.now_time: tuple[int, bytes] | None = None
        if now.tzinfo is UTC:
            try:
                self.now_time = _time(now)
            except _Unusual:
                self.now_time = None

    def size(self) -> int:
        return (len(self.actions) + len(self.actor_types) + sum(map(len, self.optional)) + len(self.fields)
                + len(self.detail_keys))

    def action(self, action: object) -> bytes:
        if type(action) is not str:
            raise _Unusual
        encoded = self.actions.get(action)
        if encoded is None:
            if len(action) > _MAX_ACTION or not _ACTION.fullmatch(action):
                raise _Unusual
            encoded = self.actions[action] = _encoded(action)
        return encoded

    def actor_type(self, actor_type: object) -> bytes:
        if type(actor_type) is not str:
            raise _Unusual
        encoded = self.actor_types.get(actor_type)
        if encoded is None:
            if actor_type not in ACTOR_TYPES:
                raise _Unusual
            encoded = self.actor_types[actor_type] = _encoded(actor_type)
        return encoded

    def text(self, slot: int, value: object) -> bytes:
        if value is None:
            return _NULL
        if type(value) is not str:
            raise _Unusual
        seen = self.optional[slot]
        encoded = seen.get(value)
        if encoded is None:
            name, limit = _OPTIONAL[slot]
            if len(value) > limit:
                raise _Unusual
            if "@" in value or "-" in value:
                _check_personal(name, value)  # InvalidInput: prepare raises it again, as the event's error
            if slot == 1 and customer_ids.problem(value) is not None:
                raise _Unusual  # not a customer id: prepare refuses it, naming the field
            encoded = seen[value] = _encoded(value)
        return encoded

    def field_set(self, fields: object) -> tuple[str, bytes]:
        if type(fields) is not tuple:
            raise _Unusual
        found = self.fields.get(fields)  # an unhashable element raises TypeError: unusual
        if found is None:
            for name in fields:
                if type(name) is not str or not name or len(name) > MAX_FIELD_NAME:
                    raise _Unusual
                _check_personal("fields", name)
            text = fields_json(fields)
            found = self.fields[fields] = (text, _encoded(text))
        return found


    def detail(self, detail: object) -> str:
        """The canonical JSON of a detail (what _check_detail and detail_json accept and give), one pass."""
        if type(detail) is not dict:
            raise _Unusual
        keys = self.detail_keys
        members = []
        for key in sorted(detail):  # a key that is not text cannot be sorted with text: TypeError, unusual
            prefix = keys.get(key)
            if prefix is None:
                if type(key) is not str or not _DETAIL_KEY.fullmatch(key):
                    raise _Unusual
                prefix = keys[key] = _quote(key) + ":"
            value = detail[key]
            kind = type(value)
            if kind is str:
                if "@" in value or "-" in value:
                    _check_personal("detail." + key, value)
                members.append(prefix + _quote(value))
            elif kind is int:
                if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
                    raise _Unusual
                members.append(prefix + int.__repr__(value))
            elif value is None:
                members.append(prefix + "null")
            elif value is True:
                members.append(prefix + "true")
            elif value is False:
                members.append(prefix + "false")
            elif kind is list:
                for item in value:
                    if type(item) is not str:
                        raise _Unusual
                    if "@" in item or "-" in item:
                        _check_personal("detail." + key, item)
                members.append(prefix + "[" + ",".join(map(_quote, value)) + "]")
            else:
                raise _Unusual
        text = "{" + ",".join(members) + "}"
        if len(text) > MAX_DETAIL_JSON:
            raise _Unusual
        return text


class CanonicalDetail(dict[str, DetailValue]):
    """An event's detail that carries its canonical JSON (made by ``DetailTemplate.fill``; read-only)."""

    __slots__ = ("canonical",)
    canonical: str

    def _read_only(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise TypeError("a filled audit detail cannot be changed; build a new one")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only  # type: ignore[assignment]


class DetailTemplate:
    """A detail whose values are all fixed but one integer (a counter), checked and encoded once.

    The hot path of the log is the broker's read, whose detail differs from read to read only in a count. A
    template checks the fixed values as ``prepare`` does (InvalidInput for what it would refuse) and keeps the
    canonical JSON before and after the counter; ``fill(n)`` gives the detail with that count and its canonical
    JSON, exactly ``detail_json`` of the same dict (keys sorted; an integer's digits are all that differ, and an
    integer holds no personal data). ``prepare_one`` and ``prepare_many`` use that text instead of encoding the
    detail again; ``prepare`` itself reads the filled detail as the plain mapping it is.
    """

    __slots__ = ("fixed", "head", "slot", "tail")

    def __init__(self, fixed: Mapping[str, DetailValue], slot: str) -> None:
        if slot in fixed:
            raise ValueError(f"the counter {slot!r} is one of the fixed values")
        whole = {**fixed, slot: 0}
        _check_detail(whole)
        keys = sorted(whole)
        at = keys.index(slot)
        before = [_quote(k) + ":" + _value_json(whole[k]) for k in keys[:at]]
        after = [_quote(k) + ":" + _value_json(whole[k]) for k in keys[at + 1:]]
        self.head = "{" + "".join(m + "," for m in before) + _quote(slot) + ":"
        self.tail = "".join("," + m for m in after) + "}"
        if len(self.head) + len(self.tail) + 17 > MAX_DETAIL_JSON:  # 17: the longest safe integer, signed
            raise ValueError("this detail is too long for a template")
        # Lists become tuples: the filled details share these values, and nothing may change them afterwards.
        self.fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in fixed.items()}
        self.slot = slot

    def fill(self, value: int) -> dict[str, DetailValue]:
        """The detail with the counter at ``value`` (a plain dict, checked as usual, when value is not a safe int)."""
        if type(value) is not int or not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return {**self.fixed, self.slot: value}
        out = CanonicalDetail(self.fixed)
        dict.__setitem__(out, self.slot, value)
        out.canonical = self.head + int.__repr__(value) + self.tail
        return out


def _prepare_plain(event: AuditEvent, batch: _Batch, now: datetime | None = None) -> PreparedEvent:
    """`prepare` for an event of the plain shape; raises _Unusual (or InvalidInput) for anything else.

    `now`: the time of an event that gives none, when it is not the batch's own (`prepare_one`).
    """
    action = event.action
    actor_type = event.actor_type
    actor_id, customer_id, subject_type, subject_id = event.actor_id, event.customer_id, event.subject_type, \
        event.subject_id
    purpose, decision = event.purpose, event.decision
    text = batch.text
    parts = [
        b"",  # the time, filled in below
        batch.action(action),
        batch.actor_type(actor_type),
        text(0, actor_id),
        text(1, customer_id),
        text(2, subject_type),
        text(3, subject_id),
        b"",  # the field set
        text(4, purpose),
        text(5, decision),
        b"",  # the detail
    ]
    fields_text, parts[7] = batch.field_set(event.fields)
    detail = event.detail
    if type(detail) is CanonicalDetail:  # checked and encoded by its template
        detail_text = detail.canonical
        parts[10] = _encoded(detail_text)
    elif detail:
        detail_text = batch.detail(detail)
        parts[10] = _encoded(detail_text)
    else:
        detail_text = "{}"
        parts[10] = b"\x00\x00\x00\x02{}"
    at = event.at
    if at is None and now is not None:
        at = now
    if at is None:
        if batch.now_time is None:
            raise _Unusual
        at = batch.now
        at_us, parts[0] = batch.now_time
    elif at.tzinfo is UTC:
        at_us, parts[0] = _time(at)
    else:
        raise _Unusual
    return PreparedEvent(
        at, at_us, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields_text, purpose,
        decision, detail_text, b"".join(parts),
    )


#: The tables `prepare_one` shares between calls. Threads may use it at once: an entry is a pure function of
#: its key, so two threads filling the same entry store the same value, and the time is the caller's own.
_shared = _Batch(datetime(1970, 1, 1, tzinfo=UTC))


def prepare_one(event: AuditEvent, now: datetime) -> PreparedEvent:
    """`prepare(event, now)` (the same result, the same errors), with earlier events' checked values reused."""
    global _shared
    batch = _shared
    if batch.size() > batch.LIMIT:
        batch = _shared = _Batch(now)
    try:
        return _prepare_plain(event, batch, now)
    except (_Unusual, InvalidInput, TypeError, ValueError, AttributeError, UnicodeEncodeError):
        return prepare(event, now)  # the exact path: raises the event's own error, or accepts it


def prepare_many(events: Sequence[AuditEvent], now: datetime) -> list[PreparedEvent]:
    """Check events and reduce them to stored values, as `prepare` does each; raises InvalidInput naming the
    first bad field of the first bad event, before anything is written."""
    batch = _Batch(now)
    out: list[PreparedEvent] = []
    append = out.append
    for event in events:
        try:
            append(_prepare_plain(event, batch))
        except (_Unusual, InvalidInput, TypeError, ValueError, AttributeError, UnicodeEncodeError):
            append(prepare(event, now))  # the exact path: raises the event's own error, or accepts it
    return out
