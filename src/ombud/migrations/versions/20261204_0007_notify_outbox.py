"""notify: the outbox for mail and webhooks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notify_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('template', sa.String(length=100), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'dead', name='notify_mail_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('next_attempt_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('leased_by', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notify_outbox_dedupe_key')),
    sa.UniqueConstraint('message_id', name=op.f('uq_notify_outbox_message_id'))
    )
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notify_outbox_purpose', ['purpose'], unique=False)
        batch_op.create_index('ix_notify_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('notify_webhook',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'delivered', 'confirmed', 'rejected', 'dead', name='notify_webhook_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('next_attempt_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('leased_by', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('created_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmation', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_webhook')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_notify_webhook_idempotency_key'))
    )
    with op.batch_alter_table('notify_webhook', schema=None) as batch_op:
        batch_op.create_index('ix_notify_webhook_purpose', ['purpose'], unique=False)
        batch_op.create_index('ix_notify_webhook_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notify_webhook', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_webhook_status_next_attempt_at')
        batch_op.drop_index('ix_notify_webhook_purpose')

    op.drop_table('notify_webhook')
    with op.batch_alter_table('notify_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_outbox_status_next_attempt_at')
        batch_op.drop_index('ix_notify_outbox_purpose')

    op.drop_table('notify_outbox')
