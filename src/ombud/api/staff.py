"""Staff API: who am I, my API tokens, and (for admins) the staff directory."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ombud.api.deps import CurrentStaff, DbSession, Staff, require_roles
from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.staff.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenRead, EmployeePage, EmployeeRead

router = APIRouter(prefix="/api/staff", tags=["staff"])

Admin = Annotated[Staff, Depends(require_roles(Role.admin))]


@router.get("/me", response_model=EmployeeRead)
def me(staff: CurrentStaff) -> EmployeeRead:
    """The employee this request is signed in as."""
    return EmployeeRead.model_validate(staff.employee)


@router.get("/tokens", response_model=list[ApiTokenRead])
def list_tokens(session: DbSession, staff: CurrentStaff) -> list[ApiTokenRead]:
    """Your API tokens, newest first, including revoked and expired ones (never their secrets)."""
    return [ApiTokenRead.model_validate(t) for t in staff_service.list_api_tokens(session, staff.employee)]


@router.post("/tokens", response_model=ApiTokenCreated, status_code=201)
def create_token(body: ApiTokenCreate, session: DbSession, staff: CurrentStaff) -> ApiTokenCreated:
    """Create an API token acting as you; the response holds the secret, shown this once only."""
    valid_for = timedelta(days=body.days) if body.days else None
    new = staff_service.create_api_token(
        session, staff.employee, name=body.name, valid_for=valid_for, actor=staff.employee
    )
    return ApiTokenCreated(token=new.token, **ApiTokenRead.model_validate(new.record).model_dump())


@router.delete("/tokens/{prefix}", status_code=204)
def revoke_token(prefix: str, session: DbSession, staff: CurrentStaff) -> Response:
    """Revoke one of your API tokens (404 if you have none with that prefix)."""
    staff_service.revoke_api_token(session, prefix, employee=staff.employee, actor=staff.employee)
    return Response(status_code=204)


@router.get("/employees", response_model=EmployeePage)
def list_employees(
    session: DbSession,
    _admin: Admin,
    role: Annotated[Role | None, Query(description="Only employees of this role.")] = None,
    include_departed: Annotated[bool, Query(description="Also list employees who have left.")] = False,
) -> EmployeePage:
    """The staff directory (admins only)."""
    employees = staff_service.list_employees(session, role=role, include_departed=include_departed)
    return EmployeePage(items=[EmployeeRead.model_validate(e) for e in employees], total=len(employees))
