"""What the gate's answer can depend on, read from the policies themselves (pure: no database, no web).

Every read asks Cedar the gate question (action ``access`` on the customer) with the volatile context: the
purpose, the customer's country, the employee's local hour and their reads today. The answer is a function of
those inputs and the employee's entity, nothing else (Cedar has no clock and no other state), so equal
questions get equal answers and could be answered from memory — except that ``reads_today`` is different on
every read. The policies shipped use it in exactly one way, ``context.reads_today > principal.daily_limit``
(the volume guard), and when that is the *only* way any policy uses it, two questions that agree on
everything else and on that comparison are the same question to Cedar. This module checks that on the
policies' JSON form (every use of ``context`` in a policy that can apply to the gate must be one of the plain
attributes, or that exact comparison), and builds the memo key. If a policy ever uses the context in any
other way — another comparison, ``context has``, the record as a whole — the check fails and every read asks
Cedar, as before: the memo can only ever repeat an answer Cedar gave to an equivalent question.

Whether a gate policy looks at the customer (``resource``) is read the same way; if one does, the customer is
part of the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Context attributes of the gate that go into the key as they are.
PLAIN_ATTRS = frozenset({"purpose", "customer_country", "local_hour"})
_VAR_CONTEXT = {"Var": "context"}
_READS = {".": {"left": _VAR_CONTEXT, "attr": "reads_today"}}
_LIMIT = {".": {"left": {"Var": "principal"}, "attr": "daily_limit"}}
#: The one use of reads_today the memo understands: the volume guard's comparison.
OVER_LIMIT = {">": {"left": _READS, "right": _LIMIT}}
GATE_ACTION = {"type": "Ombud::Action", "id": "access"}


@dataclass(frozen=True)
class GateShape:
    """Whether the gate's answers may be memoised, and what the key must hold."""

    memo: bool
    uses_resource: bool = False
    why_not: str = ""


def _applies_to_gate(policy: Mapping[str, Any]) -> bool:
    scope = policy.get("action") or {"op": "All"}
    op = scope.get("op")
    if op == "All":
        return True
    if op == "==":
        return scope.get("entity") == GATE_ACTION
    if op == "in":
        entities = scope.get("entities") or ([scope["entity"]] if "entity" in scope else [])
        # An action group could contain the gate action; the shipped schema has none, but stay safe.
        return any(entity == GATE_ACTION or entity.get("type") == "Ombud::Action" for entity in entities)
    return True  # an operator this reader does not know: assume it applies


def _context_uses_understood(node: Any) -> bool:
    """True when every use of ``context`` below is a plain gate attribute or the volume comparison."""
    if isinstance(node, list):
        return all(_context_uses_understood(item) for item in node)
    if not isinstance(node, dict):
        return True
    if node == OVER_LIMIT:
        return True
    if node == _VAR_CONTEXT:  # the context record itself, not one of its attributes
        return False
    dot = node.get(".")
    if isinstance(dot, dict) and dot.get("left") == _VAR_CONTEXT:
        return dot.get("attr") in PLAIN_ATTRS
    return all(_context_uses_understood(value) for value in node.values())


def _mentions_resource(node: Any) -> bool:
    if isinstance(node, list):
        return any(_mentions_resource(item) for item in node)
    if isinstance(node, dict):
        if node == {"Var": "resource"}:
            return True
        return any(_mentions_resource(value) for value in node.values())
    return False


def analyse(est: Mapping[str, Any]) -> GateShape:
    """The gate's shape from the policy set's JSON form (``cedarpy.policies_to_json_str``)."""
    if est.get("templates") or est.get("templateLinks"):
        return GateShape(False, why_not="the policy set has templates")
    uses_resource = False
    for policy_id, policy in (est.get("staticPolicies") or {}).items():
        if not _applies_to_gate(policy):
            continue
        if not _context_uses_understood(policy.get("conditions") or []):
            name = (policy.get("annotations") or {}).get("id", policy_id)
            return GateShape(False, why_not=f"policy {name} uses the gate's context in a way the memo cannot key")
        resource_scope = policy.get("resource") or {"op": "All"}
        if resource_scope.get("op") != "All" or _mentions_resource(policy.get("conditions") or []):
            uses_resource = True
    return GateShape(True, uses_resource=uses_resource)


def key(
    shape: GateShape, principal: Any, context: Mapping[str, Any], customer: str, daily_limit: int
) -> tuple[Any, ...] | None:
    """The memo key of a gate question (None when the gate must be asked every time)."""
    if not shape.memo:
        return None
    reads = context["reads_today"]
    if type(reads) is not int or type(daily_limit) is not int:
        return None
    return (principal, context["purpose"], context["customer_country"], context["local_hour"],
            reads > daily_limit, customer if shape.uses_resource else None)
