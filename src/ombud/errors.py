"""Domain errors; the faces map each to one HTTP status and one CLI exit."""

from __future__ import annotations


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
