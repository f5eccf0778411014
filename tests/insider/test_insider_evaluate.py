"""Judging detection (pure): AUC against its definition, recall and precision at the budget; the triage moves."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.insider.evaluate import Instance, auc, evaluate
from ombud.insider.models import AlertStatus
from ombud.insider.triage import MOVES


@settings(deadline=None)  # pure arithmetic; a shared machine's pauses are not failures
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_auc_is_the_share_of_correctly_ordered_pairs(pairs: list[tuple[int, bool]]) -> None:
    scores = np.array([float(s) for s, _ in pairs])
    labels = np.array([int(y) for _, y in pairs])
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        assert np.isnan(auc(scores, labels))
        return
    expected = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert abs(auc(scores, labels) - expected) < 1e-9


def test_budget_recall_and_precision() -> None:
    rows = [{"employee_id": e, "day": d, "score": s, "rank_score": s}
            for e, d, s in [("a", 1, 0.9), ("b", 1, 0.8), ("c", 2, 0.7), ("d", 2, 0.0), ("e", 3, 0.6)]]
    truth = [Instance("bulk_lookup", "insider", frozenset({"a"}), 1, 1, frozenset({("a", 1)})),
             Instance("slow_exfiltration", "insider", frozenset({"e"}), 2, 3, frozenset({("e", 3)})),
             Instance("outage_spike", "innocent", frozenset({"b"}), 1, 1)]
    report = evaluate(rows, truth, employees=100, days=2)  # budget: 2 alerts
    assert report.budget == 2
    assert report.per_scenario["bulk_lookup"]["recall"] == 1.0
    assert report.per_scenario["slow_exfiltration"]["recall"] == 0.0  # ranked third: outside the budget
    assert report.precision == 0.5 and report.innocent_alerts == {"outage_spike": 1}
    assert abs(report.auc - 4 / 6) < 1e-9  # (a beats b, c, d; e beats d only)


@settings(deadline=None)
@given(st.lists(st.sampled_from(list(AlertStatus)), max_size=12))
def test_escalated_is_final_and_dismissed_only_reopens(path: list[AlertStatus]) -> None:
    state = AlertStatus.new
    for wanted in path:
        if wanted in MOVES[state]:
            assert state != AlertStatus.escalated
            state = wanted
    assert MOVES[AlertStatus.escalated] == frozenset()
    assert MOVES[AlertStatus.dismissed] == frozenset({AlertStatus.assigned})
