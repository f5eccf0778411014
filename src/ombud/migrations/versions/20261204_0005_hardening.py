"""hardening: case origins and input limits

Cases carry their origin (customer contact, victim request, manager-assigned, self-opened). Existing cases get
the origin their rows show: opened by the system (no employee) -> a victim request for victim-request cases, a
customer contact otherwise; opened by the employee it is assigned to -> self-opened; opened by someone else for
another employee or a team -> manager-assigned.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ORIGINS = ("customer_contact", "victim_request", "manager_assigned", "self_opened")


def upgrade() -> None:
    with op.batch_alter_table("access_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.Enum(*_ORIGINS, name="access_case_origin", native_enum=False,
                                                        create_constraint=True, length=24), nullable=True))
        batch_op.add_column(sa.Column("origin_ref", sa.String(length=100), nullable=True))
    op.execute(
        "UPDATE access_case SET origin = CASE "
        "WHEN opened_by_id IS NULL AND case_type = 'victim_request' THEN 'victim_request' "
        "WHEN opened_by_id IS NULL THEN 'customer_contact' "
        "WHEN assignee_id = opened_by_id THEN 'self_opened' "
        "ELSE 'manager_assigned' END"
    )
    with op.batch_alter_table("access_case", schema=None) as batch_op:
        batch_op.alter_column("origin", existing_type=sa.Enum(*_ORIGINS, name="access_case_origin",
                                                              native_enum=False, create_constraint=True, length=24),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("access_case", schema=None) as batch_op:
        batch_op.drop_column("origin_ref")
        batch_op.drop_column("origin")
