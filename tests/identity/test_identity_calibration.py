"""Calibration: Brier score, reliability table and Platt fitting, property-tested. Pure."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from ombud.identity.calibration import brier, fit_platt, platt, reliability_table
from ombud.identity.scoring import Model

predictions = st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=200)


@given(predictions)
def test_brier_is_between_zero_and_one_and_zero_only_when_sure_and_right(preds):
    b = brier(preds)
    assert 0 <= b <= 1
    assert brier([(1.0 if y else 0.0, y) for _, y in preds]) == 0


@given(predictions)
def test_the_reliability_table_accounts_for_every_prediction(preds):
    table = reliability_table(preds)
    assert sum(n for _, _, n, _, _ in table) == len(preds)
    for low, high, _n, mean, observed in table:
        assert low - 1e-9 <= mean <= high + 1e-9 and 0 <= observed <= 1


@given(st.floats(-60, 60), st.floats(0.01, 2), st.floats(-20, 20))
def test_platt_is_a_probability_and_monotone(x, slope, intercept):
    p, q = platt(x, slope, intercept), platt(x + 1, slope, intercept)
    assert 0 <= p <= q <= 1


def test_fitting_recovers_a_known_calibration():
    rng = random.Random(3)
    samples = []
    for _ in range(4000):
        x = rng.uniform(-20, 40)
        samples.append((x, rng.random() < platt(x, 0.3, -3.0)))
    slope, intercept = fit_platt(samples)
    assert abs(slope - 0.3) < 0.05 and abs(intercept + 3.0) < 0.6


def test_one_sided_outcomes_give_a_probability_short_of_certainty():
    slope, intercept = fit_platt([(12.0, True)] * 99)
    assert slope == 0 and math.isclose(platt(50, slope, intercept), 100 / 101)


def test_the_model_keeps_its_calibration_through_json():
    model = Model.default()
    model.calibration = (0.5, -4.0, 0.0, 6.0)
    again = Model.from_json(model.to_json())
    assert again.calibration == (0.5, -4.0, 0.0, 6.0)
    assert again.probability(8.0) == platt(8.0, 0.5, -4.0) and again.probability(8.0, True) == platt(8.0, 0, 6.0)
