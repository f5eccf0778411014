"""The app builds without side effects and serves its health check and OpenAPI docs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ombud.api.deps import DbSession
from ombud.app import create_app


def test_health_and_docs(ctx):
    client = TestClient(create_app(ctx=ctx))
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Ombud"


def test_running_app_signs_audit_checkpoints_on_schedule(ctx, sessions):
    import time

    from ombud.audit.checkpoint import latest_checkpoint
    from ombud.audit.events import AuditEvent
    from ombud.audit.service import append_event

    with sessions() as session, session.begin():
        append_event(session, AuditEvent(action="test.scheduled"))
    ctx.settings = ctx.settings.model_copy(update={"audit_checkpoint_schedule": True})
    with TestClient(create_app(ctx=ctx)):
        deadline = time.monotonic() + 5
        checkpoint = None
        while checkpoint is None and time.monotonic() < deadline:
            time.sleep(0.05)
            with sessions() as session:
                checkpoint = latest_checkpoint(session)
    assert checkpoint is not None and checkpoint.tree_size >= 1


def test_a_request_commits_before_its_response_is_sent(ctx, sessions):
    """A commit that fails must not reach the client as a success (the transaction ends before the response)."""
    from sqlalchemy import event

    app = create_app(ctx=ctx)

    @app.post("/api/test-commit")
    def write(session: DbSession) -> dict[str, str]:
        session.info["written"] = True
        return {"status": "written"}

    def refuse(session):
        if session.info.get("written"):
            raise RuntimeError("the store refused the commit")

    event.listen(sessions, "before_commit", refuse)
    try:
        client = TestClient(app, raise_server_exceptions=False)
        response = client.post("/api/test-commit", headers={"authorization": "Bearer none"})
    finally:
        event.remove(sessions, "before_commit", refuse)
    assert response.status_code == 500
