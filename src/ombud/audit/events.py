"""Audit events and their canonical byte encoding (the data of a Merkle leaf); pure, no database.

The encoding is specified in docs/audit-log.md and must never change for version 1: a leaf hash signed
into a checkpoint years ago must still be reproducible from the stored columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from ombud import customer_ids
from ombud.crypto import keyed_hash
from ombud.errors import InvalidInput

#: Who can act. "agency" is a law-enforcement agency a victim authorised.
ACTOR_TYPES: Final = frozenset({"employee", "system", "victim", "customer", "agency"})

#: First byte of every leaf's data: the encoding version.
ENCODING_V1: Final = 1

#: A missing (None) text value in the encoding: a length no real value can have.
NULL_LENGTH: Final = 0xFFFFFFFF

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND: Final = timedelta(microseconds=1)

#: Column widths; the encoding has no limits of its own, the store does.
MAX_LENGTHS: Final = {
    "action": 100,
    "actor_type": 16,
    "actor_id": 100,
    "customer_id": 64,
    "subject_type": 32,
    "subject_id": 100,
    "purpose": 200,
    "decision": 32,
}
MAX_FIELD_NAME: Final = 64
MAX_DETAIL_JSON: Final = 4000
MAX_SAFE_INT: Final = 2**53 - 1  # JSON numbers beyond this are not portable (RFC 8785)

_ACTION = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")
_DETAIL_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
# Personal data that must never enter the log; a keyed hash (see `pinned`) is the way to pin such a value.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")

DetailValue = str | int | bool | None | list[str]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing that happened, as the caller describes it; references only, never raw personal data."""

    action: str  # dotted verb, e.g. "access.read", "access.grant.approve", "staff.sign_in"
    actor_type: str = "system"  # "employee" | "system" | "victim" | "customer" | "agency"
    actor_id: str | None = None  # employee external id, or the system component's name
    customer_id: str | None = None  # retail account external id the event is about
    subject_type: str | None = None  # e.g. "case", "grant", "victim_request", "policy"
    subject_id: str | None = None
    fields: tuple[str, ...] = ()  # field names or data classes read/changed
    purpose: str | None = None  # e.g. "case:123", "grant:45", "break_glass:7"
    decision: str | None = None  # "allow" | "deny" | "partial" | other outcome
    detail: Mapping[str, DetailValue] = field(default_factory=dict)  # references only
    at: datetime | None = None  # None: ombud.clock.now() at append


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An event as stored in the log: its leaf index, time and leaf hash included."""

    index: int
    at: datetime
    action: str
    actor_type: str
    actor_id: str | None
    customer_id: str | None
    subject_type: str | None
    subject_id: str | None
    fields: tuple[str, ...]
    purpose: str | None
    decision: str | None
    detail: Mapping[str, DetailValue]
    leaf_hash: bytes

    def leaf_data(self) -> bytes:
        """The canonical bytes of this record (recomputed from its values)."""
        return encode_leaf(
            self.index, to_micros(self.at), self.action, self.actor_type, self.actor_id, self.customer_id,
            self.subject_type, self.subject_id, fields_json(self.fields), self.purpose, self.decision,
            detail_json(self.detail),
        )


@dataclass(slots=True)
class PreparedEvent:
    """An event checked and reduced to the stored column values (everything but its index)."""

    at: datetime
    at_us: int
    action: str
    actor_type: str
    actor_id: str | None
    customer_id: str | None
    subject_type: str | None
    subject_id: str | None
    fields_json: str
    purpose: str | None
    decision: str | None
    detail_json: str
    tail: bytes  # the leaf data after the version byte and the index

    def leaf_data(self, index: int) -> bytes:
        """The canonical bytes of this event at this leaf index."""
        return b"\x01" + index.to_bytes(8, "big") + self.tail


def to_micros(at: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z of an aware datetime."""
    return (at - EPOCH) // ONE_MICROSECOND


def from_micros(at_us: int) -> datetime:
    """The aware UTC datetime of a microsecond timestamp."""
    return EPOCH + timedelta(microseconds=at_us)


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


_NULL: Final = NULL_LENGTH.to_bytes(4, "big")


def _opt(value: str | None) -> bytes:
    return _NULL if value is None else _text(value)


