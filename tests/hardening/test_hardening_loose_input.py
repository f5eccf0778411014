"""Booleans are written ``true`` or ``false`` and nothing else, in every query and form of the API and the console;
a console form's bad or out-of-range integer is answered with a page naming the field and saying why in words.

The routes are found by walking the app (``ombud.api.conform`` works from the same dependencies), so a route
added tomorrow is held to it too. Each test fails on the code before it (Pydantic took ``yes``, ``1`` and ``on``;
a console integer out of range reached the route's own code, one beyond 64 bits the store).
"""

from __future__ import annotations

import html
import re

import pytest
from accessutil import employee
from fastapi import params
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from ombud.api.conform import BOOLEANS
from ombud.api.contract import BOOLEAN_TEXT
from ombud.api.limits import dependants
from ombud.app import create_app
from ombud.config import Settings
from ombud.staff.models import Role
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing, make_employee

HTML = {"accept": "text/html,application/xhtml+xml"}
LOOSE = ["yes", "1", "on", "0", "no", "off", "True", "FALSE", "t", "y"]


def _routes(kind: type, where: type) -> list[tuple[APIRoute, str, object]]:
    """Every (route, parameter name, field info) of a type, in the query (params.Query) or a form (params.Form)."""
    app = create_app(Settings(database_url="sqlite://"))
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        every = dependants(route.dependant)
        fields = [p for d in every for p in (d.query_params if where is params.Query else d.body_params)]
        for p in fields:
            annotation = p.field_info.annotation
            if (annotation is kind or kind in getattr(annotation, "__args__", ())) and isinstance(p.field_info, where):
                found.append((route, p.alias, p.field_info))
    return found


def _address(route: APIRoute) -> str:
    return re.sub(r"\{[^}]+\}", "1", route.path)  # any value: the check runs before the route looks it up


BOOLEAN_QUERIES = _routes(bool, params.Query)
BOOLEAN_FORMS = _routes(bool, params.Form)
INTEGER_FORMS = _routes(int, params.Form)


def test_the_walk_finds_the_parameters_it_is_about():
    assert len(BOOLEAN_QUERIES) >= 5 and len(BOOLEAN_FORMS) >= 3 and len(INTEGER_FORMS) >= 6


@pytest.mark.parametrize(
    "route,name", [(r, n) for r, n, _ in BOOLEAN_QUERIES], ids=[f"{r.path}?{n}" for r, n, _ in BOOLEAN_QUERIES]
)
def test_every_boolean_query_parameter_takes_only_true_or_false(session, frozen, api, route, name):
    client = api(employee(session, Role.admin))
    method = sorted(route.methods)[0]
    for value in LOOSE:
        answer = client.request(method, _address(route), params={name: value})
        assert answer.status_code == 422, (value, answer.text)
        assert answer.json()["field"] == name
        assert "true or false" in answer.json()["detail"]
    for value in BOOLEANS:  # the two written forms get past the check (whatever the route then answers)
        answer = client.request(method, _address(route), params={name: value})
        assert answer.status_code != 422 or answer.json()["field"] != name, answer.text


def test_the_document_says_how_a_boolean_is_written(app):
    document = app.openapi()
    booleans = [
        p
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for p in op.get("parameters", [])
        if p["schema"].get("type") == "boolean"
    ]
    assert booleans
    assert all(BOOLEAN_TEXT in p["description"] for p in booleans)


@pytest.fixture
def console(app, session):
    """A browser signed in through the form as an admin: (client, csrf token)."""
    with fast_password_hashing():
        person = make_employee(session, role=Role.admin)
        client = TestClient(app, headers=HTML, follow_redirects=False)
        form = client.get("/login")
        signed = client.post(
            "/login",
            data={"email": person.email, "password": DEFAULT_PASSWORD, "login_csrf": hidden(form.text, "login_csrf")},
        )
        assert signed.status_code == 303, signed.text
        yield client, hidden(client.get("/").text, "csrf_token")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name} in the page"
    return match.group(1)


def _page_text(answer) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", answer.text)))


@pytest.mark.parametrize(
    "route,name", [(r, n) for r, n, _ in BOOLEAN_FORMS], ids=[f"{r.path}:{n}" for r, n, _ in BOOLEAN_FORMS]
)
def test_every_boolean_form_field_takes_only_true_or_false(console, route, name):
    client, csrf = console
    for value in ("on", "yes", "1"):
        answer = client.post(_address(route), data={name: value, "csrf_token": csrf})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert f"({name}): must be true or false" in _page_text(answer)


@pytest.mark.parametrize("route,name,info", INTEGER_FORMS, ids=[f"{r.path}:{n}" for r, n, _ in INTEGER_FORMS])
def test_every_console_integer_is_bounded_and_a_bad_one_is_named_in_words(console, route, name, info):
    bounds = {type(m).__name__: m for m in info.metadata}
    assert {"Ge", "Le"} <= bounds.keys(), f"{route.path}: {name} declares no range"
    low, high = bounds["Ge"].ge, bounds["Le"].le
    client, csrf = console
    for value, why in [
        ("abc", "must be a whole number (got 'abc')"),
        ("1.5", "must be a whole number (got '1.5')"),
        (str(high + 1), f"must be at most {high} (got '{high + 1}"),
        (str(low - 1), f"must be at least {low} (got '{low - 1}"),
        ("9" * 30, f"must be at most {high} (got '99999999…')"),
    ]:
        answer = client.post(_address(route), data={name: value, "csrf_token": csrf})
        assert answer.status_code == 422, (value, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")  # a page, never the API's JSON
        text = _page_text(answer)
        assert f"({name}): " in text and why in text, text[-600:]


def test_a_console_form_value_holding_a_nul_is_named_on_a_page(console):
    client, csrf = console
    answer = client.post("/account/tokens", data={"name": "laptop\x00", "days": "30", "csrf_token": csrf})
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
    assert "(name): holds a NUL character" in _page_text(answer)
