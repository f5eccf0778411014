"""Pydantic shapes of the staff API: employees and API tokens."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from ombud.staff.models import Role


class EmployeeRead(BaseModel):
    """An employee as the API shows them (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    external_id: str = Field(description="The employee's directory id.")
    name: str
    email: str
    team: str
    role: Role
    region: str
    hired_on: date | None = None
    left_on: date | None = None
    active: bool = Field(description="False once the employee has left.")


class EmployeePage(BaseModel):
    items: list[EmployeeRead]
    total: int


class ApiTokenCreate(BaseModel):
    """A request for a new API token acting as the caller."""

    name: str = Field(min_length=1, max_length=100, description="What the token is for, e.g. the tool's name.")
    days: int | None = Field(
        90, ge=1, le=366, description="Days until the token expires (at most a year); null for no expiry."
    )


class ApiTokenRead(BaseModel):
    """An API token's public facts; the secret itself is never shown again after creation."""

    model_config = ConfigDict(from_attributes=True)

    prefix: str = Field(description="Public identifier of the token (also part of the token itself).")
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The bearer token; shown only this once.")
