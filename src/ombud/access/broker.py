"""The access broker: the one road from a staff member to a customer's personal data.

A read names the customer, the fields (or data classes) and the purpose. The broker
1. checks the purpose: an open case about this customer assigned to the employee or their team, a live
   just-in-time grant of theirs for this customer, or their live break-glass for this customer;
2. counts the read against the employee's daily volume (atomically, in the store);
3. asks Cedar, per data class, with the employee's role, standing grants, region, shift and volume in the
   request (policy set pre-parsed, entities cached per employee);
4. loads the fields and masks every value of a denied class (``masking.MASKERS``);
5. writes exactly one audit leaf for the decision — allowed, partly masked or denied — in the caller's
   transaction; that leaf is the decision's only record (reports read it through ``ombud.access.events``).

A refusal is a result, not an exception: the caller commits the transaction so the refusal stays on the
record, then shows the reason (the API answers 403).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from ombud import clock, customer_ids
from ombud.access import breakglass, cases, events, fastpath, grants, guard, purposes, records, trail, versions
from ombud.access.classes import FIELDS, DataClass, classes_of, resolve_fields
from ombud.access.events import READ_ACTION, AccessEvent
from ombud.access.masking import MASKERS, mask_value
from ombud.access.models import AccessProfile, Decision, PurposeKind
from ombud.access.policy import PolicyEngine, Principal, default_engine
from ombud.access.regions import countries_served, customer_country
from ombud.audit.batch import DetailTemplate
from ombud.audit.events import pinned
from ombud.crypto import FieldCipher
from ombud.errors import InvalidInput
from ombud.staff.models import Role

#: Reads per UTC day before the volume guard refuses, by role, unless an access profile says otherwise.
DEFAULT_DAILY_LIMIT: dict[Role, int] = {
    Role.agent: 300,
    Role.privacy_officer: 500,
    Role.security_analyst: 500,
    Role.admin: 100,
}
_AUDIT_DECISION = {Decision.allowed: "allow", Decision.masked: "partial", Decision.denied: "deny"}
_PURPOSE = re.compile(r"\s*(case|grant|break[_-]glass|request)\s*[:#/ ]\s*(\d{1,18})\s*", re.IGNORECASE)


@dataclass(frozen=True)
class PurposeRef:
    """What a read is for: ``case:12``, ``grant:5``, ``break_glass:3``, ``request:7`` (a victim's records
    request, checked by the domain that owns it through ``purposes``); kind ``none`` when not named."""

    kind: PurposeKind
    id: int | None = None
    #: The text form, built once (every read writes it on its record).
    text: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", "none" if self.kind is PurposeKind.none else f"{self.kind.value}:{self.id}")

    def __str__(self) -> str:
        return self.text


def parse_purpose(value: str | PurposeRef | None) -> PurposeRef:
    """A purpose from its text form (``case:12``...); an empty one is kind ``none`` (and will be refused)."""
    if isinstance(value, PurposeRef):
        return value
    if value is None or not str(value).strip():
        return PurposeRef(PurposeKind.none)
    match = _PURPOSE.fullmatch(str(value))
    if not match:
        raise InvalidInput("a purpose is case:<id>, grant:<id>, break_glass:<id> or request:<id>", field="purpose")
    kind = match.group(1).lower().replace("-", "_")
    return PurposeRef(PurposeKind(kind), int(match.group(2)))


@dataclass(slots=True)
class AccessView:
    """What the broker gives back: the (partly masked) fields, or a refusal and its reason."""

    decision: Decision
    customer_id: str
    purpose: str
    fields: dict[str, Any] = field(default_factory=dict)
    masked: tuple[str, ...] = ()
    classes: dict[str, str] = field(default_factory=dict)
    policy_ids: tuple[str, ...] = ()
    reason: str | None = None
    audit_index: int | None = None
    at: datetime | None = None
    #: The input field at fault when the read was refused for malformed input (a probe), else None.
    field: str | None = None

    @property
    def refused(self) -> bool:
        return self.decision is Decision.denied


@dataclass(slots=True)
class _Purpose:
    ref: PurposeRef
    problem: str | None
    case_type: str = ""
    granted: tuple[str, ...] = ()
    case_origin: str = ""
    #: The purpose as the policies see it, when it differs from the kind (a request reads as a victim_request case).
    policy_purpose: str = ""


class Reader(Protocol):
    """Who reads: an ``Employee`` row, or the light ``Caller`` the read endpoint resolves its token to."""

    id: int
    external_id: str
    team: str
    region: str
    role: Role

    @property
    def active(self) -> bool: ...


def principal_of(session: Session, employee: Reader, now: datetime) -> tuple[Principal, int]:
    """The employee as the policies see them, and the local hour of their shift time zone (counts no read)."""
    profile = session.get(AccessProfile, employee.id, populate_existing=True)
    facts = fastpath.ReadFacts(
        reads_today=0, case=None, grant=None, break_glass=None, account_id=None, country=None, plain={},
        profile=None if profile is None else (profile.daily_limit, profile.shift_start, profile.shift_end,
                                              profile.timezone),
        standing=grants.standing_classes(session, employee.id, now),
    )
    return _principal(employee, facts, now)


_PRINCIPALS: dict[tuple[Any, ...], Principal] = {}


def _principal(employee: Reader, facts: fastpath.ReadFacts, now: datetime) -> tuple[Principal, int]:
    profile = facts.profile
    limit = profile[0] if profile and profile[0] is not None else DEFAULT_DAILY_LIMIT.get(employee.role, 100)
    zone = _zone(profile[3]) if profile else None
    local_hour = now.astimezone(zone).hour if zone else now.hour
    shift = (profile[1], profile[2]) if profile else (0, 24)
    key = (employee.id, employee.role, employee.team, employee.region, limit, shift, facts.standing)
    principal = _PRINCIPALS.get(key)
    if principal is None:  # one object per distinct set of facts: the memos' keys compare by identity first
        principal = Principal(
            employee_id=employee.id,
            role=employee.role.value,
            team=employee.team,
            serves=_served(employee.region),
            daily_limit=limit,
            shift_start=shift[0],
            shift_end=shift[1],
            standing=facts.standing,
        )
        if len(_PRINCIPALS) >= 4096:
            _PRINCIPALS.clear()
        _PRINCIPALS[key] = principal
    return principal, local_hour


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=256)
def _served(region: str) -> tuple[str, ...]:
    return countries_served(region)


@lru_cache(maxsize=1024)
def _purpose_of_text(text: str) -> PurposeRef:
    return parse_purpose(text)


def _resolve_purpose(
    session: Session, employee: Reader, ref: PurposeRef, customer_id: str, now: datetime, facts: fastpath.ReadFacts
) -> _Purpose:
    if not employee.active:
        return _Purpose(ref, "the employee has left")
    if ref.kind is PurposeKind.none or ref.id is None:
        return _Purpose(ref, "no purpose: name an open case, a just-in-time grant or a break-glass")
    if ref.kind is PurposeKind.request:
        answer = purposes.check(session, ref.kind, employee, ref.id, customer_id, now)
        return _Purpose(ref, answer.problem, case_type=answer.case_type if answer.problem is None else "",
                        policy_purpose=answer.policy_purpose)
    if ref.kind is PurposeKind.case:
        case = facts.case
        problem = cases.purpose_problem(case, ref.id, employee, customer_id)
        if case is None or problem:
            return _Purpose(ref, problem)
        return _Purpose(ref, None, case_type=case.case_type.value, case_origin=case.origin)
    if ref.kind is PurposeKind.grant:
        grant = facts.grant
        problem = grants.purpose_problem(grant, ref.id, employee, customer_id, now)
        return _Purpose(ref, problem, granted=(grant.data_class,) if grant and not problem else ())
    record = facts.break_glass
    problem = breakglass.purpose_problem(record, ref.id, employee, customer_id, now)
    return _Purpose(ref, problem, granted=tuple(record.classes) if record and not problem else ())


def _apply_masks(
    values: dict[str, Any], names: tuple[str, ...], allowed: dict[DataClass, bool]
) -> tuple[dict[str, Any], list[str]]:
    shown: dict[str, Any] = {}
    masked: list[str] = []
    for name in names:
        spec = FIELDS[name]
        value = values.get(name)
        if spec.parts:
            denied_parts = [(part, cls, kind) for part, (cls, kind) in spec.parts.items() if not allowed[cls]]
            whole = None if allowed[spec.data_class] else MASKERS[spec.data_class].get(spec.kind)
            items = []
            for item in value or []:
                out = dict(item)
                for part, cls, kind in denied_parts:
                    out[part] = MASKERS[cls][kind](item.get(part))
                items.append(whole(out) if whole else out)
            shown[name] = items
            if denied_parts or whole:
                masked.append(name)
        elif allowed[spec.data_class]:
            shown[name] = value
        else:
            shown[name] = mask_value(spec.data_class, spec.kind, value, many=spec.many)
            masked.append(name)
    return shown, masked


_FIELD_SETS: dict[tuple[Any, Any], tuple[tuple[str, ...], tuple[DataClass, ...]]] = {}


def _fields_and_classes(
    fields: list[str] | tuple[str, ...] | None, classes: list[str] | tuple[str, ...] | None
) -> tuple[tuple[str, ...], tuple[DataClass, ...]]:
    """The read's fields and the data classes they touch (the same few requests recur: resolved once)."""
    key = (tuple(fields) if fields else None, tuple(classes) if classes else None)
    try:
        hit = _FIELD_SETS.get(key)
    except TypeError:  # an unhashable element: resolve_fields refuses it below
        hit, key = None, None
    if hit is not None:
        return hit
    names = resolve_fields(fields, classes)
    out = (names, tuple(sorted(classes_of(names))))
    if key is not None:
        if len(_FIELD_SETS) >= 1024:
            _FIELD_SETS.clear()
        _FIELD_SETS[key] = out
    return out


