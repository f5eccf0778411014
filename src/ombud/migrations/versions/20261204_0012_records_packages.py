"""records packages, delivery, remediation, look-back

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lookback_campaign',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('postal', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookback_campaign'))
    )
    op.create_table('lookback_contact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('contacted_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contact_enc', sa.LargeBinary(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('has_email', sa.Boolean(), nullable=False),
    sa.Column('has_postal', sa.Boolean(), nullable=False),
    sa.Column('records_sent', sa.Boolean(), nullable=False),
    sa.Column('import_batch', sa.String(length=40), nullable=False),
    sa.Column('imported_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('imported', 'candidate', 'excluded', 'queued', 'sent', 'bounced', 'responded', name='lookback_contact_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('excluded_reason', sa.String(length=200), nullable=True),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outbox_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('letter_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['lookback_campaign.id'], name=op.f('fk_lookback_contact_campaign_id_lookback_campaign'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['notify_outbox.id'], name=op.f('fk_lookback_contact_outbox_message_id_notify_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_lookback_contact_request_id_victim_request'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookback_contact')),
    sa.UniqueConstraint('reference', name=op.f('uq_lookback_contact_reference')),
    sa.UniqueConstraint('source_ref', name=op.f('uq_lookback_contact_source_ref'))
    )
    with op.batch_alter_table('lookback_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookback_contact_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookback_contact_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_lookback_contact_status_contacted_at', ['status', 'contacted_at'], unique=False)

    op.create_table('records_agency_authorisation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('basis', sa.Enum('victim', 'legal_process', name='records_authorisation_basis', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('officer', sa.String(length=200), nullable=False),
    sa.Column('badge_or_case', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('revoked_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_records_agency_authorisation_request_id_victim_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records_agency_authorisation'))
    )
    with op.batch_alter_table('records_agency_authorisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_agency_authorisation_request_id'), ['request_id'], unique=False)

    op.create_table('records_identifier_flag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_records_identifier_flag_request_id_victim_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records_identifier_flag'))
    )
    with op.batch_alter_table('records_identifier_flag', schema=None) as batch_op:
        batch_op.create_index('ix_records_identifier_flag_kind_value_hash', ['kind', 'value_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_records_identifier_flag_request_id'), ['request_id'], unique=False)

    op.create_table('records_package',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subjects', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('navigational_included', sa.Boolean(), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('storage_path', sa.String(length=500), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('generated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.String(length=100), nullable=False),
    sa.Column('superseded_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_records_package_request_id_victim_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records_package')),
    sa.UniqueConstraint('manifest_sha256', name=op.f('uq_records_package_manifest_sha256')),
    sa.UniqueConstraint('request_id', 'version', name=op.f('uq_records_package_request_id_version'))
    )
    with op.batch_alter_table('records_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_package_request_id'), ['request_id'], unique=False)

    op.create_table('records_remediation_step',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.Enum('remove_card', 'lock_account', 'cancel_pending_orders', 'close_credit_line', 'flag_identifiers', name='records_remediation_action', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('subject_kind', sa.Enum('account', 'payment_method', 'credit_application', name='records_subject_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('account_ref', sa.String(length=64), nullable=True),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'confirmed', 'failed', name='records_step_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('webhook_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['victim_request.id'], name=op.f('fk_records_remediation_step_request_id_victim_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['notify_webhook.id'], name=op.f('fk_records_remediation_step_webhook_id_notify_webhook'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records_remediation_step')),
    sa.UniqueConstraint('request_id', 'action', 'subject_kind', 'subject_id', name=op.f('uq_records_remediation_step_request_id_action_subject_kind_subject_id'))
    )
    with op.batch_alter_table('records_remediation_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_remediation_step_request_id'), ['request_id'], unique=False)

    op.create_table('records_delivery',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('package_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recipient', sa.Enum('victim', 'agency', name='records_recipient_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('channel', sa.Enum('link', 'postal', name='records_delivery_channel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('authorisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('address', sa.String(length=320), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('verification', sa.Enum('reference', 'code', name='records_verification', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_checks', sa.Integer(), nullable=False),
    sa.Column('expires_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('max_downloads', sa.Integer(), nullable=False),
    sa.Column('downloads', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'expired', 'revoked', 'posted', name='records_delivery_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('postal_address', sa.Text(), nullable=True),
    sa.Column('postal_tracking', sa.String(length=100), nullable=True),
    sa.Column('outbox_message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['authorisation_id'], ['records_agency_authorisation.id'], name=op.f('fk_records_delivery_authorisation_id_records_agency_authorisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['notify_outbox.id'], name=op.f('fk_records_delivery_outbox_message_id_notify_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['package_id'], ['records_package.id'], name=op.f('fk_records_delivery_package_id_records_package'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records_delivery')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_records_delivery_token_hash'))
    )
    with op.batch_alter_table('records_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_delivery_authorisation_id'), ['authorisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_records_delivery_package_id'), ['package_id'], unique=False)

    op.create_table('records_download',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['records_delivery.id'], name=op.f('fk_records_download_delivery_id_records_delivery'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records_download'))
    )
    with op.batch_alter_table('records_download', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_records_download_delivery_id'), ['delivery_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('records_download', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_download_delivery_id'))

    op.drop_table('records_download')
    with op.batch_alter_table('records_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_delivery_package_id'))
        batch_op.drop_index(batch_op.f('ix_records_delivery_authorisation_id'))

    op.drop_table('records_delivery')
    with op.batch_alter_table('records_remediation_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_remediation_step_request_id'))

    op.drop_table('records_remediation_step')
    with op.batch_alter_table('records_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_package_request_id'))

    op.drop_table('records_package')
    with op.batch_alter_table('records_identifier_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_identifier_flag_request_id'))
        batch_op.drop_index('ix_records_identifier_flag_kind_value_hash')

    op.drop_table('records_identifier_flag')
    with op.batch_alter_table('records_agency_authorisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_records_agency_authorisation_request_id'))

    op.drop_table('records_agency_authorisation')
    with op.batch_alter_table('lookback_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_lookback_contact_status_contacted_at')
        batch_op.drop_index(batch_op.f('ix_lookback_contact_request_id'))
        batch_op.drop_index(batch_op.f('ix_lookback_contact_email_hash'))

    op.drop_table('lookback_contact')
    op.drop_table('lookback_campaign')