def encode_leaf(
    index: int,
    at_us: int,
    action: str,
    actor_type: str,
    actor_id: str | None,
    customer_id: str | None,
    subject_type: str | None,
    subject_id: str | None,
    fields: str,
    purpose: str | None,
    decision: str | None,
    detail: str,
) -> bytes:
    """Canonical leaf data, version 1 (docs/audit-log.md): fixed-width integers, length-prefixed UTF-8 text."""
    tail = _encode_tail(
        at_us, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, purpose, decision, detail
    )
    return b"\x01" + index.to_bytes(8, "big") + tail


def _encode_tail(
    at_us: int,
    action: str,
    actor_type: str,
    actor_id: str | None,
    customer_id: str | None,
    subject_type: str | None,
    subject_id: str | None,
    fields: str,
    purpose: str | None,
    decision: str | None,
    detail: str,
) -> bytes:
    return b"".join((
        at_us.to_bytes(8, "big", signed=True),
        _text(action),
        _text(actor_type),
        _opt(actor_id),
        _opt(customer_id),
        _opt(subject_type),
        _opt(subject_id),
        _text(fields),
        _opt(purpose),
        _opt(decision),
        _text(detail),
    ))


#: Names of the text values of a version-1 leaf, in encoding order.
TEXT_ORDER: Final = (
    "action", "actor_type", "actor_id", "customer_id", "subject_type", "subject_id",
    "fields", "purpose", "decision", "detail",
)


def decode_leaf(data: bytes) -> dict[str, object]:
    """The values in canonical leaf data; raises ValueError when the bytes are not a version-1 leaf."""
    if len(data) < 17 or data[0] != ENCODING_V1:
        raise ValueError("not a version-1 audit leaf")
    out: dict[str, object] = {
        "index": int.from_bytes(data[1:9], "big"),
        "at_us": int.from_bytes(data[9:17], "big", signed=True),
    }
    pos = 17
    for name in TEXT_ORDER:
        if pos + 4 > len(data):
            raise ValueError(f"leaf data ends before {name}")
        length = int.from_bytes(data[pos : pos + 4], "big")
        pos += 4
        if length == NULL_LENGTH:
            out[name] = None
            continue
        if pos + length > len(data):
            raise ValueError(f"leaf data ends inside {name}")
        out[name] = data[pos : pos + length].decode("utf-8")
        pos += length
    if pos != len(data):
        raise ValueError("trailing bytes after the last value")
    out["fields"] = tuple(json.loads(str(out["fields"])))
    out["detail"] = json.loads(str(out["detail"]))
    return out


_quote = json.encoder.encode_basestring  # the C quoting json.dumps(ensure_ascii=False) uses


def _value_json(value: DetailValue) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int):
        return int.__repr__(value)
    return "[" + ",".join(map(_quote, value)) + "]"


def fields_json(fields: Iterable[str]) -> str:
    """Canonical JSON of a set of field names: sorted, unique (RFC 8785 for a list of strings)."""
    return "[" + ",".join(map(_quote, sorted(set(fields)))) + "]"


def detail_json(detail: Mapping[str, DetailValue]) -> str:
    """Canonical JSON (RFC 8785) of an event's detail: keys sorted, no spaces, UTF-8 as is."""
    # Equal to json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for the
    # value types an event allows (checked in prepare); built by hand because that call is slow.
    return "{" + ",".join(_quote(key) + ":" + _value_json(detail[key]) for key in sorted(detail)) + "}"


def pinned(key: bytes, kind: str, value: str) -> str:
    """A keyed hash that pins a personal value in an event without revealing it ("kh:<kind>:<hex>")."""
    return f"kh:{kind}:{keyed_hash(key, 'audit:' + kind, value)}"


def _check_personal(name: str, value: str) -> None:
    if "@" in value and _EMAIL.search(value):
        raise InvalidInput(
            f"audit event: {name} looks like an email address; the log holds references or keyed hashes "
            "(ombud.audit.events.pinned), never personal data",
            field=name,
        )
    if "-" in value and _SSN.search(value):
        raise InvalidInput(f"audit event: {name} looks like an SSN; the log never holds personal data", field=name)


def _check_detail(detail: Mapping[str, DetailValue]) -> None:
    for key, value in detail.items():
        if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
            raise InvalidInput(f"audit event: detail key {key!r} must be 1-64 of A-Z a-z 0-9 _ . -", field="detail")
        if value is None or isinstance(value, bool):
            continue
        where = "detail." + key
        if isinstance(value, int):
            if abs(value) > MAX_SAFE_INT:
                raise InvalidInput(f"audit event: {where} is beyond +-(2**53-1)", field=where)
        elif isinstance(value, str):
            _check_personal(where, value)
        elif isinstance(value, list | tuple):
            for item in value:
                if not isinstance(item, str):
                    raise InvalidInput(f"audit event: {where} must be a list of text", field=where)
                _check_personal(where, item)
        else:
            raise InvalidInput(
                f"audit event: {where} must be text, an integer, a boolean, null or a list of text", field=where
            )


