"""incident templates: versioned notice wording, the approved version, the version each notice was sent with

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ombud.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incident_notice_template",
        sa.Column("id", _ID, nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("incident_id", _ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", ombud.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("audit_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_employee.id"],
                                name=op.f("fk_incident_notice_template_created_by_id_staff_employee"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"],
                                name=op.f("fk_incident_notice_template_incident_id_incident"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notice_template")),
        sa.UniqueConstraint("owner", "version", name=op.f("uq_incident_notice_template_owner_version")),
    )
    with op.batch_alter_table("incident_notice_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_notice_template_incident_id"), ["incident_id"], unique=False)
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_template_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("incident_notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident_notice", schema=None) as batch_op:
        batch_op.drop_column("template_id")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("approved_template_id")
    with op.batch_alter_table("incident_notice_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_notice_template_incident_id"))
    op.drop_table("incident_notice_template")
