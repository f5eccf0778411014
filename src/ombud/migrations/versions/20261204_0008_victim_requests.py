"""victim requests: intake, evidence, verification, the clock

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PURPOSE_KINDS_BEFORE = ("case", "grant", "break_glass", "none")
_PURPOSE_KINDS_AFTER = ("case", "grant", "break_glass", "request", "none")


def _purpose_kinds(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="access_purpose_kind", native_enum=False, create_constraint=True, length=24)


def _set_purpose_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """The broker's decision rows accept purpose kind ``request`` (a victim's records request)."""
    with op.batch_alter_table("access_decision", schema=None) as batch_op:
        batch_op.alter_column("purpose_kind", existing_type=_purpose_kinds(old), type_=_purpose_kinds(new),
                              existing_nullable=False)


def upgrade() -> None:
    op.create_table('victim_request',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('received', 'verifying', 'needs_information', 'verified', 'discovery', 'review', 'package', 'delivered', 'remediating', 'closed', 'declined', name='victim_request_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('channel', sa.Enum('portal', 'api', 'mail', 'email', name='victim_request_channel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('received_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('entered_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('next_check_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('entered_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('identifiers_enc', sa.LargeBinary(), nullable=False),
    sa.Column('contact_enc', sa.LargeBinary(), nullable=False),
    sa.Column('known_enc', sa.LargeBinary(), nullable=True),
    sa.Column('agency_enc', sa.LargeBinary(), nullable=True),
    sa.Column('cards', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('email_hash', sa.String(length=32), nullable=True),
    sa.Column('ssn_hash', sa.String(length=32), nullable=True),
    sa.Column('name_dob_hash', sa.String(length=32), nullable=True),
    sa.Column('previous_request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status_token_hash', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_employee.id'], name=op.f('fk_victim_request_assignee_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['staff_employee.id'], name=op.f('fk_victim_request_entered_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['previous_request_id'], ['victim_request.id'], name=op.f('fk_victim_request_previous_request_id_victim_request'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_request')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_victim_request_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_victim_request_reference')),
    sa.UniqueConstraint('status_token_hash', name=op.f('uq_victim_request_status_token_hash'))
    )
    with op.batch_alter_table('victim_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_request_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_victim_request_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_victim_request_name_dob_hash'), ['name_dob_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_victim_request_next_check_at'), ['next_check_at'], unique=False)
        batch_op.create_index('ix_victim_request_received_at', ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_victim_request_ssn_hash'), ['ssn_hash'], unique=False)
        batch_op.create_index('ix_victim_request_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('victim_request_decline',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ground', sa.Enum('not_required', 'identity_not_confirmed', 'misrepresentation', 'navigational_data', name='victim_request_decline_ground', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('proposed', 'confirmed', 'rejected', name='victim_request_decline_state', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('proposed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('proposed_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reviewed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['staff_employee.id'], name=op.f('fk_victim_request_decline_proposed_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_victim_request_decline_request_id_victim_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff_employee.id'], name=op.f('fk_victim_request_decline_reviewed_by_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_request_decline'))
    )
    with op.batch_alter_table('victim_request_decline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_request_decline_request_id'), ['request_id'], unique=False)

    op.create_table('victim_request_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=True),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_victim_request_event_request_id_victim_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_request_event')),
    sa.UniqueConstraint('request_id', 'dedupe_key', name=op.f('uq_victim_request_event_request_id_dedupe_key'))
    )
    with op.batch_alter_table('victim_request_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_request_event_request_id'), ['request_id'], unique=False)

    op.create_table('victim_request_evidence',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('government_id', 'ftc_report', 'police_report', 'affidavit', 'letter', 'other', name='victim_request_evidence_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename_enc', sa.LargeBinary(), nullable=False),
    sa.Column('data_enc', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_victim_request_evidence_request_id_victim_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['staff_employee.id'], name=op.f('fk_victim_request_evidence_uploaded_by_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_request_evidence'))
    )
    with op.batch_alter_table('victim_request_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_request_evidence_request_id'), ['request_id'], unique=False)

    op.create_table('victim_request_match',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject_kind', sa.Enum('account', 'payment_method', 'credit_application', name='victim_request_subject_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('account_ref', sa.String(length=64), nullable=True),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('suggested', sa.String(length=40), nullable=True),
    sa.Column('explanation_enc', sa.LargeBinary(), nullable=False),
    sa.Column('found_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verdict', sa.Enum('fraud', 'own', 'unrelated', name='victim_request_match_verdict', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_employee.id'], name=op.f('fk_victim_request_match_decided_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_victim_request_match_request_id_victim_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_request_match')),
    sa.UniqueConstraint('request_id', 'subject_kind', 'subject_id', name=op.f('uq_victim_request_match_request_id_subject_kind_subject_id'))
    )
    with op.batch_alter_table('victim_request_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_request_match_request_id'), ['request_id'], unique=False)

    op.create_table('victim_request_verification',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confident', sa.Boolean(), nullable=False),
    sa.Column('basis', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_employee.id'], name=op.f('fk_victim_request_verification_decided_by_id_staff_employee'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_victim_request_verification_request_id_victim_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_request_verification'))
    )
    with op.batch_alter_table('victim_request_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_request_verification_request_id'), ['request_id'], unique=False)

    _set_purpose_kinds(_PURPOSE_KINDS_BEFORE, _PURPOSE_KINDS_AFTER)


def downgrade() -> None:
    _set_purpose_kinds(_PURPOSE_KINDS_AFTER, _PURPOSE_KINDS_BEFORE)
    with op.batch_alter_table('victim_request_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_victim_request_verification_request_id'))

    op.drop_table('victim_request_verification')
    with op.batch_alter_table('victim_request_match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_victim_request_match_request_id'))

    op.drop_table('victim_request_match')
    with op.batch_alter_table('victim_request_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_victim_request_evidence_request_id'))

    op.drop_table('victim_request_evidence')
    with op.batch_alter_table('victim_request_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_victim_request_event_request_id'))

    op.drop_table('victim_request_event')
    with op.batch_alter_table('victim_request_decline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_victim_request_decline_request_id'))

    op.drop_table('victim_request_decline')
    with op.batch_alter_table('victim_request', schema=None) as batch_op:
        batch_op.drop_index('ix_victim_request_status_due_at')
        batch_op.drop_index(batch_op.f('ix_victim_request_ssn_hash'))
        batch_op.drop_index('ix_victim_request_received_at')
        batch_op.drop_index(batch_op.f('ix_victim_request_name_dob_hash'))
        batch_op.drop_index(batch_op.f('ix_victim_request_next_check_at'))
        batch_op.drop_index(batch_op.f('ix_victim_request_email_hash'))
        batch_op.drop_index(batch_op.f('ix_victim_request_assignee_id'))

    op.drop_table('victim_request')
