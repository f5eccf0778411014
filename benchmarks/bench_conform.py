"""CPU cost of holding each request to the contract (ombud.api.conform.check_request, the app-wide dependency):
one call per request for three routes of the real app (a JSON body with dates, a query with parameters, a path
value), against an empty coroutine, interleaved so both see the same machine. In process, no server, no store.

    .venv/bin/python benchmarks/bench_conform.py [--requests 20000] [--runs 5]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from fastapi import Request

from benchutil import interleaved_medians, load_average, load_line, per_request_args
from ombud.api.conform import check_request
from ombud.app import create_app
from ombud.config import Environment, Settings

INCIDENT = {"title": "Lost laptop", "window_start": "2026-11-01T00:00:00Z", "window_end": "2026-11-02T00:00:00Z",
            "discovered_at": "2026-11-03T00:00:00Z", "actors": ["E000123"], "description": "A laptop was stolen."}
CASES = [
    ("POST", "/api/incidents", b"", INCIDENT),
    ("GET", "/api/insider/alerts", b"status=new&limit=50&offset=100", None),
    ("GET", "/api/victim-requests/VR-7K2M-Q9TX", b"", None),
]


def _scopes(app) -> list[dict]:
    """Each case's scope as the router leaves it for the dependencies, caught by one real request apiece."""
    from fastapi.testclient import TestClient

    caught: list[dict] = []

    async def catch(request: Request) -> None:
        caught.append(dict(request.scope))

    app.dependency_overrides[check_request] = catch
    client = TestClient(app)
    for method, path, query, body in CASES:
        client.request(method, f"{path}?{query.decode()}" if query else path, json=body)
    app.dependency_overrides.clear()
    assert len(caught) == len(CASES), caught
    return caught


async def _nothing(_request: Request) -> None:
    return None


async def _drive(check, scopes: list[dict], n: int) -> float:
    started = time.process_time()
    for i in range(n):
        await check(Request(scopes[i % len(scopes)]))
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    args = per_request_args()
    before = load_average()
    with tempfile.TemporaryDirectory() as data:
        app = create_app(Settings(env=Environment.test, data_dir=Path(data), audit_checkpoint_schedule=False))
        scopes = _scopes(app)
        asyncio.run(_drive(check_request, scopes, 100))  # each route's plan is made once, on its first request
        b, c = interleaved_medians(lambda: asyncio.run(_drive(_nothing, scopes, args.requests)),
                                   lambda: asyncio.run(_drive(check_request, scopes, args.requests)), args.runs)
    print(f"bare {b:.2f} µs, with check_request {c:.2f} µs: the contract check costs {c - b:.2f} µs CPU per "
          f"request (median of {args.runs} runs of {args.requests}, three routes in turn)")
    print(load_line(before))


if __name__ == "__main__":
    main()
