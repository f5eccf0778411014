"""Backoff: doubles per attempt within the jitter band, never beyond the cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ombud.notify.backoff import MAX_DELAY_SECONDS, retry_delay


@given(st.integers(1, 200), st.floats(0.01, 3600), st.floats(0, 1))
def test_delay_within_band_and_cap(attempts, base, jitter):
    delay = retry_delay(attempts, base, jitter)
    full = min(MAX_DELAY_SECONDS, base * 2 ** min(attempts - 1, 62))
    assert full / 2 - 1e-9 <= delay <= full + 1e-9
    assert delay <= MAX_DELAY_SECONDS


@given(st.integers(1, 30), st.floats(0.01, 60), st.floats(0, 1))
def test_never_shrinks_with_more_attempts(attempts, base, jitter):
    assert retry_delay(attempts + 1, base, jitter) >= retry_delay(attempts, base, jitter)


def test_refuses_nonsense():
    with pytest.raises(ValueError):
        retry_delay(0, 1, 0.5)
    with pytest.raises(ValueError):
        retry_delay(1, 1, 1.5)
