"""The Cedar policies, table-driven: each role x purpose x data class, the grants, and the guards."""

from __future__ import annotations

import pytest

from ombud.access.classes import DataClass
from ombud.access.models import CaseType
from ombud.access.policy import PolicyEngine, Principal, default_engine
from ombud.errors import ConfigurationError
from ombud.staff.models import Role

C = DataClass
#: Every class a customer read can show: a victim's evidence never comes with a customer's record (evidence.cedar).
ALL = frozenset(DataClass) - {DataClass.evidence}
NAME = frozenset({C.identity_basic})

#: What each role sees for each case type; everything else is masked. Admins see the name only.
EXPECTED: dict[Role, dict[CaseType, frozenset[DataClass]]] = {
    Role.agent: {
        CaseType.support_ticket: NAME | {C.contact, C.address, C.order_history, C.support_notes},
        CaseType.victim_request: NAME | {C.contact, C.address, C.order_history, C.payment, C.login_device,
                                         C.support_notes},
        CaseType.incident: NAME | {C.contact},
        CaseType.insider_investigation: NAME,
    },
    Role.privacy_officer: {
        CaseType.support_ticket: NAME | {C.contact, C.address, C.order_history, C.support_notes},
        CaseType.victim_request: ALL,
        CaseType.incident: NAME | {C.contact, C.address, C.payment, C.government_id},
        CaseType.insider_investigation: NAME | {C.contact, C.order_history, C.support_notes, C.login_device},
    },
    Role.security_analyst: {
        CaseType.support_ticket: NAME,
        CaseType.victim_request: NAME | {C.order_history, C.login_device},
        CaseType.incident: NAME | {C.contact, C.address, C.payment, C.login_device},
        CaseType.insider_investigation: NAME | {C.contact, C.order_history, C.support_notes, C.login_device},
    },
    Role.admin: dict.fromkeys(CaseType, NAME),
}


def principal(role: Role, **kw) -> Principal:
    values = {"employee_id": 7, "role": role.value, "team": "t", "serves": ("US",), "daily_limit": 300,
              "shift_start": 0, "shift_end": 24, "standing": ()}
    values.update(kw)
    return Principal(**values)


def context(**kw):
    values = {"purpose": "case", "case_type": "support_ticket", "granted": [], "customer_country": "US",
              "local_hour": 10, "reads_today": 1}
    values.update(kw)
    return values


CASES = [(role, case_type, cls) for role in Role for case_type in CaseType for cls in DataClass]


CASE_IDS = [f"{r.value}-{t.value}-{c.value}" for r, t, c in CASES]


@pytest.mark.parametrize(("role", "case_type", "cls"), CASES, ids=CASE_IDS)
def test_role_purpose_class_matrix(role, case_type, cls):
    engine = default_engine()
    decided = engine.decide(principal(role), [cls], context(case_type=case_type.value))[cls]
    assert decided.allowed is (cls in EXPECTED[role][case_type])
    assert not decided.errors
    if decided.allowed:
        assert decided.policy_ids, "an allow names the policy that permitted it"
    assert decided.refused_by == ()


@pytest.mark.parametrize("purpose", ["grant", "break_glass"])
@pytest.mark.parametrize("role", list(Role))
def test_grants_and_break_glass_open_exactly_their_classes(role, purpose):
    engine = default_engine()
    decided = engine.decide(principal(role), list(DataClass),
                            context(purpose=purpose, case_type="", granted=["payment"]))
    assert {c for c, d in decided.items() if d.allowed} == {C.identity_basic, C.payment}


def test_standing_grant_adds_its_class_to_cases_only():
    engine = default_engine()
    p = principal(Role.agent, standing=("government_id",))
    assert engine.decide(p, [C.government_id], context())[C.government_id].allowed
    assert engine.decide(p, [C.government_id], context(case_type="incident"))[C.government_id].allowed
    not_a_case = context(purpose="grant", case_type="", granted=["contact"])
    assert not engine.decide(p, [C.government_id], not_a_case)[C.government_id].allowed


