"""Breach-notice rules as data (rules.toml) and the deadlines they give; pure: no database, no web.

A customer's jurisdiction is the US state of their address; a state without an entry, or an address outside
the US, falls to the `default` rule (the strictest deadline of the table, so nobody is under-served).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from ombud.errors import InvalidInput
from ombud.identity.address import normalize_country, normalize_region

RULES_FILE = Path(__file__).with_name("rules.toml")
DEFAULT = "default"
REQUIRED_HEADINGS = (
    "What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do",
    "For More Information",
)
_KNOWN_KEYS = frozenset({
    "name", "individual_days", "regulator", "regulator_min_count", "regulator_days", "regulator_from", "title",
    "headings", "min_font_pt", "credit_bureaus_for", "regulator_content", "source",
})



@dataclass(frozen=True)
class Rule:
    """One jurisdiction's breach-notice rule."""

    code: str
    name: str
    individual_days: int
    title: str
    headings: tuple[str, ...]
    source: str
    regulator: str | None = None
    regulator_min_count: int | None = None
    regulator_days: int | None = None
    regulator_from: str = "discovery"
    min_font_pt: int | None = None
    credit_bureaus_for: frozenset[str] = field(default_factory=frozenset)
    regulator_content: tuple[str, ...] = ()

    def individuals_due(self, discovered_at: datetime) -> datetime:
        """When every resident must have been notified: discovery plus the rule's calendar days."""
        return discovered_at + timedelta(days=self.individual_days)

    def regulator_required(self, affected: int) -> bool:
        """Whether this many affected residents oblige a report to the regulator."""
        threshold = self.regulator_min_count
        return self.regulator is not None and threshold is not None and affected >= threshold

    def regulator_due(self, discovered_at: datetime, notices_sent_at: datetime | None = None) -> datetime | None:
        """When the regulator's report is due; for rules counted from the notices, before they are sent the
        latest it can be (the individuals' deadline plus the regulator's days)."""
        if self.regulator_days is None:
            return None
        if self.regulator_from == "notice":
            start = notices_sent_at or self.individuals_due(discovered_at)
            return start + timedelta(days=self.regulator_days)
        return discovered_at + timedelta(days=self.regulator_days)


def _rule(code: str, raw: Mapping[str, Any]) -> Rule:
    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise InvalidInput(f"rules [{code}]: unknown keys {sorted(unknown)}", field=code)
    try:
        rule = Rule(
            code=code, name=str(raw["name"]), individual_days=int(raw["individual_days"]), title=str(raw["title"]),
            headings=tuple(raw["headings"]), source=str(raw["source"]), regulator=raw.get("regulator"),
            regulator_min_count=raw.get("regulator_min_count"), regulator_days=raw.get("regulator_days"),
            regulator_from=str(raw.get("regulator_from", "discovery")), min_font_pt=raw.get("min_font_pt"),
            credit_bureaus_for=frozenset(raw.get("credit_bureaus_for", ())),
            regulator_content=tuple(raw.get("regulator_content", ())),
        )
    except KeyError as exc:
        raise InvalidInput(f"rules [{code}]: missing {exc.args[0]}", field=code) from None
    if rule.individual_days <= 0:
        raise InvalidInput(f"rules [{code}]: individual_days must be positive", field=code)
    if rule.regulator_from not in ("discovery", "notice"):
        raise InvalidInput(f"rules [{code}]: regulator_from is discovery or notice", field=code)
    missing = [h for h in REQUIRED_HEADINGS if h not in rule.headings]
    if missing:
        raise InvalidInput(f"rules [{code}]: headings lack {missing}", field=code)
    if rule.regulator is not None and (rule.regulator_days is None or rule.regulator_min_count is None):
        raise InvalidInput(f"rules [{code}]: a regulator needs regulator_days and regulator_min_count", field=code)
    return rule


def parse_rules(text: str) -> dict[str, Rule]:
    """Rules from TOML text; InvalidInput names the entry and key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"rules: {exc}", field="rules") from None
    if DEFAULT not in data:
        raise InvalidInput("rules: a [default] entry is required", field="rules")
    return {code: _rule(code, raw) for code, raw in data.items()}


@lru_cache(maxsize=1)
def load_rules() -> dict[str, Rule]:
    """The shipped rules table."""
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"))


def jurisdiction_of(country: str | None, region: str | None, rules: Mapping[str, Rule] | None = None) -> str:
    """The rule key for an address: its state's code when the table has it, else `default`."""
    rules = rules if rules is not None else load_rules()
    if normalize_country(country) != "US":
        return DEFAULT
    code = normalize_region(region, "US")
    return code if code in rules and code != DEFAULT else DEFAULT


@dataclass(frozen=True)
class Deadline:
    """One obligation of an incident: notify a jurisdiction's residents, or report to its regulator."""

    jurisdiction: str
    kind: str  # individuals | regulator
    due_at: datetime
    customers: int
    basis: str


def deadlines(
    counts: Mapping[str, int], discovered_at: datetime, rules: Mapping[str, Rule] | None = None,
    notices_sent_at: Mapping[str, datetime] | None = None,
) -> list[Deadline]:
    """Every deadline for these affected customers per jurisdiction, earliest first."""
    rules = rules if rules is not None else load_rules()
    sent = notices_sent_at or {}
    out: list[Deadline] = []
    for code, count in sorted(counts.items()):
        if count <= 0:
            continue
        rule = rules.get(code, rules[DEFAULT])
        out.append(Deadline(code, "individuals", rule.individuals_due(discovered_at), count,
                            f"{rule.individual_days} days from discovery ({rule.name})"))
        if rule.regulator_required(count):
            due = rule.regulator_due(discovered_at, sent.get(code))
            assert due is not None  # a regulator always has days (checked at load)
            start = "the notices" if rule.regulator_from == "notice" else "discovery"
            out.append(Deadline(code, "regulator", due, count,
                                f"{rule.regulator_days} days from {start}: {rule.regulator}"))
    out.sort(key=lambda d: (d.due_at, d.jurisdiction, d.kind))
    return out


def credit_bureaus_needed(rule: Rule, classes: Iterable[str]) -> bool:
    """Whether a notice under this rule must name the credit bureaus for these exposed classes."""
    return bool(rule.credit_bureaus_for & set(classes))
