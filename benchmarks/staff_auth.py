"""Staff authentication costs: argon2id hashing, sign-in, and what auth + CSRF add to a request.

Runs in-process (FastAPI TestClient) over a scratch SQLite store; prints a table of medians over several runs.
    .venv/bin/python benchmarks/staff_auth.py [--runs 5] [--requests 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from ombud import migrate
from ombud.app import create_app
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.staff import service
from ombud.staff.testing import DEFAULT_PASSWORD, make_employee


def _timed(fn, n: int) -> float:
    """Mean seconds per call over n calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ombud-bench-auth-"))
    settings = Settings(env=Environment.test, data_dir=folder, login_max_failures=10**6)
    migrate.upgrade(settings.resolved_database_url)
    ctx = Context(settings)
    with transaction(ctx.sessions) as session:
        employee = make_employee(session)
        email = employee.email
        token = service.create_api_token(session, employee, name="bench").token
    app = create_app(ctx=ctx)

    api = TestClient(app)
    browser = TestClient(app, headers={"accept": "text/html"}, follow_redirects=False)
    form = browser.get("/login")
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    browser.post("/login", data={"email": email, "password": DEFAULT_PASSWORD, "login_csrf": login_csrf})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/").text).group(1)
    bearer = {"authorization": f"Bearer {token}"}

    hashed = service.hash_password(DEFAULT_PASSWORD)
    n = args.requests
    cases = {
        "argon2id hash (production cost)": (lambda: service.hash_password(DEFAULT_PASSWORD), 5),
        "argon2id verify (production cost)": (lambda: service.verify_password(hashed, DEFAULT_PASSWORD), 5),
        "GET /api/health (no auth, baseline)": (lambda: api.get("/api/health"), n),
        "GET /api/staff/me, bearer token": (lambda: api.get("/api/staff/me", headers=bearer), n),
        "GET /api/staff/me, session cookie": (lambda: browser.get("/api/staff/me"), n),
        "GET / console home page, cookie": (lambda: browser.get("/"), n // 2),
        "POST /api/staff/tokens refused by CSRF": (lambda: browser.post("/api/staff/tokens", json={"name": "x"}), n),
        "POST /api/staff/tokens, cookie + CSRF": (
            lambda: browser.post("/api/staff/tokens", json={"name": "x"}, headers={"x-csrf-token": csrf}), n // 2),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (fn, count) in cases.items():
            results[name].append(_timed(fn, count))
    ctx.close()

    table = Table("what", "median ms", "min ms", "max ms", title=f"staff auth, median of {args.runs} runs")
    for name, values in results.items():
        table.add_row(name, f"{statistics.median(values) * 1000:.2f}", f"{min(values) * 1000:.2f}",
                      f"{max(values) * 1000:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
