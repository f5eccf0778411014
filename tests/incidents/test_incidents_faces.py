"""The faces: API (open, scope, exposure, proofs, export), console pages and the CLI, against the scenario."""

from __future__ import annotations

import io

import polars as pl
from accessutil import employee
from fastapi.testclient import TestClient
from incidentutil import build, signed_in

from ombud.staff import service as staff_service
from ombud.staff.models import Role


def _api(app, session, who):
    token = staff_service.create_api_token(session, who, name="test tool").token
    session.commit()
    return TestClient(app, headers={"authorization": f"Bearer {token}"})


_browser = signed_in


def _open(api, s):
    body = {"title": "Insider sold emails", "actors": [s.insider.external_id],
            "window_start": s.window[0].isoformat(), "window_end": s.window[1].isoformat(),
            "discovered_at": s.window[1].isoformat(), "description": "Emails sold to a third party."}
    created = api.post("/api/incidents", json=body)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_api_opens_scopes_and_exports(app, session, frozen):
    s = build(session, frozen)
    analyst = employee(session, Role.security_analyst)
    api = _api(app, session, analyst)
    incident_id = _open(api, s)
    scoped = api.post(f"/api/incidents/{incident_id}/scope")
    assert scoped.status_code == 200, scoped.text
    assert scoped.json()["customers"] == 4
    page = api.get(f"/api/incidents/{incident_id}/exposure", params={"limit": 100}).json()
    assert {(r["customer_id"], r["item"]) for r in page["items"]} == s.truth
    ca = s.customers["ca"].external_id
    proofs = api.get(f"/api/incidents/{incident_id}/exposure/{ca}/proofs").json()
    assert proofs["proofs"] and all(p["verified"] for p in proofs["proofs"])
    parquet = api.get(f"/api/incidents/{incident_id}/exposure.parquet")
    assert pl.read_parquet(io.BytesIO(parquet.content)).height == len(s.truth)
    assert api.get(f"/api/incidents/{incident_id}/exposure.csv").text.count("\n") == len(s.truth) + 1
    detail = api.get(f"/api/incidents/{incident_id}").json()
    assert {(d["jurisdiction"], d["kind"]) for d in detail["deadlines"]} == {
        ("CA", "individuals"), ("TX", "individuals"), ("NY", "individuals"), ("default", "individuals")}
    agent_api = _api(app, session, employee(session, Role.agent))
    assert agent_api.get(f"/api/incidents/{incident_id}").status_code == 403


def test_bad_input_names_the_field(app, session, frozen):
    api = _api(app, session, employee(session, Role.security_analyst))
    bad = api.post("/api/incidents", json={"title": "x", "actors": ["E-nobody"], "window_start": "2026-03-02T08:00Z",
                                           "window_end": "2026-03-02T09:00Z", "discovered_at": "2026-03-02T09:00Z"})
    assert bad.status_code == 422 and bad.json()["field"] == "actors"
    backwards = api.post("/api/incidents", json={"title": "x", "kind": "vendor", "window_start": "2026-03-02T08:00Z",
                                                 "window_end": "2026-03-01T09:00Z",
                                                 "discovered_at": "2026-03-02T09:00Z"})
    assert backwards.status_code == 422 and backwards.json()["field"] == "window_end"


def test_console_pages(app, session, settings, frozen):
    s = build(session, frozen)
    analyst = employee(session, Role.security_analyst)
    browser, csrf = _browser(app, session, settings, analyst)
    opened = browser.post("/incidents", data={
        "csrf_token": csrf, "title": "Leaked export", "kind": "insider", "actors": s.insider.external_id,
        "start": s.window[0].strftime("%Y-%m-%dT%H:%M"), "end": s.window[1].strftime("%Y-%m-%dT%H:%M"),
        "discovered": s.window[1].strftime("%Y-%m-%dT%H:%M")})
    assert opened.status_code == 303 and opened.headers["location"].startswith("/incidents/")
    where = opened.headers["location"]
    scoped = browser.post(f"{where}/scope", data={"csrf_token": csrf})
    assert scoped.status_code == 303
    page = browser.get(where)
    assert page.status_code == 200 and 'data-customers="4"' in page.text
    assert "Deadlines by jurisdiction" in page.text and "<script" not in page.text
    ca = s.customers["ca"].external_id
    with_proofs = browser.get(where, params={"customer": ca})
    assert "verified" in with_proofs.text and "NOT VERIFIED" not in with_proofs.text
    assert browser.get("/incidents").status_code == 200
    rules = browser.get("/incidents/jurisdictions")
    assert "1798.82" in rules.text and 'data-rule="TX"' in rules.text


def test_cli_open_scope_show_export(cli, session, frozen, tmp_path):
    s = build(session, frozen)
    session.commit()
    run = cli

    opened = run("incidents", "open", "--title", "Insider", "--actor", s.insider.external_id, "--start",
                 s.window[0].isoformat(), "--end", s.window[1].isoformat(), "--as", s.bystander.external_id)
    assert opened.exit_code == 0, opened.output
    incident_id = int(opened.output.split()[1])
    scoped = run("incidents", "scope", incident_id, "--as", s.bystander.external_id)
    assert scoped.exit_code == 0, scoped.output
    assert "4 customers" in scoped.output
    shown = run("incidents", "show", incident_id)
    assert "individuals" in shown.output and "TX" in shown.output
    out = tmp_path / "exposure.csv"
    assert run("incidents", "export", incident_id, "--out", out).exit_code == 0
    assert len(out.read_text().splitlines()) == len(s.truth) + 1
    bad = run("incidents", "open", "--title", "x", "--actor", "nobody", "--start", "yesterday", "--end", "now",
              "--as", s.bystander.external_id)
    assert bad.exit_code == 2
