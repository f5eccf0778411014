"""incidents: exposure, notices, regulator reports

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('insider', 'leaked_export', 'vendor', 'other', name='incident_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('status', sa.Enum('open', 'scoped', 'approved', 'notifying', 'closed', name='incident_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('actors', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('window_start', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('discovered_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_alert_id', sa.BigInteger(), nullable=True),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('opened_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('opened_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('what_happened', sa.Text(), nullable=False),
    sa.Column('what_we_are_doing', sa.Text(), nullable=False),
    sa.Column('law_enforcement_delay', sa.Boolean(), nullable=False),
    sa.Column('current_scope_id', sa.BigInteger(), nullable=True),
    sa.Column('approved_scope_id', sa.BigInteger(), nullable=True),
    sa.Column('approved_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('approved_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notices_sent_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['staff_employee.id'], name=op.f('fk_incident_approved_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['staff_employee.id'], name=op.f('fk_incident_opened_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['staff_employee.id'], name=op.f('fk_incident_owner_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('source_alert_id', name=op.f('uq_incident_source_alert_id'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_owner_id'), ['owner_id'], unique=False)

    op.create_table('incident_deadline',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.Enum('individuals', 'regulator', name='incident_deadline_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('due_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=300), nullable=False),
    sa.Column('met_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_deadline_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_deadline')),
    sa.UniqueConstraint('incident_id', 'jurisdiction', 'kind', name=op.f('uq_incident_deadline_incident_id_jurisdiction_kind'))
    )
    with op.batch_alter_table('incident_deadline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_deadline_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_incident_entry_employee_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_entry_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_entry'))
    )
    with op.batch_alter_table('incident_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_entry_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_scope',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('computed_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('computed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actors', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('window_start', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('verification', sa.String(length=300), nullable=False),
    sa.Column('reads_scanned', sa.BigInteger(), nullable=False),
    sa.Column('imported_scanned', sa.BigInteger(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('by_jurisdiction', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('diff', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['computed_by_id'], ['staff_employee.id'], name=op.f('fk_incident_scope_computed_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_scope_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_scope')),
    sa.UniqueConstraint('incident_id', 'version', name=op.f('uq_incident_scope_incident_id_version'))
    )
    with op.batch_alter_table('incident_scope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_scope_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_exposure',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('item', sa.String(length=100), nullable=False),
    sa.Column('data_class', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('first_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('leaves', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('imported', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['scope_id'], ['incident_scope.id'], name=op.f('fk_incident_exposure_scope_id_incident_scope'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_exposure')),
    sa.UniqueConstraint('scope_id', 'customer_id', 'item', 'source', name=op.f('uq_incident_exposure_scope_id_customer_id_item_source'))
    )
    with op.batch_alter_table('incident_exposure', schema=None) as batch_op:
        batch_op.create_index('ix_incident_exposure_customer_id', ['customer_id'], unique=False)

    op.create_table('incident_notice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Enum('email', 'letter', name='incident_notice_channel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sent', 'bounced', 'failed', 'printed', name='incident_notice_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('outbox_id', sa.BigInteger(), nullable=True),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('queued_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_notice_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scope_id'], ['incident_scope.id'], name=op.f('fk_incident_notice_scope_id_incident_scope'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_notice')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_incident_notice_dedupe_key')),
    sa.UniqueConstraint('incident_id', 'customer_id', 'channel', name=op.f('uq_incident_notice_incident_id_customer_id_channel'))
    )
    with op.batch_alter_table('incident_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_notice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_notice_incident_id'), ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_notice_incident_id'))
        batch_op.drop_index(batch_op.f('ix_incident_notice_customer_id'))

    op.drop_table('incident_notice')
    with op.batch_alter_table('incident_exposure', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_exposure_customer_id')

    op.drop_table('incident_exposure')
    with op.batch_alter_table('incident_scope', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_scope_incident_id'))

    op.drop_table('incident_scope')
    with op.batch_alter_table('incident_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_entry_incident_id'))

    op.drop_table('incident_entry')
    with op.batch_alter_table('incident_deadline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_deadline_incident_id'))

    op.drop_table('incident_deadline')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_owner_id'))

    op.drop_table('incident')
