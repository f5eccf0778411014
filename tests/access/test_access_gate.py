"""The gate's memo: read from the policies, it repeats only Cedar's own answers to equivalent questions."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import cedarpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.access import gate
from ombud.access.classes import DataClass
from ombud.access.policy import POLICY_DIR, PolicyEngine, Principal, default_engine
from ombud.staff.models import Role


def _shape(policies: str) -> gate.GateShape:
    return gate.analyse(json.loads(cedarpy.policies_to_json_str(policies)))


def test_the_shipped_policies_allow_the_memo():
    shape = default_engine().gate_shape
    assert shape.memo and not shape.uses_resource, shape.why_not


@pytest.mark.parametrize("condition", [
    "context.reads_today > 5",                                  # another comparison
    "principal.daily_limit < context.reads_today",              # the same meaning, another form
    "context has reads_today",                                  # the record itself
    "context.reads_today > principal.daily_limit + 1",
    'context == {"purpose": "case"}',
])
def test_any_other_use_of_the_context_turns_the_memo_off(condition):
    policy = f'forbid (principal, action == Ombud::Action::"access", resource) when {{ {condition} }};'
    shape = _shape(policy)
    assert not shape.memo and "context" in shape.why_not


def test_the_volume_comparison_and_plain_attributes_keep_it_on():
    policies = """
    forbid (principal, action == Ombud::Action::"access", resource)
      when { context.reads_today > principal.daily_limit && context.purpose != "break_glass" };
    forbid (principal, action, resource) when { context.local_hour > 22 || context.customer_country == "XX" };
    """
    assert _shape(policies).memo


def test_a_gate_policy_about_the_customer_puts_the_customer_in_the_key():
    about_customer = 'forbid (principal, action == Ombud::Action::"access", resource == Ombud::Customer::"C1");'
    about_class = ('permit (principal, action == Ombud::Action::"read", resource) '
                   'when { resource == Ombud::DataClass::"contact" };')
    assert _shape(about_customer).uses_resource
    assert not _shape(about_class).uses_resource
    p = Principal(1, "agent", "t", ("US",), 10, 0, 24)
    ctx = {"purpose": "case", "customer_country": "US", "local_hour": 3, "reads_today": 4}
    assert gate.key(_shape(about_customer), p, ctx, "C1", 10) != gate.key(_shape(about_customer), p, ctx, "C2", 10)
    assert gate.key(_shape(about_class), p, ctx, "C1", 10) == gate.key(_shape(about_class), p, ctx, "C2", 10)


def test_an_engine_whose_policies_defeat_the_memo_asks_cedar_every_time(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, folder)
    guards = folder / "guards.cedar"
    guards.write_text(guards.read_text() + '\n@id("guard.tenth")\n@reason("every tenth read")\n'
                      'forbid (principal, action == Ombud::Action::"access", resource)\n'
                      "when { context.reads_today % 10 == 0 };\n")
    try:
        engine = PolicyEngine(folder)
    except Exception:  # this Cedar has no `%`: use a comparison the memo cannot key instead
        guards.write_text(guards.read_text().rsplit('@id("guard.tenth")', 1)[0] + '@id("guard.tenth")\n'
                          '@reason("a fixed limit")\nforbid (principal, action == Ombud::Action::"access", '
                          "resource)\nwhen { context.reads_today > 9 };\n")
        engine = PolicyEngine(folder)
    assert not engine.gate_shape.memo
    p = Principal(1, "agent", "t", ("US",), 300, 0, 24)
    base = {"purpose": "case", "case_type": "support_ticket", "granted": [], "customer_country": "US",
            "local_hour": 10}
    assert engine.decide(p, [DataClass.contact], {**base, "reads_today": 9})[DataClass.contact].allowed
    refused = engine.decide(p, [DataClass.contact], {**base, "reads_today": 10})[DataClass.contact]
    assert not refused.allowed and refused.refused_by == ("guard.tenth",)


MEMO = default_engine()
#: The same policies with the gate memo off: every answer straight from Cedar.
DIRECT = PolicyEngine()
DIRECT.gate_shape = replace(DIRECT.gate_shape, memo=False)

principals = st.builds(
    Principal,
    employee_id=st.integers(1, 4),
    role=st.sampled_from([r.value for r in Role]),
    team=st.sampled_from(["a", "b"]),
    serves=st.sampled_from([("US",), ("*",), ("GB", "FR"), ()]),
    daily_limit=st.integers(0, 6),
    shift_start=st.integers(0, 24),
    shift_end=st.integers(0, 24),
    standing=st.sampled_from([(), ("payment",)]),
)
contexts = st.fixed_dictionaries({
    "purpose": st.sampled_from(["case", "grant", "break_glass"]),
    "case_type": st.sampled_from(["support_ticket", "victim_request", ""]),
    "granted": st.sampled_from([[], ["contact"]]),
    "customer_country": st.sampled_from(["US", "GB", "FR"]),
    "local_hour": st.integers(0, 23),
    "reads_today": st.integers(0, 9),
})


@settings(max_examples=300, deadline=None)
@given(principal=principals, context=contexts, customer=st.sampled_from(["C1", "C2"]),
       classes=st.lists(st.sampled_from(list(DataClass)), min_size=1, max_size=3, unique=True))
def test_a_memoised_decision_is_always_the_one_cedar_gives(principal, context, customer, classes):
    assert MEMO.decide(principal, classes, context, customer) == DIRECT.decide(principal, classes, context, customer)