def read(
    session: Session,
    employee: Reader,
    *,
    customer_id: str,
    fields: list[str] | tuple[str, ...] | None = None,
    classes: list[str] | tuple[str, ...] | None = None,
    purpose: str | PurposeRef | None = None,
    engine: PolicyEngine | None = None,
    cipher: FieldCipher | None = None,
    channel: str | None = None,
    operator: str | None = None,
    probe_key: bytes | None = None,
) -> AccessView:
    """Decide and serve one staff read of a customer's fields; exactly one audit leaf, in this transaction.

    ``channel`` (``api``, ``console``, ``cli``) and ``operator`` (who ran a command-line read: the account on the
    machine, as ``user:host``) are written on the record when given, beside the employee the read is for.

    Malformed input (unknown field or class, a purpose that cannot be one) raises InvalidInput before any
    decision. A customer id without the retailer's id shape (a phone, an email... see ombud.customer_ids) is
    never used or recorded as typed: with ``probe_key`` (the identifier hash key) the refused probe is recorded
    by a keyed hash of what was typed and returned refused with ``field="customer_id"``; without, InvalidInput.
    Every decision after that, refusals included, is returned and recorded.
    """
    names, needed = _fields_and_classes(fields, classes)
    ref = _purpose_of_text(purpose) if isinstance(purpose, str) else parse_purpose(purpose)
    typed = customer_id.strip() if isinstance(customer_id, str) else ""
    if len(typed) > 64 or customer_ids.problem(typed) is not None:
        if probe_key is None:
            customer_ids.check(typed)
        return _refused_probe(session, employee, str(customer_id), names, ref, probe_key, channel, operator)
    customer_id = typed
    engine = engine or default_engine()
    versions.ensure_recorded(session, engine)
    now = clock.now()
    db = fastpath.store(session)
    kind, purpose_id = ref.kind, ref.id
    facts = fastpath.read_facts(
        db, employee.id, now, customer_id,
        case_id=purpose_id if kind is PurposeKind.case else None,
        grant_id=purpose_id if kind is PurposeKind.grant else None,
        break_glass_id=purpose_id if kind is PurposeKind.break_glass else None,
    )
    reads_today = facts.reads_today
    resolved = _resolve_purpose(session, employee, ref, customer_id, now, facts)
    problem = resolved.problem
    if problem is None and facts.account_id is None:
        problem = f"no customer {customer_id}"
    view = AccessView(Decision.denied, customer_id, str(ref), reason=problem, at=now)
    if problem is None:
        principal, local_hour = _principal(employee, facts, now)
        context = {
            "purpose": resolved.policy_purpose or kind.value,
            "case_type": resolved.case_type,
            "case_origin": resolved.case_origin,
            "granted": resolved.granted,
            "customer_country": customer_country(facts.country),
            "local_hour": local_hour,
            "reads_today": reads_today,
        }
        decisions = engine.decide(principal, needed, context, customer_id)
        # A closed gate refuses every class with the same guards (PolicyEngine.decide): the first class says which.
        guards = decisions[needed[0]].refused_by if needed else ()
        if guards:
            view.reason = "; ".join(engine.reason(g) for g in guards)
            view.policy_ids = tuple(guards)
        else:
            allowed = {cls: decisions[cls].allowed for cls in needed}
            if fastpath.plain_only(names):
                values = facts.plain
            else:
                with guard.broker_scope():
                    values = records.load(session, facts.account_id, names, cipher)
            view.fields, masked = _apply_masks(values, names, allowed)
            view.masked = tuple(masked)
            view.classes = {cls.value: "allowed" if ok else "masked" for cls, ok in allowed.items()}
            view.policy_ids = tuple(sorted({i for d in decisions.values() for i in d.policy_ids}))
            view.decision = Decision.allowed if all(allowed.values()) else Decision.masked
    # The decision's one record: its audit leaf (reports read it through ombud.access.events).
    view.audit_index = trail.record(
        session, READ_ACTION, employee, customer_id=customer_id,
        subject_type=None if kind is PurposeKind.none else kind.value,
        subject_id=purpose_id, fields=names, purpose=view.purpose, decision=_AUDIT_DECISION[view.decision],
        detail=_detail(view, engine.digest, resolved, employee, channel, operator).fill(reads_today),
        at=now,  # the decision's time, as the view gives it
    )
    return view


