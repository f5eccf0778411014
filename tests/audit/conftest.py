"""Audit test fixtures: the vectors' folder, a signer, and a guard for tests that need PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditutil import empty_log

from ombud.audit import checkpoint as checkpoints

DATA = Path(__file__).parent / "data"


@pytest.fixture
def postgres_only(is_postgres):
    """Skip on SQLite: the test needs several connections committing at once against one server."""
    if not is_postgres:
        pytest.skip("needs PostgreSQL (set OMBUD_TEST_DATABASE_URL); SQLite serialises writers itself")


@pytest.fixture
def verifier(ctx):
    return checkpoints.verifier(ctx.keys, ctx.settings)


@pytest.fixture
def session(connection, sessions):
    """The test's session over an empty audit log.

    Other tests' commits can outlive their rollback on SQLite (pysqlite starts no transaction for
    `Connection.begin()`, so releasing the first savepoint commits); emptying the log here, inside the
    test's outer transaction, gives each audit test a log that starts at 0 and restores the rest afterwards.
    """
    empty_log(connection)
    with sessions() as session:
        yield session
