"""Browser tests: Debian's Chromium through Playwright, against a real uvicorn server in a thread.

The server works on committed data, so these tests do not use the rolled-back `ctx` fixture: on SQLite they
get a migrated scratch file of their own, on PostgreSQL (OMBUD_TEST_DATABASE_URL) the suite's database,
and every fixture deletes what it created (the audit log is append-only: its sign-in leaves stay).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import delete

from ombud import migrate
from ombud.app import create_app
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.staff.models import Employee, LoginAttempt
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing, make_employee

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _fast_passwords() -> Iterator[None]:
    # The server runs in this process, so it hashes with the test-sized argon2 cost too.
    with fast_password_hashing():
        yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser_store(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    """The URL of a migrated store whose commits the server and the tests both see."""
    if os.environ.get("OMBUD_TEST_DATABASE_URL"):
        return request.getfixturevalue("database_url")  # the suite's PostgreSQL database, migrated
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'ombud.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def server_ctx(browser_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    data_dir: Path = tmp_path_factory.mktemp("browser-data")
    ctx = Context(Settings(env=Environment.test, data_dir=data_dir, database_url=browser_store))
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def live_server(server_ctx: Context) -> Iterator[str]:
    """Base URL of a uvicorn server running the Ombud app in a background thread."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(ctx=server_ctx), host="127.0.0.1", port=port, log_level="warning", lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ombud-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI"):  # in CI the browser tests are part of the point: never skip them there
            pytest.fail(message)
        pytest.skip(message)
    from playwright import sync_api

    playwright = sync_api.sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(chromium, live_server: str) -> Iterator[object]:
    """A fresh browser profile (no cookies) on the test server."""
    context = chromium.new_context(base_url=live_server)
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


@dataclass(frozen=True)
class StaffAccount:
    id: int
    email: str
    name: str
    password: str


@pytest.fixture
def make_staff(server_ctx: Context) -> Iterator[Callable[..., StaffAccount]]:
    """Create committed employees; they, their sessions, tokens and sign-in records are deleted afterwards."""
    created: list[StaffAccount] = []

    def _make(**overrides: object) -> StaffAccount:
        with transaction(server_ctx.sessions) as session:
            employee = make_employee(session, **overrides)
            account = StaffAccount(employee.id, employee.email, employee.name, DEFAULT_PASSWORD)
        created.append(account)
        return account

    yield _make
    with transaction(server_ctx.sessions) as session:
        for account in created:
            session.execute(delete(LoginAttempt).where(LoginAttempt.email == account.email))
            session.execute(delete(Employee).where(Employee.id == account.id))  # cascades sessions and tokens
