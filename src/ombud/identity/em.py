"""Estimating Fellegi–Sunter parameters without labels: u by random sampling, m by expectation–maximisation.

Input is a bag of comparison vectors (one level index per comparison, -1 for missing) with counts, so a
million pairs with a few thousand distinct patterns cost almost nothing. As in Splink, u (the chance
agreement among non-matches) is fixed from random pairs, and EM estimates m and the share of matches
λ in "training sessions", each over pairs blocked on some identifiers: the comparisons used to block a
session are left out of its likelihood (they agree by construction, so they say nothing there), and
their m is taken from the sessions that did not block on them. Pure: no database.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Pattern = tuple[int, ...]

#: m is kept inside (FLOOR, 1 - FLOOR): a level EM never saw among matches is unlikely, not impossible,
#: and one slip (a middle name typed wrong) must not outweigh everything else.
FLOOR = 0.002


@dataclass
class EMResult:
    """Estimated m per comparison and level, the match share, and how the run went."""

    m: list[list[float]]
    lambda_: float
    iterations: int
    converged: bool


def estimate_u(patterns: Mapping[Pattern, int], n_levels: Sequence[int], smoothing: float = 0.5) -> list[list[float]]:
    """u per level from comparison vectors of random pairs (almost all non-matches), Laplace-smoothed."""
    counts = [[0.0] * n for n in n_levels]
    for pattern, count in patterns.items():
        for c, level in enumerate(pattern):
            if level >= 0:
                counts[c][level] += count
    out = []
    for row in counts:
        total = sum(row) + smoothing * len(row)
        out.append([(value + smoothing) / total for value in row])
    return out


def _normalise(row: list[float]) -> list[float]:
    row = [min(max(v, FLOOR), 1 - FLOOR) for v in row]
    total = sum(row)
    return [v / total for v in row]


def run_em(
    patterns: Mapping[Pattern, int],
    m: Sequence[Sequence[float]],
    u: Sequence[Sequence[float]],
    lambda_: float,
    *,
    fixed: Iterable[int] = (),
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> EMResult:
    """Expectation–maximisation of m and λ with u held fixed; comparisons in `fixed` are ignored
    (not in the likelihood, m not updated)."""
    m_est = [list(row) for row in m]
    skip = set(fixed)
    active = [c for c in range(len(m_est)) if c not in skip]
    items = [(p, n) for p, n in patterns.items() if n > 0]
    total = sum(n for _, n in items)
    if total == 0:
        return EMResult(m_est, lambda_, 0, False)
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (the count is reported)
        m_acc = [[0.0] * len(m_est[c]) for c in range(len(m_est))]
        m_den = [0.0] * len(m_est)
        match_mass = 0.0
        log_lambda, log_not = math.log(max(lambda_, 1e-12)), math.log(max(1 - lambda_, 1e-12))
        for pattern, count in items:
            lm, lu = log_lambda, log_not
            for c in active:
                level = pattern[c]
                if level >= 0:
                    lm += math.log(m_est[c][level])
                    lu += math.log(u[c][level])
            diff = lu - lm
            p = 1.0 / (1.0 + math.exp(diff)) if diff < 700 else 0.0
            weight = p * count
            match_mass += weight
            for c in active:
                level = pattern[c]
                if level >= 0:
                    m_acc[c][level] += weight
                    m_den[c] += weight
        new_lambda = min(max(match_mass / total, 1e-9), 1 - 1e-9)
        change = abs(new_lambda - lambda_)
        for c in active:
            if m_den[c] > 0:
                row = _normalise([v / m_den[c] for v in m_acc[c]])
                change = max(change, max(abs(a - b) for a, b in zip(row, m_est[c], strict=True)))
                m_est[c] = row
        lambda_ = new_lambda
        if change < tolerance:
            converged = True
            break
    return EMResult(m_est, lambda_, iteration, converged)


def combine_sessions(results: Sequence[tuple[EMResult, set[int]]], prior_m: Sequence[Sequence[float]]) -> list[
        list[float]]:
    """m per comparison: the mean over sessions that estimated it (did not block on it), else the prior."""
    out = []
    for c, prior_row in enumerate(prior_m):
        rows = [r.m[c] for r, fixed in results if c not in fixed]
        if not rows:
            out.append(list(prior_row))
            continue
        out.append(_normalise([sum(row[level] for row in rows) / len(rows) for level in range(len(prior_row))]))
    return out


def count_patterns(vectors: Iterable[Pattern]) -> Counter[Pattern]:
    """A bag of comparison vectors."""
    return Counter(vectors)


def cap_unestimated(m: Sequence[Sequence[float]], u: Sequence[Sequence[float]], estimated: Sequence[Sequence[bool]]
                    ) -> list[list[float]]:
    """u with each level whose u was not estimated (too rare among random pairs, a documented default kept)
    made no stronger evidence than its comparison's first, exact level: m/u never above the exact level's.

    The defaults are bounds for large populations; estimated data can show the exact level itself to be weaker
    (short identifiers, duplicates among random pairs), and a slip of an identifier is never better evidence
    than the identifier itself.
    """
    out = [list(row) for row in u]
    for c, row in enumerate(out):
        if not row or m[c][0] <= 0:
            continue
        exact_ratio = m[c][0] / row[0]
        for i in range(1, len(row)):
            if not estimated[c][i] and m[c][i] / row[i] > exact_ratio:
                row[i] = m[c][i] / exact_ratio
    return out
