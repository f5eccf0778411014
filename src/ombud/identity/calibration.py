"""Calibration of match probabilities: measuring it (Brier score, reliability table) and applying it. Pure.

Fellegi–Sunter log-odds assume the comparisons are independent given the match status; they are not (a
name, a date of birth and an address travel together), so summed weights are far too sure of themselves:
nearly every match came out at probability 1.0000. Discovery therefore reports a calibrated probability,
a logistic function of the log2 odds (Platt scaling) whose two coefficients were fitted on labelled pairs of
the synthetic retailer with households (`ombud synth --households`; see `benchmarks/README.md`), never on
the evaluation data; its reliability is measured on data it was not fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def brier(predictions: Sequence[tuple[float, bool]]) -> float:
    """Mean squared difference between predicted probability and outcome (0 is perfect)."""
    if not predictions:
        return float("nan")
    return sum((p - (1.0 if y else 0.0)) ** 2 for p, y in predictions) / len(predictions)


def reliability_table(predictions: Iterable[tuple[float, bool]], bins: int = 10) -> list[
        tuple[float, float, int, float, float]]:
    """(low, high, count, mean predicted, observed share) per probability bin that holds predictions."""
    sums: list[list[float]] = [[0, 0.0, 0.0] for _ in range(bins)]
    for p, y in predictions:
        i = min(int(p * bins), bins - 1)
        sums[i][0] += 1
        sums[i][1] += p
        sums[i][2] += 1.0 if y else 0.0
    return [(i / bins, (i + 1) / bins, int(n), s / n, o / n) for i, (n, s, o) in enumerate(sums) if n]


def platt(log2_odds: float, slope: float, intercept: float) -> float:
    """The calibrated probability: 1 / (1 + exp(-(slope * log2_odds + intercept)))."""
    z = slope * log2_odds + intercept
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit_platt(samples: Sequence[tuple[float, bool]], iterations: int = 200) -> tuple[float, float]:
    """(slope, intercept) of a logistic regression of outcome on log2 odds (Newton's method, lightly
    regularised so separable data still gives finite coefficients). When every outcome is the same the
    probability is a constant, Laplace's (positives + 1) / (n + 2), never a certainty."""
    positives = sum(1 for _, y in samples if y)
    if positives in (0, len(samples)):
        p = (positives + 1) / (len(samples) + 2)
        return 0.0, math.log(p / (1 - p))
    a, b = 0.1, 0.0
    ridge = 1e-3
    for _ in range(iterations):
        ga = gb = 0.0
        haa = hab = hbb = ridge
        for x, y in samples:
            p = platt(x, a, b)
            d = p - (1.0 if y else 0.0)
            ga += d * x
            gb += d
            w = max(p * (1 - p), 1e-9)
            haa += w * x * x
            hab += w * x
            hbb += w
        ga += ridge * a
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) < 1e-9 and abs(db) < 1e-9:
            break
    return a, b
