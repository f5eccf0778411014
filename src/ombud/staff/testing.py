"""Helpers for tests of any domain that need employees: a factory, and cheap password hashing.

    from ombud.staff.testing import make_employee
    agent = make_employee(session, role=Role.agent)          # fictional, unique, on example.com
    with fast_password_hashing():                            # argon2id with test-sized cost
        ...
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from ombud.staff import passwords, service
from ombud.staff.models import Employee, Role

DEFAULT_PASSWORD = "correct horse battery staple"  # noqa: S105 (a fixture's password, fictional)
_counter = itertools.count(1)


def make_employee(
    session: Session,
    *,
    role: Role | str = Role.agent,
    password: str | None = DEFAULT_PASSWORD,
    **overrides: Any,
) -> Employee:
    """A fictional employee with a unique email and directory id (override any field)."""
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Test Employee {n}",
        "email": f"employee{n}.{secrets.token_hex(3)}@example.com",
        "team": "Support",
        "region": "us-east",
        "external_id": None,
    }
    values.update(overrides)
    return service.create_employee(session, role=role, password=password, **values)


@contextmanager
def fast_password_hashing() -> Iterator[None]:
    """Swap in argon2id with a tiny cost for the block, so tests that sign in often stay fast."""
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = passwords.hasher, passwords.dummy_hash
    passwords.hasher, passwords.dummy_hash = fast, fast.hash("not a real password")
    try:
        yield
    finally:
        passwords.hasher, passwords.dummy_hash = saved
