"""A small Python client for internal tools reading customer data through Ombud's broker.

    from ombud.access.client import AccessClient, AccessRefused

    with AccessClient("https://ombud.internal", token="omb_...") as ombud:
        case = ombud.open_case("support_ticket", "C000123", "Delivery question")
        view = ombud.read("C000123", fields=["email", "orders"], purpose=f"case:{case['id']}")
        view["fields"]["email"]          # shown, or masked like j***@example.com
        view["masked"]                   # which fields came back masked

A refused read raises ``AccessRefused`` with the broker's reason and the audit leaf that records it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class AccessError(Exception):
    """The server answered with an error."""

    def __init__(self, status_code: int, detail: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail
        self.body = body or {}


class AccessRefused(AccessError):
    """The broker refused the read (403); ``detail`` says why, ``audit_index`` names the audit leaf."""

    @property
    def audit_index(self) -> int | None:
        return self.body.get("audit_index")


class AccessClient:
    """A client for ``/api/access``; one connection pool, reused across calls."""

    def __init__(
        self, base_url: str, token: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"authorization": f"Bearer {token}", "accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> AccessClient:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"/api/access{path}", **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text}
            detail = body.get("detail") if isinstance(body, dict) else str(body)
            error = AccessRefused if response.status_code == 403 else AccessError
            raise error(response.status_code, str(detail), body if isinstance(body, dict) else None)
        return response.json() if response.content else None

    # --- the broker -----------------------------------------------------------------------------------

    def read(
        self, customer_id: str, *, purpose: str, fields: list[str] | None = None, classes: list[str] | None = None
    ) -> dict[str, Any]:
        """Read a customer's fields (or whole classes) for a purpose (``case:<id>``, ``grant:<id>``...)."""
        body = {"customer_id": customer_id, "fields": fields, "classes": classes, "purpose": purpose}
        return self._call("POST", "/read", json=body)

    # --- cases ----------------------------------------------------------------------------------------

    def open_case(self, case_type: str, customer_id: str, title: str, *, assignee: str | None = None,
                  team: str | None = None, source: str | None = None) -> dict[str, Any]:
        """Open a case; its id is the purpose ``case:<id>``."""
        body = {"case_type": case_type, "customer_id": customer_id, "title": title, "assignee": assignee,
                "team": team, "source": source}
        return self._call("POST", "/cases", json=body)

    def cases(self, **filters: Any) -> list[dict[str, Any]]:
        """Cases visible to you (filters: status, customer_id, case_type, mine, limit, offset)."""
        return self._call("GET", "/cases", params={k: v for k, v in filters.items() if v is not None})

    def case(self, case_id: int) -> dict[str, Any]:
        """One case."""
        return self._call("GET", f"/cases/{case_id}")

    def assign_case(self, case_id: int, *, assignee: str | None = None, team: str | None = None) -> dict[str, Any]:
        """Give a case to an employee and/or a team."""
        return self._call("POST", f"/cases/{case_id}/assign", json={"assignee": assignee, "team": team})

    def close_case(self, case_id: int, reason: str | None = None) -> dict[str, Any]:
        """Close a case."""
        return self._call("POST", f"/cases/{case_id}/close", json={"reason": reason})

    # --- grants and break-glass -----------------------------------------------------------------------

    def request_grant(self, data_class: str, justification: str, *, customer_id: str | None = None,
                      kind: str = "just_in_time", duration_minutes: int | None = None) -> dict[str, Any]:
        """Ask for a grant."""
        body = {"kind": kind, "data_class": data_class, "customer_id": customer_id,
                "justification": justification, "duration_minutes": duration_minutes}
        return self._call("POST", "/grants", json=body)

    def approve_grant(self, grant_id: int, note: str | None = None) -> dict[str, Any]:
        """Approve someone else's request."""
        return self._call("POST", f"/grants/{grant_id}/approve", json={"note": note})

    def deny_grant(self, grant_id: int, note: str | None = None) -> dict[str, Any]:
        """Deny someone else's request."""
        return self._call("POST", f"/grants/{grant_id}/deny", json={"note": note})

    def break_glass(self, customer_id: str, justification: str, *, classes: list[str] | None = None,
                    minutes: int = 30) -> dict[str, Any]:
        """Open emergency access (raised to security); read with purpose ``break_glass:<id>``."""
        body = {"customer_id": customer_id, "justification": justification, "classes": classes, "minutes": minutes}
        return self._call("POST", "/break-glass", json=body)

    # --- transparency ---------------------------------------------------------------------------------

    def transparency(self, customer_id: str) -> dict[str, Any]:
        """Accesses to a customer's data: when, classes, purpose category, team and region."""
        return self._call("GET", f"/transparency/{customer_id}")
