"""insider: alerts and triage

Scans of the detectors, cases (one employee's alerts while open), alerts (one per employee and day) and
the access events each alert holds as evidence.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    op.create_table('insider_scan',
    sa.Column('id', _ID, nullable=False),
    sa.Column('started_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', _enum('insider_scan_status', 'running', 'finished', 'failed'), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('explained_share', sa.Float(), nullable=True),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('alerts_new', sa.Integer(), nullable=False),
    sa.Column('params', _JSON, nullable=False),
    sa.Column('summary', _JSON, nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insider_scan'))
    )
    op.create_table('insider_case',
    sa.Column('id', _ID, nullable=False),
    sa.Column('employee_id', _ID, nullable=False),
    sa.Column('status', _enum('insider_case_status', 'open', 'escalated', 'closed'), nullable=False),
    sa.Column('opened_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('max_score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_insider_case_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insider_case'))
    )
    with op.batch_alter_table('insider_case', schema=None) as batch_op:
        batch_op.create_index('ix_insider_case_employee_id_status', ['employee_id', 'status'], unique=False)

    op.create_table('insider_alert',
    sa.Column('id', _ID, nullable=False),
    sa.Column('case_id', _ID, nullable=False),
    sa.Column('scan_id', _ID, nullable=False),
    sa.Column('employee_id', _ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('window_start', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('findings', _JSON, nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('status', _enum('insider_alert_status', 'new', 'assigned', 'dismissed', 'escalated'), nullable=False),
    sa.Column('assignee_id', _ID, nullable=True),
    sa.Column('dismiss_reason', _enum('insider_dismiss_reason', 'legitimate_work', 'expected_for_role', 'duplicate', 'insufficient_evidence'), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('decided_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', _ID, nullable=True),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_employee.id'], name=op.f('fk_insider_alert_assignee_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['insider_case.id'], name=op.f('fk_insider_alert_case_id_insider_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_employee.id'], name=op.f('fk_insider_alert_decided_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_insider_alert_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scan_id'], ['insider_scan.id'], name=op.f('fk_insider_alert_scan_id_insider_scan'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insider_alert')),
    sa.UniqueConstraint('employee_id', 'day', name=op.f('uq_insider_alert_employee_id_day'))
    )
    with op.batch_alter_table('insider_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insider_alert_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_insider_alert_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_insider_alert_scan_id'), ['scan_id'], unique=False)
        batch_op.create_index('ix_insider_alert_status_score', ['status', 'score'], unique=False)

    op.create_table('insider_alert_event',
    sa.Column('id', _ID, nullable=False),
    sa.Column('alert_id', _ID, nullable=False),
    sa.Column('event_ref', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.Column('imported_id', sa.BigInteger(), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('data_class', sa.String(length=24), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('detectors', _JSON, nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['insider_alert.id'], name=op.f('fk_insider_alert_event_alert_id_insider_alert'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insider_alert_event')),
    sa.UniqueConstraint('alert_id', 'event_ref', 'data_class', name=op.f('uq_insider_alert_event_alert_id_event_ref_data_class'))
    )


def downgrade() -> None:
    op.drop_table('insider_alert_event')
    with op.batch_alter_table('insider_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_insider_alert_status_score')
        batch_op.drop_index(batch_op.f('ix_insider_alert_scan_id'))
        batch_op.drop_index(batch_op.f('ix_insider_alert_case_id'))
        batch_op.drop_index(batch_op.f('ix_insider_alert_assignee_id'))
    op.drop_table('insider_alert')
    with op.batch_alter_table('insider_case', schema=None) as batch_op:
        batch_op.drop_index('ix_insider_case_employee_id_status')
    op.drop_table('insider_case')
    op.drop_table('insider_scan')
