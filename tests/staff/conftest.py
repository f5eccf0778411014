"""Staff tests hash passwords with a test-sized argon2 cost, so sign-in heavy tests stay fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ombud.staff.testing import fast_password_hashing


@pytest.fixture(autouse=True)
def _fast_passwords() -> Iterator[None]:
    with fast_password_hashing():
        yield
