"""The Cedar policies: loaded from the package, validated against the schema and parsed once per process.

Nothing here touches the database. ``PolicyEngine`` holds the parsed ``cedarpy.PolicySet`` and ``Schema``,
the static entities (data classes, roles), and a small cache of per-employee entity sets, so a decision
costs one batched Cedar evaluation and no parsing beyond the request itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from threading import Lock
from typing import Any

import cedarpy

from ombud.access import gate
from ombud.access.classes import SENSITIVE, DataClass
from ombud.errors import ConfigurationError
from ombud.staff.models import Role

POLICY_DIR = Path(__file__).parent / "policies"
SCHEMA_FILE = "schema.cedarschema"
ACTION = {"type": "Ombud::Action", "id": "read"}
GATE = {"type": "Ombud::Action", "id": "access"}
#: Opening one document of a victim's request (``ombud.access.documents``).
OPEN_EVIDENCE = {"type": "Ombud::Action", "id": "open_evidence"}
GATE_CONTEXT = ("purpose", "customer_country", "local_hour", "reads_today")
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class PolicyInfo:
    """One policy of the set: its stable ``@id``, effect, the ``@reason`` shown to people, and its file."""

    id: str
    effect: str
    reason: str
    file: str


@dataclass(frozen=True)
class Principal:
    """What the policies know about an employee; hashable, so equal facts share one cached entity set.

    It is a key of every memo (entities, class answers, gate answers), so its hash is computed once.
    """

    employee_id: int
    role: str
    team: str
    serves: tuple[str, ...]
    daily_limit: int
    shift_start: int
    shift_end: int
    standing: tuple[str, ...] = ()
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((
            self.employee_id, self.role, self.team, self.serves, self.daily_limit, self.shift_start,
            self.shift_end, self.standing,
        )))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class ClassDecision:
    """Cedar's answer for one data class."""

    data_class: DataClass
    allowed: bool
    policy_ids: tuple[str, ...]
    #: The guards (forbid policies) that refused, if any: a guard refusal refuses the read whole.
    refused_by: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass
