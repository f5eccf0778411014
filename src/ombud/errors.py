"""Domain errors (the faces map each to one HTTP status and one CLI exit), and how an error is logged safely."""

from __future__ import annotations

import traceback


class OmbudError(Exception):
    """Base of every error Ombud raises on purpose."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(OmbudError):
    status_code = 404


class Conflict(OmbudError):
    status_code = 409


class PolicyDenied(OmbudError):
    """A policy refused the action; the message says why."""

    status_code = 403


class Unauthenticated(OmbudError):
    status_code = 401


class InvalidTransition(OmbudError):
    status_code = 409


class InvalidInput(OmbudError):
    status_code = 422


class ConfigurationError(OmbudError):
    """The configuration is unsafe or incomplete (e.g. production with generated secrets)."""

    status_code = 500


def safe_traceback(exc: BaseException) -> str:
    """The exception's type chain and the code's frames, without any exception message or local value."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}")
        lines += [f"  {f.filename}:{f.lineno} in {f.name}" for f in frames[-12:]]
        current = current.__cause__ or current.__context__
    return "\n".join(lines)
