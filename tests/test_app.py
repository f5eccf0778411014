"""The app builds without side effects and serves its health check and OpenAPI docs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ombud.app import create_app


def test_health_and_docs(ctx):
    client = TestClient(create_app(ctx=ctx))
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Ombud"