_DETAILS: dict[tuple[Any, ...], DetailTemplate] = {}


def _detail(view: AccessView, digest: str, resolved: _Purpose, employee: Reader, channel: str | None,
            operator: str | None) -> DetailTemplate:
    """The leaf detail of a decision, as a template with today's count to fill in.

    Reads by one employee for one kind of purpose mostly share every detail value but the count, so the
    template (checked and encoded once, ``ombud.audit.batch.DetailTemplate``) is kept, keyed on every value.
    """
    team, region = employee.team, employee.region
    key = (view.decision, tuple(view.classes.items()), view.policy_ids, digest, resolved.case_type,
           resolved.case_origin, view.reason, team, region, channel, operator)
    template = _DETAILS.get(key)
    if template is None:
        template = DetailTemplate({
            "classes_allowed": [c for c, s in view.classes.items() if s == "allowed"],
            "classes_masked": [c for c, s in view.classes.items() if s == "masked"],
            "policy_ids": list(view.policy_ids),
            "policy_digest": digest[:16],
            "case_type": resolved.case_type or None,
            "case_origin": resolved.case_origin or None,
            "reason": view.reason,
            "team": team,
            "region": region,
            **({"channel": channel} if channel else {}),
            **({"operator": operator} if operator else {}),
        }, "reads_today")
        if len(_DETAILS) >= 4096:
            _DETAILS.clear()
        _DETAILS[key] = template
    return template


