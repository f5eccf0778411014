"""access broker

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_policy_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('previous_id', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('files', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_policy_version')),
    sa.UniqueConstraint('previous_id', name=op.f('uq_access_policy_version_previous_id'))
    )
    op.create_table('access_break_glass',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('classes', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('opened_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('raised_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review', sa.Enum('pending', 'justified', 'unjustified', name='access_break_glass_review', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('reviewed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reviewed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_break_glass_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff_employee.id'], name=op.f('fk_access_break_glass_reviewed_by_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_break_glass'))
    )
    with op.batch_alter_table('access_break_glass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_break_glass_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_break_glass_employee_id'), ['employee_id'], unique=False)

    op.create_table('access_case',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_type', sa.Enum('victim_request', 'support_ticket', 'insider_investigation', 'incident', name='access_case_type', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='access_case_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('opened_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('opened_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('close_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_employee.id'], name=op.f('fk_access_case_assignee_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff_employee.id'], name=op.f('fk_access_case_closed_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['staff_employee.id'], name=op.f('fk_access_case_opened_by_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_case'))
    )
    with op.batch_alter_table('access_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_case_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_access_case_customer_id_status', ['customer_id', 'status'], unique=False)

    op.create_table('access_daily_usage',
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reads', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_daily_usage_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'day', name=op.f('pk_access_daily_usage'))
    )
    op.create_table('access_decision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('purpose_kind', sa.Enum('case', 'grant', 'break_glass', 'none', name='access_purpose_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('purpose_id', sa.BigInteger(), nullable=True),
    sa.Column('case_type', sa.String(length=24), nullable=True),
    sa.Column('decision', sa.Enum('allowed', 'masked', 'denied', name='access_decision_outcome', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('allowed_mask', sa.Integer(), nullable=False),
    sa.Column('masked_mask', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('policy_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_decision_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_decision'))
    )
    with op.batch_alter_table('access_decision', schema=None) as batch_op:
        batch_op.create_index('ix_access_decision_customer_id_at', ['customer_id', 'at'], unique=False)
        batch_op.create_index('ix_access_decision_employee_id_at', ['employee_id', 'at'], unique=False)

    op.create_table('access_grant',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('just_in_time', 'standing', name='access_grant_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('data_class', sa.String(length=24), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('requested', 'approved', 'denied', 'cancelled', 'expired', 'revoked', name='access_grant_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('requested_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('starts_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('end_reason', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_employee.id'], name=op.f('fk_access_grant_decided_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_grant_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['staff_employee.id'], name=op.f('fk_access_grant_ended_by_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_grant'))
    )
    with op.batch_alter_table('access_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_grant_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_access_grant_employee_id_status', ['employee_id', 'status'], unique=False)

    op.create_table('access_profile',
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('daily_limit', sa.Integer(), nullable=True),
    sa.Column('shift_start', sa.SmallInteger(), nullable=False),
    sa.Column('shift_end', sa.SmallInteger(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_profile_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_access_profile'))
    )
    op.create_table('access_review_round',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='access_review_round_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('unused_days', sa.Integer(), nullable=False),
    sa.Column('opened_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff_employee.id'], name=op.f('fk_access_review_round_closed_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['staff_employee.id'], name=op.f('fk_access_review_round_opened_by_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_review_round'))
    )
    op.create_table('access_review_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('grant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reviewer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('data_class', sa.String(length=24), nullable=False),
    sa.Column('reads_in_window', sa.Integer(), nullable=False),
    sa.Column('last_used_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('flagged_unused', sa.Boolean(), nullable=False),
    sa.Column('decision', sa.Enum('pending', 'confirmed', 'revoked', name='access_review_decision', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('decided_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_employee.id'], name=op.f('fk_access_review_item_decided_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_access_review_item_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grant_id'], ['access_grant.id'], name=op.f('fk_access_review_item_grant_id_access_grant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_employee.id'], name=op.f('fk_access_review_item_reviewer_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['access_review_round.id'], name=op.f('fk_access_review_item_round_id_access_review_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_review_item'))
    )
    with op.batch_alter_table('access_review_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_review_item_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_review_item_round_id'), ['round_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_review_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_review_item_round_id'))
        batch_op.drop_index(batch_op.f('ix_access_review_item_reviewer_id'))

    op.drop_table('access_review_item')
    op.drop_table('access_review_round')
    op.drop_table('access_profile')
    with op.batch_alter_table('access_grant', schema=None) as batch_op:
        batch_op.drop_index('ix_access_grant_employee_id_status')
        batch_op.drop_index(batch_op.f('ix_access_grant_customer_id'))

    op.drop_table('access_grant')
    with op.batch_alter_table('access_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_access_decision_employee_id_at')
        batch_op.drop_index('ix_access_decision_customer_id_at')

    op.drop_table('access_decision')
    op.drop_table('access_daily_usage')
    with op.batch_alter_table('access_case', schema=None) as batch_op:
        batch_op.drop_index('ix_access_case_customer_id_status')
        batch_op.drop_index(batch_op.f('ix_access_case_assignee_id'))

    op.drop_table('access_case')
    with op.batch_alter_table('access_break_glass', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_break_glass_employee_id'))
        batch_op.drop_index(batch_op.f('ix_access_break_glass_customer_id'))

    op.drop_table('access_break_glass')
    op.drop_table('access_policy_version')
