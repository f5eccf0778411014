"""No personal value in any log line: a real server (uvicorn on 127.0.0.1, an ephemeral port) is driven through
good and bad requests with every logger at its most verbose, and the captured output is searched.

Also: an undecodable body is a 422 naming the body, not a 500, and the keep-alive connection it came on
still serves the next request.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from accessutil import case, customer, employee

from ombud import migrate
from ombud.app import create_app
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.staff import service as staff_service
from ombud.staff.models import Role

# Personal values the requests carry (fictional): none may appear in any log line.
EMAIL = "jane.doe.secret@example.com"
SSN = "078-05-1120"
PHONE = "555-010-9876"
NAME = "Quentin Zebulon Privatus"
SECRETS = [EMAIL, SSN, PHONE, NAME, "jane.doe.secret", "078051120", "5550109876", "Zebulon"]


class _Server:
    def __init__(self, app) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="trace",
                                access_log=True, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self.server.servers[0].sockets[0].getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def store(tmp_path: Path):
    """A server's own SQLite store, migrated, with an agent, a customer and the agent's open ticket."""
    settings = Settings(env=Environment.test, data_dir=tmp_path / "data", audit_checkpoint_schedule=False,
                        database_url=f"sqlite:///{tmp_path / 'server.db'}")
    migrate.upgrade(settings.resolved_database_url)
    ctx = Context(settings)
    with transaction(ctx.sessions) as session:
        agent = employee(session, Role.agent)
        acct = customer(session)
        ticket = case(session, acct, agent)
        token = staff_service.create_api_token(session, agent, name="log test").token
        ids = {"customer": acct.external_id, "case": ticket.id, "email": acct.email, "phone": acct.phone}
    yield ctx, token, ids
    ctx.close()


@contextmanager
def _every_log_line() -> Iterator[io.StringIO]:
    """Everything any logger writes while inside, at every level (uvicorn's trace included)."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setLevel(1)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(1)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def test_no_personal_value_reaches_any_log_line_and_bad_input_keeps_the_connection(store):
    ctx, token, ids = store
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    with _every_log_line() as captured, _Server(create_app(ctx=ctx)) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        # Good requests.
        assert _request(conn, "GET", "/api/health")[0] == 200
        good = json.dumps({"customer_id": ids["customer"], "purpose": f"case:{ids['case']}",
                           "fields": ["email", "phone"]}).encode()
        status, body = _request(conn, "POST", "/api/access/read", good, auth)
        assert status == 200 and ids["email"].encode() in body  # the answer carries it; no log may
        # A body that is not UTF-8, with personal values around the bad bytes: 422, never a 500.
        raw = b'{"customer_id": "' + EMAIL.encode() + b" \xff\xfe " + SSN.encode() + b'", "fields": ["email"]}'
        status, body = _request(conn, "POST", "/api/access/read", raw, auth)
        assert status == 422 and json.loads(body)["field"] == "body"
        # The same keep-alive connection still works.
        assert _request(conn, "GET", "/api/health")[0] == 200
        # Personal values where an id belongs, in a body, a path and a query.
        for typed in (PHONE, EMAIL, SSN, NAME):
            probe = json.dumps({"customer_id": typed, "purpose": f"case:{ids['case']}", "fields": ["email"]})
            status, body = _request(conn, "POST", "/api/access/read", probe.encode(), auth)
            assert status == 422 and typed.encode() not in body
        from urllib.parse import quote

        for typed in (PHONE, EMAIL, SSN, NAME):
            status, _ = _request(conn, "GET", f"/api/access/transparency/{quote(typed)}", None, auth)
            assert status in (404, 422)
            status, _ = _request(conn, "GET", f"/api/access/decisions?customer_id={quote(typed)}", None, auth)
            assert status in (200, 422)
            status, _ = _request(conn, "GET", f"/api/audit/events?customer_id={quote(typed)}", None, auth)
            assert status in (200, 403, 422)
        # Bad JSON, a wrong type and a huge value carrying personal data; form posts to the console.
        for payload in (b'{"customer_id": "' + EMAIL.encode() + b'"', json.dumps({"customer_id": [SSN]}).encode(),
                        json.dumps({"customer_id": EMAIL * 1000}).encode(),
                        json.dumps({"case_type": "victim_request", "customer_id": PHONE, "title": NAME}).encode()):
            for path in ("/api/access/read", "/api/access/cases", "/api/access/grants"):
                status, _ = _request(conn, "POST", path, payload, auth)
                assert status in (401, 403, 404, 413, 422), (path, status)
        status, _ = _request(conn, "POST", "/login", f"email={quote(EMAIL)}&password={quote(SSN)}".encode(),
                             {"content-type": "application/x-www-form-urlencoded"})
        assert status in (200, 303, 401, 403, 422)
        assert _request(conn, "GET", "/api/health")[0] == 200
        conn.close()
    logged = captured.getvalue()
    assert "POST /api/access/read 422" in logged  # the access log is there, naming the route's template
    for secret in [*SECRETS, ids["email"], ids["phone"]]:
        assert secret not in logged, f"{secret!r} reached the log"
    assert "Traceback" not in logged


CARD = "4111 1111 1111 1111"


def test_the_newer_faces_log_no_personal_value_either(store):
    """Victim requests (portal, API, letters, status pages), the look-back import, incidents, notify, records and
    the customer's page, driven through good and bad requests that carry personal values."""
    ctx, _agent_token, _ids = store
    with transaction(ctx.sessions) as session:
        officer = employee(session, Role.privacy_officer)
        token = staff_service.create_api_token(session, officer, name="log test").token
    auth = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    from urllib.parse import quote, urlencode

    person = {"full_name": NAME, "email": EMAIL, "phone": PHONE, "ssn": SSN, "card_numbers": [CARD],
              "date_of_birth": "1984-07-19", "statement_true": True,
              "address": {"line1": "12 Privatus Lane", "city": "Springfield", "region": "IL", "postal_code": "62704"}}
    with _every_log_line() as captured, _Server(create_app(ctx=ctx)) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def post(path: str, payload: bytes, headers: dict[str, str] = auth) -> tuple[int, bytes]:
            return _request(conn, "POST", path, payload, headers)

        # Victim requests through the API: good, then bad in several ways.
        status, body = post("/api/victim-requests", json.dumps(person).encode())
        assert status == 201, body
        reference = json.loads(body)["reference"]
        for bad in ({**person, "email": NAME}, {**person, "ssn": SSN * 10}, {**person, "card_numbers": [EMAIL]},
                    {**person, "transaction_date": 1733300000}, {**person, "statement_true": "yes"},
                    {**person, "full_name": [NAME]}, {**person, "nickname": NAME}):
            status, body = post("/api/victim-requests", json.dumps(bad).encode())
            assert status == 422, (status, body)
        letter = {**person, "received_at": 1733300000}
        assert post("/api/victim-requests/letters", json.dumps(letter).encode())[0] == 422
        assert _request(conn, "GET", f"/api/victim-requests/{quote(EMAIL)}", None, auth)[0] in (404, 422)
        assert _request(conn, "GET", f"/api/victim-requests/{reference}", None, auth)[0] == 200
        # The public portal form and the secret status pages, with personal values in them.
        form = urlencode({"full_name": NAME, "email": EMAIL, "phone": PHONE, "ssn": SSN, "card_numbers": CARD,
                          "statement_true": "on"}).encode()
        status, _ = post("/request", form, {"content-type": "application/x-www-form-urlencoded"})
        assert status in (200, 303, 403, 422)
        bad_form = urlencode({"full_name": NAME, "email": SSN, "ssn": EMAIL}).encode()
        assert post("/request", bad_form, {"content-type": "application/x-www-form-urlencoded"})[0] in (403, 422)
        for path in (f"/request/status/{quote(EMAIL)}", f"/portal/records/{quote(SSN)}",
                     f"/my-data?token={quote(EMAIL)}", f"/api/public/my-data?token={quote(PHONE)}"):
            assert _request(conn, "GET", path, None, {"accept": "text/html"})[0] in (400, 401, 403, 404, 410, 422)
        # The look-back import: a good row and bad rows, all with personal values.
        header = b"contact_id,contacted_at,channel,name,email,postal_address\n"
        good = f"T1,2024-06-11,email,{NAME},{EMAIL},\n".encode()
        bad = f"T2,{SSN},email,{NAME},{PHONE},\nT3,2024-06-11,fax,{NAME},{EMAIL},{SSN}\n".encode()
        csv_headers = {"authorization": f"Bearer {token}", "content-type": "text/csv"}
        assert post("/api/lookback/import", header + good + bad, csv_headers)[0] == 422
        assert post("/api/lookback/import", header + good, csv_headers)[0] == 200
        assert post("/api/lookback/import", f"{EMAIL},{SSN}\n".encode(), csv_headers)[0] == 422
        # Incidents, notify and records with personal values where they do not belong.
        incident = {"title": NAME, "window_start": "2026-11-01T00:00:00Z", "window_end": EMAIL,
                    "discovered_at": 1733300000, "actors": [EMAIL]}
        assert post("/api/incidents", json.dumps(incident).encode())[0] in (403, 422)
        preview = {"context": {"name": NAME, "email": EMAIL, "ssn": SSN}}
        status, _ = post("/api/notify/templates/victim_request_receipt/preview", json.dumps(preview).encode())
        assert status in (200, 403, 422)
        status, _ = post(f"/api/notify/templates/{quote(EMAIL)}/preview", json.dumps(preview).encode())
        assert status in (403, 404, 422)
        zip_headers = {"authorization": f"Bearer {token}", "content-type": "application/zip"}
        status, body = post("/api/records/verify", f"PK{NAME}{SSN}".encode(), zip_headers)
        assert status in (200, 400, 422) and SSN.encode() not in body
        callback = json.dumps({"event": EMAIL, "ssn": SSN}).encode()
        status, _ = post("/api/public/notify/callback", callback, {"content-type": "application/json",
                                                                    "x-ombud-signature": SSN})
        assert status in (401, 403, 422)
        assert _request(conn, "GET", "/api/health")[0] == 200
        conn.close()
    logged = captured.getvalue()
    assert "POST /api/victim-requests 201" in logged and "POST /api/lookback/import 422" in logged
    for secret in [*SECRETS, CARD, CARD.replace(" ", ""), "12 Privatus Lane"]:
        assert secret not in logged, f"{secret!r} reached the log"
    assert "Traceback" not in logged


def test_a_failed_worker_round_is_logged_without_its_message(settings, sessions, monkeypatch, caplog):
    """A round that fails (the store, a peer) may carry an address or a value in its exception's message: the
    worker logs the type and the code's frames only, and goes on."""
    from ombud.notify.worker import OutboxWorker

    worker = OutboxWorker(settings, sessions)
    rounds = []

    def failing_round():
        rounds.append(1)
        if len(rounds) > 1:
            worker.stop.set()
        raise RuntimeError(f"recipient {EMAIL} refused; SSN {SSN}")

    monkeypatch.setattr(worker, "run_once", failing_round)
    monkeypatch.setattr(worker, "run_due_jobs", list)
    with caplog.at_level(logging.DEBUG):
        worker.run_forever(idle_seconds=0.01)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "outbox round failed" in logged and "RuntimeError" in logged
    assert EMAIL not in logged and SSN not in logged and not any(r.exc_info for r in caplog.records)
