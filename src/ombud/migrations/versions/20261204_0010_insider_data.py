"""insider: retail and staff facts and imported access events

Sellers, products, reviews and support contacts (retail); employees' keyed-hashed home postcode (staff);
access events imported from the retailer's other tools and the import runs that brought them (insider).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ombud.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('insider_import_batch',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', ombud.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('files', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insider_import_batch'))
    )
    op.create_table('retail_seller',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_seller')),
    sa.UniqueConstraint('external_id', name=op.f('uq_retail_seller_external_id'))
    )
    op.create_table('insider_access_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('data_class', sa.Enum('identity_basic', 'contact', 'address', 'payment', 'government_id', 'order_history', 'login_device', 'support_notes', 'video', name='insider_data_class', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('site', sa.String(length=100), nullable=True),
    sa.Column('ticket_ref', sa.String(length=64), nullable=True),
    sa.Column('break_glass', sa.Boolean(), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['insider_import_batch.id'], name=op.f('fk_insider_access_event_batch_id_insider_import_batch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_insider_access_event_employee_id_staff_employee'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insider_access_event')),
    sa.UniqueConstraint('source_system', 'external_id', name=op.f('uq_insider_access_event_source_system_external_id'))
    )
    with op.batch_alter_table('insider_access_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insider_access_event_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_insider_access_event_customer_id_at', ['customer_id', 'at'], unique=False)
        batch_op.create_index('ix_insider_access_event_employee_id_at', ['employee_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_insider_access_event_ticket_ref'), ['ticket_ref'], unique=False)

    op.create_table('retail_product',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('seller_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['retail_seller.id'], name=op.f('fk_retail_product_seller_id_retail_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_product')),
    sa.UniqueConstraint('external_id', name=op.f('uq_retail_product_external_id'))
    )
    with op.batch_alter_table('retail_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retail_product_seller_id'), ['seller_id'], unique=False)

    op.create_table('retail_support_contact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('ticket_ref', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('opened_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('initiated_by', sa.Enum('customer', 'staff', name='contact_initiator', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('topic', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['retail_account.id'], name=op.f('fk_retail_support_contact_account_id_retail_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['staff_employee.id'], name=op.f('fk_retail_support_contact_employee_id_staff_employee'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_support_contact')),
    sa.UniqueConstraint('external_id', name=op.f('uq_retail_support_contact_external_id'))
    )
    with op.batch_alter_table('retail_support_contact', schema=None) as batch_op:
        batch_op.create_index('ix_retail_support_contact_account_id_opened_at', ['account_id', 'opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_retail_support_contact_employee_id'), ['employee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retail_support_contact_ticket_ref'), ['ticket_ref'], unique=False)

    op.create_table('retail_review',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('seller_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('reviewed_at', ombud.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['retail_account.id'], name=op.f('fk_retail_review_account_id_retail_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['retail_product.id'], name=op.f('fk_retail_review_product_id_retail_product'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_id'], ['retail_seller.id'], name=op.f('fk_retail_review_seller_id_retail_seller'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_review')),
    sa.UniqueConstraint('external_id', name=op.f('uq_retail_review_external_id'))
    )
    with op.batch_alter_table('retail_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retail_review_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retail_review_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_retail_review_seller_id_rating', ['seller_id', 'rating'], unique=False)

    with op.batch_alter_table('staff_employee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_postcode_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_employee_home_postcode_hash'), ['home_postcode_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_employee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_employee_home_postcode_hash'))
        batch_op.drop_column('home_postcode_hash')

    with op.batch_alter_table('retail_review', schema=None) as batch_op:
        batch_op.drop_index('ix_retail_review_seller_id_rating')
        batch_op.drop_index(batch_op.f('ix_retail_review_product_id'))
        batch_op.drop_index(batch_op.f('ix_retail_review_account_id'))

    op.drop_table('retail_review')
    with op.batch_alter_table('retail_support_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retail_support_contact_ticket_ref'))
        batch_op.drop_index(batch_op.f('ix_retail_support_contact_employee_id'))
        batch_op.drop_index('ix_retail_support_contact_account_id_opened_at')

    op.drop_table('retail_support_contact')
    with op.batch_alter_table('retail_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retail_product_seller_id'))

    op.drop_table('retail_product')
    with op.batch_alter_table('insider_access_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insider_access_event_ticket_ref'))
        batch_op.drop_index('ix_insider_access_event_employee_id_at')
        batch_op.drop_index('ix_insider_access_event_customer_id_at')
        batch_op.drop_index(batch_op.f('ix_insider_access_event_batch_id'))

    op.drop_table('insider_access_event')
    op.drop_table('retail_seller')
    op.drop_table('insider_import_batch')
