"""Page and API tests: an app over the test's rolled-back store, a browser-like client, sign-in helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from webutil import HTML, hidden

from ombud.staff.models import Employee
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing


@pytest.fixture(autouse=True)
def _fast_passwords() -> Iterator[None]:
    with fast_password_hashing():
        yield


@pytest.fixture
def client(app) -> TestClient:
    """A client that behaves like a browser: asks for HTML, keeps cookies, does not follow redirects."""
    return TestClient(app, headers=HTML, follow_redirects=False)


@pytest.fixture
def sign_in(client) -> Callable[..., str]:
    """Sign in through the form; returns the session's CSRF token as the next page shows it."""

    def _sign_in(employee: Employee, password: str = DEFAULT_PASSWORD) -> str:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={"email": employee.email, "password": password, "login_csrf": hidden(form.text, "login_csrf")},
        )
        assert response.status_code == 303, response.text
        home = client.get("/")
        assert home.status_code == 200
        return hidden(home.text, "csrf_token")

    return _sign_in
