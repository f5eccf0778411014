"""Runs the Alembic migrations shipped inside the package; used by `ombud db upgrade` and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if database_url:
        cfg.attributes["database_url"] = database_url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head", connection: Connection | None = None) -> None:
    """Bring the store to the given revision (default: the newest)."""
    command.upgrade(alembic_config(database_url, connection), revision)


def head_revision() -> str | None:
    """The newest revision shipped with this version of Ombud."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
