"""Judging detection against ground truth (pure): recall and precision at a fixed alert budget, AUC.

The alert budget follows LEGAL.md's advice (report detection at what reviewers can handle): `per_100` alerts
per 100 employees per day, the highest-scoring employee-days first. An alert catches a scenario instance when
its employee is the instance's and its day lies in the instance's window (a day's slack after). AUC ranks every
active employee-day by its ranking score; positives are the employee-days on which an insider scenario added
events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Instance:
    """One truth line: a scenario (or an innocent look-alike) by some employees over a window of days."""

    scenario: str
    label: str  # insider | innocent
    employees: frozenset[str]
    first_day: int
    last_day: int
    event_days: frozenset[tuple[str, int]] = frozenset()  # (employee, day) on which it added events


def day_of(text: str) -> int:
    """Days since the epoch of an ISO time."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() // 86400)


@dataclass
class Report:
    budget: int
    employees: int
    days: int
    precision: float
    auc: float
    per_scenario: dict[str, dict[str, float]] = field(default_factory=dict)
    innocent_alerts: dict[str, int] = field(default_factory=dict)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney with average ranks for ties)."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=float)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def evaluate(day_scores: Iterable[Mapping[str, object]], truth: list[Instance], *, employees: int, days: int,
             per_100: float = 1.0, slack_days: int = 1) -> Report:
    """Per-scenario recall at the budget, overall precision at it, alerts on innocent look-alikes, and AUC."""
    rows = list(day_scores)
    budget = max(1, int(employees * days * per_100 / 100))
    ranked = sorted((r for r in rows if float(r["score"]) > 0),  # type: ignore[arg-type]
                    key=lambda r: (-float(r["score"]), str(r["employee_id"]), int(r["day"])))  # type: ignore[call-overload]
    alerts = [(str(r["employee_id"]), int(r["day"])) for r in ranked[:budget]]  # type: ignore[call-overload]
    by_employee: dict[str, list[Instance]] = defaultdict(list)
    for inst in truth:
        for e in inst.employees:
            by_employee[e].append(inst)
    caught: set[int] = set()
    true_alerts = 0
    innocent: dict[str, int] = defaultdict(int)
    for employee, day in alerts:
        hit = False
        for inst in by_employee.get(employee, []):
            if inst.first_day <= day <= inst.last_day + slack_days:
                if inst.label == "insider":
                    caught.add(id(inst))
                    hit = True
                else:
                    innocent[inst.scenario] += 1
        true_alerts += hit
    per: dict[str, dict[str, float]] = {}
    for inst in truth:
        if inst.label != "insider":
            continue
        entry = per.setdefault(inst.scenario, {"instances": 0, "caught": 0})
        entry["instances"] += 1
        entry["caught"] += id(inst) in caught
    for entry in per.values():
        entry["recall"] = entry["caught"] / entry["instances"]
    positives = {pair for inst in truth if inst.label == "insider" for pair in inst.event_days}
    scores = np.array([float(r["rank_score"]) for r in rows])  # type: ignore[arg-type]
    labels = np.array([(str(r["employee_id"]), int(r["day"])) in positives for r in rows], dtype=int)  # type: ignore[call-overload]
    return Report(budget=budget, employees=employees, days=days,
                  precision=true_alerts / len(alerts) if alerts else 0.0, auc=auc(scores, labels),
                  per_scenario=per, innocent_alerts=dict(innocent))