class PolicyEngine:
    """The parsed policy set and schema, with the entities every decision shares."""

    directory: Path = POLICY_DIR
    schema: cedarpy.Schema = field(init=False)
    policy_set: cedarpy.PolicySet = field(init=False)
    digest: str = field(init=False)
    files: dict[str, str] = field(init=False)
    policies: dict[str, PolicyInfo] = field(init=False)
    by_id: dict[str, PolicyInfo] = field(init=False)

    def __post_init__(self) -> None:
        directory = Path(self.directory)
        schema_path = directory / SCHEMA_FILE
        policy_paths = sorted(directory.glob("*.cedar"))
        if not schema_path.exists() or not policy_paths:
            raise ConfigurationError(f"no Cedar schema or policies in {directory}")
        schema_text = schema_path.read_text(encoding="utf-8")
        try:
            self.schema = cedarpy.Schema.from_str(schema_text)
        except ValueError as exc:
            raise ConfigurationError(f"the Cedar schema {schema_path.name} does not parse: {exc}") from exc
        texts = {path.name: path.read_text(encoding="utf-8") for path in policy_paths}
        self.files = {SCHEMA_FILE: _sha256(schema_text), **{name: _sha256(text) for name, text in texts.items()}}
        self.digest = _sha256(json.dumps(self.files, sort_keys=True))
        self.policies = {}
        combined: list[str] = []
        seen: set[str] = set()
        for name, text in texts.items():
            self._check_file(name, text, seen)
            combined.append(text)
        full_text = "\n".join(combined)
        self.policy_set = cedarpy.PolicySet.from_str(full_text)
        # Positional ids (policy0, policy1...) follow the concatenation order; map them to @id once.
        est_all = json.loads(cedarpy.policies_to_json_str(full_text))
        est = est_all["staticPolicies"]
        #: Whether the gate's answers may be memoised (see ombud.access.gate).
        self.gate_shape = gate.analyse(est_all)
        file_of = _file_of_each_policy(texts)
        for internal_id, policy in est.items():
            annotations = policy.get("annotations") or {}
            self.policies[internal_id] = PolicyInfo(
                id=annotations["id"],
                effect=policy["effect"],
                reason=annotations.get("reason", annotations["id"]),
                file=file_of[annotations["id"]],
            )
        self.by_id = {info.id: info for info in self.policies.values()}
        self._static = _static_entities()
        self._base = cedarpy.Entities.from_json_str(json.dumps(self._static), self.schema)
        self._cache: dict[Principal, cedarpy.Entities] = {}
        self._answers: dict[tuple[Any, DataClass], ClassDecision] = {}
        self._gates: dict[tuple[Any, ...], tuple[bool, tuple[str, ...], tuple[str, ...]]] = {}
        self._lock = Lock()

    def _check_file(self, name: str, text: str, seen: set[str]) -> None:
        try:
            cedarpy.PolicySet.from_str(text)
        except ValueError as exc:
            raise ConfigurationError(f"Cedar policy file {name} does not parse: {exc}") from exc
        result = cedarpy.validate_policies(text, self.schema)
        if not result.validation_passed:
            problems = "; ".join(str(error) for error in result.errors)
            raise ConfigurationError(f"Cedar policy file {name} does not match the schema: {problems}")
        policies = json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"].values()
        for policy in policies:
            policy_id = (policy.get("annotations") or {}).get("id")
            if not policy_id:
                raise ConfigurationError(f"every policy in {name} needs an @id annotation")
            if policy_id in seen:
                raise ConfigurationError(f"policy id {policy_id} appears twice ({name})")
            seen.add(policy_id)

    # --- entities -------------------------------------------------------------------------------------

    def entities_for(self, principal: Principal) -> cedarpy.Entities:
        """The entity set for a decision by this employee (built once per distinct facts, then cached)."""
        cached = self._cache.get(principal)
        if cached is not None:
            return cached
        delta = [
            {
                "uid": {"type": "Ombud::Employee", "id": str(principal.employee_id)},
                "attrs": {
                    "role": principal.role,
                    "team": principal.team,
                    "serves": list(principal.serves),
                    "daily_limit": principal.daily_limit,
                    "shift_start": principal.shift_start,
                    "shift_end": principal.shift_end,
                    "standing": list(principal.standing),
                },
                "parents": [
                    {"type": "Ombud::Role", "id": principal.role},
                    {"type": "Ombud::Team", "id": principal.team},
                ],
            },
            {"uid": {"type": "Ombud::Team", "id": principal.team}, "attrs": {}, "parents": []},
        ]
        entities = self._base.with_added_json_str(json.dumps(delta), self.schema)
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[principal] = entities
        return entities

    # --- decisions ------------------------------------------------------------------------------------

    @staticmethod
    def split_context(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The gate's context (volatile: volume, hour, country) and the classes' context (the purpose only: its
        kind, case type and origin, and what a grant covers)."""
        gate = {k: context[k] for k in GATE_CONTEXT}
        classes = {"purpose": context["purpose"], "case_type": context["case_type"],
                   "case_origin": context.get("case_origin", ""), "granted": sorted(context["granted"])}
        return gate, classes

    @staticmethod
    def requests(
        principal: Principal, classes: Iterable[DataClass], context: Mapping[str, Any], customer: str = "-"
    ) -> list[dict[str, Any]]:
        """The Cedar requests of a decision: the gate, then one per data class."""
        gate, per_class = PolicyEngine.split_context(context)
        who = {"type": "Ombud::Employee", "id": str(principal.employee_id)}
        class_json = json.dumps(per_class, separators=(",", ":"))
        return [
            {"principal": who, "action": GATE, "resource": {"type": "Ombud::Customer", "id": customer},
             "context": json.dumps(gate, separators=(",", ":"))},
            *({"principal": who, "action": ACTION, "resource": {"type": "Ombud::DataClass", "id": cls.value},
               "context": class_json} for cls in classes),
        ]

    def decide(
        self, principal: Principal, classes: Iterable[DataClass], context: Mapping[str, Any], customer: str = "-"
    ) -> dict[DataClass, ClassDecision]:
        """Cedar's decision for each data class: the gate (guards) and the classes, equal questions from memory.

        A class's answer depends only on the employee's facts, the purpose and the class (its requests carry no
        volatile context). The gate's answer depends on the volatile context too; it is memoised only when the
        policies use that context in ways the key captures (``ombud.access.gate``), so a memoised answer is always
        Cedar's own answer to an equivalent question. Whatever is not known yet is asked in one batched call.
        """
        ordered = tuple(classes)
        if not ordered:
            return {}
        granted = context["granted"]
        granted = tuple(sorted(granted)) if granted else ()
        base = (principal, context["purpose"], context["case_type"], granted, context.get("case_origin", ""))
        known = {cls: self._answers.get((base, cls)) for cls in ordered}
        missing = [cls for cls, answer in known.items() if answer is None]
        gate_key = gate.key(self.gate_shape, principal, context, customer, principal.daily_limit)
        known_gate = self._gates.get(gate_key) if gate_key is not None else None
        if missing or known_gate is None:
            asked_gate, asked = self._ask(principal, missing, context, customer, base,
                                          ask_gate=known_gate is None, gate_key=gate_key)
            known.update(asked)
            known_gate = known_gate or asked_gate
        assert known_gate is not None
        open_gate, refused, gate_errors = known_gate
        if open_gate:  # the common case: the class answers stand as they are
            return known  # type: ignore[return-value]
        out: dict[DataClass, ClassDecision] = {}
        for cls, answer in known.items():
            assert answer is not None
            out[cls] = ClassDecision(cls, False, answer.policy_ids, refused, answer.errors + gate_errors)
        return out

    def _ask(
        self, principal: Principal, missing: list[DataClass], context: Mapping[str, Any], customer: str,
        base: tuple[Any, ...], *, ask_gate: bool, gate_key: tuple[Any, ...] | None,
    ) -> tuple[tuple[bool, tuple[str, ...], tuple[str, ...]] | None, dict[DataClass, ClassDecision]]:
        """Ask Cedar the missing class questions and (when asked to) the gate, in one call; both answers."""
        who = {"type": "Ombud::Employee", "id": str(principal.employee_id)}
        requests: list[dict[str, Any]] = []
        answer = None
        if ask_gate:
            requests.append({"principal": who, "action": GATE, "context": _gate_json(context),
                             "resource": {"type": "Ombud::Customer", "id": customer}})
        if missing:
            class_json = json.dumps({"purpose": context["purpose"], "case_type": context["case_type"],
                                     "case_origin": base[4], "granted": list(base[3])}, separators=(",", ":"))
            requests += [{"principal": who, "action": ACTION, "context": class_json,
                          "resource": {"type": "Ombud::DataClass", "id": cls.value}} for cls in missing]
        entities = self.entities_for(principal)
        if len(requests) == 1:
            results = [cedarpy.is_authorized(requests[0], self.policy_set, entities, self.schema)]
        else:
            results = cedarpy.is_authorized_batch(requests, self.policy_set, entities, self.schema)
        with self._lock:
            if ask_gate:
                result = results.pop(0)
                diagnostics = result.diagnostics
                errors = tuple(sorted(str(e) for e in diagnostics.errors))
                ids = tuple(sorted(self.policies[pid].id for pid in diagnostics.reasons if pid in self.policies))
                open_gate = result.allowed and not errors
                refused = () if open_gate else (
                    tuple(i for i in ids if self.by_id[i].effect == "forbid") or ("gate.error",))
                answer = (open_gate, refused, errors)
                if gate_key is not None:
                    if len(self._gates) >= _CACHE_LIMIT * 4:
                        self._gates.clear()
                    self._gates[gate_key] = answer
            if len(self._answers) + len(missing) > _CACHE_LIMIT * 4:
                self._answers.clear()
            classes: dict[DataClass, ClassDecision] = {}
            for cls, result in zip(missing, results, strict=True):
                diagnostics = result.diagnostics
                ids = tuple(sorted(self.policies[pid].id for pid in diagnostics.reasons if pid in self.policies))
                errors = tuple(sorted(str(error) for error in diagnostics.errors))
                classes[cls] = self._answers[(base, cls)] = ClassDecision(
                    cls, result.allowed and not errors, ids, (), errors)
        return answer, classes

    def decide_document(
        self, principal: Principal, gate_context: Mapping[str, Any], context: Mapping[str, Any], request_id: int
    ) -> ClassDecision:
        """Cedar's answer to opening one document of a victim's request: the gate (guards) on the request and the
        ``open_evidence`` question, asked together in one call (never memoised: openings are rare and each one's
        facts differ)."""
        who = {"type": "Ombud::Employee", "id": str(principal.employee_id)}
        requests = [
            {"principal": who, "action": GATE, "context": _gate_json(gate_context),
             "resource": {"type": "Ombud::VictimRequest", "id": str(request_id)}},
            {"principal": who, "action": OPEN_EVIDENCE, "context": json.dumps(dict(context), separators=(",", ":")),
             "resource": {"type": "Ombud::DataClass", "id": DataClass.evidence.value}},
        ]
        gate_result, result = cedarpy.is_authorized_batch(requests, self.policy_set, self.entities_for(principal),
                                                          self.schema)
        errors = tuple(sorted(str(e) for r in (gate_result, result) for e in r.diagnostics.errors))
        gate_ids = tuple(sorted(self.policies[p].id for p in gate_result.diagnostics.reasons if p in self.policies))
        ids = tuple(sorted(self.policies[p].id for p in result.diagnostics.reasons if p in self.policies))
        if not gate_result.allowed or gate_result.diagnostics.errors:
            refused = tuple(i for i in gate_ids if self.by_id[i].effect == "forbid") or ("gate.error",)
            return ClassDecision(DataClass.evidence, False, ids, refused, errors)
        return ClassDecision(DataClass.evidence, result.allowed and not errors, ids, (), errors)

    def reason(self, policy_id: str) -> str:
        """The ``@reason`` of a policy (its id when it has none)."""
        info = self.by_id.get(policy_id)
        if policy_id == "gate.error":
            return "the policies could not decide this read (an evaluation error); refused"
        return info.reason if info else policy_id


_quote = json.encoder.encode_basestring  # the C quoting json.dumps uses


def _gate_json(context: Mapping[str, Any]) -> str:
    """The gate's context as JSON, written directly (it is built on every read; json.dumps is slower)."""
    hour, reads = context["local_hour"], context["reads_today"]
    if type(hour) is not int or type(reads) is not int:  # never in the broker; a caller's odd values still encode
        return json.dumps({k: context[k] for k in GATE_CONTEXT}, separators=(",", ":"))
    return (f'{{"purpose":{_quote(context["purpose"])},"customer_country":{_quote(context["customer_country"])},'
            f'"local_hour":{hour},"reads_today":{reads}}}')


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_of_each_policy(texts: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, text in texts.items():
        for policy in json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"].values():
            out[policy["annotations"]["id"]] = name
    return out


def _static_entities() -> list[dict[str, Any]]:
    classes = [
        {"uid": {"type": "Ombud::DataClass", "id": cls.value},
         "attrs": {"name": cls.value, "sensitive": cls in SENSITIVE}, "parents": []}
        for cls in DataClass
    ]
    roles = [{"uid": {"type": "Ombud::Role", "id": role.value}, "attrs": {}, "parents": []} for role in Role]
    return classes + roles


@lru_cache(maxsize=1)
def default_engine() -> PolicyEngine:
    """The process's policy engine over the packaged policies, built on first use and kept."""
    return PolicyEngine()