#: The audit action of a read refused because what was typed as the customer id is not one (a phone, an email):
#: not a decision about any customer, so not in the decisions projection; insider analytics read it as a probe.
PROBE_ACTION = "access.probe"


def _refused_probe(
    session: Session, employee: Reader, typed: str, names: tuple[str, ...], ref: PurposeRef, probe_key: bytes,
    channel: str | None, operator: str | None,
) -> AccessView:
    """Record a read refused because its customer id is not one: by a keyed hash of what was typed, never as is."""
    now = clock.now()
    view = AccessView(Decision.denied, "", str(ref), reason=customer_ids.REASON, at=now, field="customer_id")
    view.audit_index = trail.record(
        session, PROBE_ACTION, employee, customer_id=None,
        subject_type=None if ref.kind is PurposeKind.none else ref.kind.value, subject_id=ref.id, fields=names,
        purpose=view.purpose, decision="deny",
        detail={"reason": "malformed customer id", "probe": pinned(probe_key, "customer_id", typed[:1000]),
                **({"channel": channel} if channel else {}), **({"operator": operator} if operator else {})},
    )
    return view


def recent_decisions(
    session: Session, *, limit: int = 50, employee_id: int | None = None, customer_id: str | None = None,
    decision: Decision | None = None,
) -> list[AccessEvent]:
    """The broker's latest decisions, newest first (read from their audit leaves)."""
    return events.recent(session, limit=limit, employee_id=employee_id, customer_id=customer_id, decision=decision)
