"""Shared fixtures: one store per test run (SQLite by default, PostgreSQL when asked), a transaction per test.

Set OMBUD_TEST_DATABASE_URL to a PostgreSQL URL to run the whole suite there; with CI=true an unreachable
PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from ombud import migrate
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import make_engine

TEST_DATABASE_URL = os.environ.get("OMBUD_TEST_DATABASE_URL")


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of this run's store, migrated to the newest revision and empty."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                # A clean slate each run: the schema is rebuilt by the migrations, as a deployment would.
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except Exception as exc:  # the server is the point of this run: never skip it in CI
            if os.environ.get("CI"):
                raise
            pytest.exit(f"PostgreSQL at {url} is unreachable: {exc}", returncode=3)
        finally:
            engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ombud.db'}"
    migrate.upgrade(url)
    return url


def _sqlite_real_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions, so the test's outer transaction and savepoints are real.

    pysqlite begins a transaction only before a data-changing statement; a SAVEPOINT outside one starts its own,
    and releasing it (a session commit in the tests' savepoint mode) would commit for good. This is SQLAlchemy's
    documented recipe for the driver.
    """

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    if _is_postgres(database_url):
        engine = make_engine(database_url)
    else:
        engine = make_engine(database_url, connect_args={"check_same_thread": False})
        _sqlite_real_transactions(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return _is_postgres(database_url)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            if outer.is_active:
                outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions bound to the test's connection; their commits become savepoints, undone after the test."""
    return sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        env=Environment.test, data_dir=tmp_path / "data", database_url=database_url, audit_checkpoint_schedule=False
    )


@pytest.fixture
def ctx(settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> Context:
    """A context whose engine and sessions are the test's, so everything it does is rolled back."""
    from ombud.identity.service import forget_model

    forget_model()  # discovery caches the model per database URL, and every test shares the one test database
    ctx = Context(settings)
    ctx.__dict__["engine"] = engine
    ctx.__dict__["sessions"] = sessions
    return ctx


@pytest.fixture
def app(ctx: Context) -> FastAPI:
    """The application on the test's context."""
    from ombud.app import create_app

    return create_app(ctx=ctx)


@pytest.fixture
def api(app: FastAPI, session: Session) -> Callable[..., TestClient]:
    """A JSON client acting as an employee through an API token of their own."""
    from ombud.staff import service as staff_service

    def _client(employee, *, raise_server_exceptions: bool = True) -> TestClient:
        token = staff_service.create_api_token(session, employee, name="test tool").token
        session.flush()
        return TestClient(app, headers={"authorization": f"Bearer {token}"},
                          raise_server_exceptions=raise_server_exceptions)

    return _client


class _TestContext:
    """The test's context as the command line sees it: closing it leaves the engine to the test run."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str):
        return getattr(self._ctx, name)

    def close(self) -> None:
        pass


@pytest.fixture
def cli_at_width(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], Callable[..., object]]:
    """Run `ombud ...` in-process against the test's store, on consoles of the given width."""
    from typer.testing import CliRunner

    from ombud.cli import common
    from ombud.cli import staff as staff_cli
    from ombud.cli.main import app as cli_app

    monkeypatch.setattr(common, "context", lambda: _TestContext(ctx))
    monkeypatch.setattr(staff_cli, "context", lambda: _TestContext(ctx))

    def at(width: int) -> Callable[..., object]:
        for console in (common.console, common.err_console):
            monkeypatch.setattr(console, "_width", width)
        runner = CliRunner()
        return lambda *args: runner.invoke(cli_app, [str(a) for a in args], catch_exceptions=False)

    return at


@pytest.fixture
def cli(cli_at_width: Callable[[int], Callable[..., object]]) -> Callable[..., object]:
    """Run `ombud ...` in-process against the test's store, with wide consoles so nothing wraps."""
    return cli_at_width(250)