def test_daily_volume_guard_refuses_past_the_limit():
    engine = default_engine()
    p = principal(Role.agent, daily_limit=5)
    assert engine.decide(p, [C.contact], context(reads_today=5))[C.contact].allowed
    over = engine.decide(p, [C.contact], context(reads_today=6))[C.contact]
    assert not over.allowed and over.refused_by == ("guard.daily_volume",)
    bg = engine.decide(p, [C.contact], context(purpose="break_glass", granted=["contact"], reads_today=6))
    assert bg[C.contact].refused_by == ("guard.daily_volume",), "break-glass still counts against the limit"


@pytest.mark.parametrize(("start", "end", "hour", "inside"), [
    (9, 17, 9, True), (9, 17, 16, True), (9, 17, 17, False), (9, 17, 3, False),
    (22, 6, 23, True), (22, 6, 2, True), (22, 6, 6, False), (22, 6, 12, False), (0, 24, 23, True),
])
def test_shift_hours_guard(start, end, hour, inside):
    engine = default_engine()
    p = principal(Role.agent, shift_start=start, shift_end=end)
    decided = engine.decide(p, [C.contact], context(local_hour=hour))[C.contact]
    assert decided.allowed is inside
    if not inside:
        assert decided.refused_by == ("guard.shift_hours",)
        glass = engine.decide(p, [C.contact], context(purpose="break_glass", granted=["contact"], local_hour=hour))
        assert glass[C.contact].allowed, "break-glass works off shift"


def test_region_guard():
    engine = default_engine()
    assert not engine.decide(principal(Role.agent, serves=("US",)), [C.contact],
                             context(customer_country="GB"))[C.contact].allowed
    assert engine.decide(principal(Role.agent, serves=("*",)), [C.contact],
                         context(customer_country="GB"))[C.contact].allowed
    assert engine.decide(principal(Role.agent, serves=("US",)), [C.contact],
                         context(purpose="break_glass", case_type="", granted=["contact"],
                                 customer_country="GB"))[C.contact].allowed


def test_policies_are_parsed_once_and_named():
    engine = default_engine()
    assert default_engine() is engine
    ids = [p.id for p in engine.policies.values()]
    assert len(ids) == len(set(ids))
    assert all(p.reason and p.file.endswith(".cedar") for p in engine.policies.values())
    assert len(engine.digest) == 64


def test_a_policy_that_breaks_the_schema_is_refused_at_load(tmp_path):
    source = default_engine().directory
    for f in source.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "extra.cedar").write_text(
        '@id("bad")\npermit (principal, action == Ombud::Action::"read", resource)\n'
        'when { principal.nickname == "x" };\n'
    )
    with pytest.raises(ConfigurationError, match=r"extra\.cedar"):
        PolicyEngine(tmp_path)


def test_a_policy_without_id_or_with_a_duplicate_id_is_refused(tmp_path):
    source = default_engine().directory
    for f in source.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "extra.cedar").write_text('permit (principal, action == Ombud::Action::"read", resource);\n')
    with pytest.raises(ConfigurationError, match="@id"):
        PolicyEngine(tmp_path)
    (tmp_path / "extra.cedar").write_text(
        '@id("any.identity_basic")\npermit (principal, action == Ombud::Action::"read", resource);\n')
    with pytest.raises(ConfigurationError, match="twice"):
        PolicyEngine(tmp_path)


def test_a_changed_policy_file_changes_the_digest(tmp_path):
    source = default_engine().directory
    for f in source.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    before = PolicyEngine(tmp_path).digest
    assert before == default_engine().digest
    guards = tmp_path / "guards.cedar"
    guards.write_text(guards.read_text() + "\n// reviewed\n")
    assert PolicyEngine(tmp_path).digest != before
