"""The migrations build exactly the tables the models describe, on whichever store the run uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ombud import migrate
from ombud.models import metadata


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        assert mc.get_current_revision() == migrate.head_revision()
        diff = compare_metadata(mc, metadata)
    assert diff == [], f"models and migrations differ: {diff}"
