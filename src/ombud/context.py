"""What a running command or server holds: settings, keys, the engine and its sessions, made lazily."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ombud import customer_ids
from ombud.config import Settings
from ombud.db import make_engine, make_sessionmaker
from ombud.keys import KeyRing, load_keys


class Context:
    """Lazily built resources for one process; nothing connects until first asked."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        customer_ids.configure(self.settings.customer_id_pattern)

    @cached_property
    def keys(self) -> KeyRing:
        return load_keys(self.settings)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    def close(self) -> None:
        """Release database connections."""
        if "engine" in self.__dict__:
            self.engine.dispose()