#: Checked field-name tuples and their canonical JSON: the same few sets recur on every brokered read.
_FIELDS_SEEN: dict[tuple[str, ...], str] = {}

#: The optional text values of an event, with their column widths.
_OPTIONAL: Final = tuple((name, MAX_LENGTHS[name]) for name in (
    "actor_id", "customer_id", "subject_type", "subject_id", "purpose", "decision"
))


def prepare(event: AuditEvent, now: datetime) -> PreparedEvent:
    """Check an event and reduce it to stored values; raises InvalidInput naming the bad field."""
    # Written for speed: this runs on every brokered read.
    action = event.action
    if not isinstance(action, str) or len(action) > MAX_LENGTHS["action"] or not _ACTION.fullmatch(action):
        raise InvalidInput(
            f"audit event: action {action!r} must be a dotted lower-case verb like 'access.read' (at most 100)",
            field="action",
        )
    actor_type = event.actor_type
    if actor_type not in ACTOR_TYPES:
        allowed = ", ".join(sorted(ACTOR_TYPES))
        raise InvalidInput(f"audit event: actor_type must be one of {allowed}", field="actor_type")
    optional = (event.actor_id, event.customer_id, event.subject_type, event.subject_id, event.purpose, event.decision)
    for (name, limit), value in zip(_OPTIONAL, optional, strict=True):
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"audit event: {name} must be text", field=name)
        if len(value) > limit:
            raise InvalidInput(f"audit event: {name} is longer than {limit} characters", field=name)
        if "@" in value or "-" in value:
            _check_personal(name, value)
    if event.customer_id is not None and customer_ids.problem(event.customer_id) is not None:
        # A phone, an email, a name typed as an id: never into the log (a face records a keyed hash instead).
        raise InvalidInput("audit event: customer_id " + customer_ids.REASON, field="customer_id")
    fields = event.fields
    if fields:
        if isinstance(fields, str):
            fields = (fields,)
        try:
            fields_text = _FIELDS_SEEN.get(fields) if isinstance(fields, tuple) else None
        except TypeError:  # an unhashable element: refused just below
            fields_text = None
        if fields_text is None:
            for name in fields:
                if not isinstance(name, str) or not name or len(name) > MAX_FIELD_NAME:
                    raise InvalidInput(
                        f"audit event: field names are 1-{MAX_FIELD_NAME} characters of text", field="fields"
                    )
                _check_personal("fields", name)
            fields_text = fields_json(fields)
            if isinstance(fields, tuple):  # every element checked to be text above, so hashable
                if len(_FIELDS_SEEN) >= 1024:  # a handful of field sets recur; keep the cache small
                    _FIELDS_SEEN.clear()
                _FIELDS_SEEN[fields] = fields_text
    else:
        fields_text = "[]"
    if event.detail:
        _check_detail(event.detail)
        detail = detail_json(event.detail)
        if len(detail) > MAX_DETAIL_JSON:
            raise InvalidInput(
                f"audit event: detail is longer than {MAX_DETAIL_JSON} characters as JSON", field="detail"
            )
    else:
        detail = "{}"
    at = event.at if event.at is not None else now
    if at.tzinfo is None:
        raise InvalidInput("audit event: at must be an aware datetime", field="at")
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    at_us = (at - EPOCH) // ONE_MICROSECOND
    if at_us < 0:
        raise InvalidInput("audit event: at is before 1970", field="at")
    actor_id, customer_id, subject_type, subject_id, purpose, decision = optional
    parts = [at_us.to_bytes(8, "big", signed=True)]
    try:
        for value in (action, actor_type, actor_id, customer_id, subject_type, subject_id, fields_text, purpose,
                      decision, detail):
            if value is None:
                parts.append(_NULL)
            else:
                data = value.encode()
                parts.append(len(data).to_bytes(4, "big"))
                parts.append(data)
    except UnicodeEncodeError as exc:  # a lone surrogate can be neither stored nor hashed
        raise InvalidInput("audit event: text is not valid Unicode", field="detail") from exc
    return PreparedEvent(
        at, at_us, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields_text, purpose,
        decision, detail, b"".join(parts),
    )
