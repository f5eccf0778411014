"""What a running command or server holds: settings, keys, the engine and its sessions, made lazily."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ombud import customer_ids
from ombud.config import Settings
from ombud.db import make_engine, make_sessionmaker
from ombud.errors import OmbudError
from ombud.keys import KeyRing, check_production_ready, load_keys

UPGRADE_HINT = "run `ombud db upgrade`"


def check_store(engine: Engine) -> None:
    """Raise StoreNotReady (naming the fix) unless the store is at the newest revision shipped."""
    from sqlalchemy import inspect, text

    from ombud import migrate

    with engine.connect() as conn:
        current = None
        if inspect(conn).has_table("alembic_version"):
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if current is None:
        raise StoreNotReady(f"the store has no tables yet: {UPGRADE_HINT}")
    head = migrate.head_revision()
    if current != head:
        raise StoreNotReady(f"the store is at revision {current}, this Ombud needs {head}: {UPGRADE_HINT}")


class StoreNotReady(OmbudError):
    """The store has not been migrated (or is behind this version of Ombud)."""

    status_code = 503


class Context:
    """Lazily built resources for one process; nothing connects until first asked.

    Every command and the server build one, so this is where production settings are enforced (no generated
    secrets, no embedded store: ``check_production_ready``), before anything opens the store or reads a key.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        check_production_ready(self.settings)
        customer_ids.configure(self.settings.customer_id_pattern)

    @cached_property
    def keys(self) -> KeyRing:
        return load_keys(self.settings)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on the store, once it is known to be migrated to this version's newest revision."""
        check_store(self.engine)
        return make_sessionmaker(self.engine)

    def close(self) -> None:
        """Release database connections."""
        if "engine" in self.__dict__:
            self.engine.dispose()
