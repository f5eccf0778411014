"""The retailer's records that Ombud holds. Card numbers are never stored; SSNs only encrypted and hashed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, UTCDateTime, str_enum


class AccountStatus(StrEnum):
    active = "active"
    locked = "locked"
    closed = "closed"


class AddressKind(StrEnum):
    shipping = "shipping"
    billing = "billing"


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    returned = "returned"


class CreditProduct(StrEnum):
    store_card = "store_card"
    financing = "financing"


class CreditDecision(StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


class Account(Base):
    __tablename__ = "retail_account"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[AccountStatus] = mapped_column(str_enum(AccountStatus, "account_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Empty when the export left it out (a field warning at import): the account still lands.
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    signup_ip: Mapped[str | None] = mapped_column(String(45))
    signup_device: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Address(Base):
    __tablename__ = "retail_address"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AddressKind] = mapped_column(str_enum(AddressKind, "address_kind"))
    name: Mapped[str | None] = mapped_column(String(200))
    # Any part may be missing in a messy export (a field warning at import): the address still lands.
    line1: Mapped[str | None] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(50))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="US")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentMethod(Base):
    """A card on an account: its keyed fingerprint and what is printed on it, never its number."""

    __tablename__ = "retail_payment_method"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"), index=True)
    card_fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    last4: Mapped[str] = mapped_column(String(4))
    brand: Mapped[str] = mapped_column(String(20))
    exp_month: Mapped[int] = mapped_column(SmallInteger)
    exp_year: Mapped[int] = mapped_column(SmallInteger)
    cardholder_name: Mapped[str | None] = mapped_column(String(200))
    billing_address_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_address.id", ondelete="SET NULL"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Order(Base):
    __tablename__ = "retail_order"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"), index=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_status"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_cents: Mapped[int] = mapped_column(Integer)
    payment_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_payment_method.id", ondelete="SET NULL"), index=True
    )
    ship_to_address_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_address.id", ondelete="SET NULL"), index=True
    )
    billing_address_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_address.id", ondelete="SET NULL"), index=True
    )
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(200))


class OrderLine(Base):
    __tablename__ = "retail_order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("retail_order.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(SmallInteger)
    sku: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)


class CreditApplication(Base):
    """A store-card or financing application; the SSN is held only encrypted plus a keyed hash."""

    __tablename__ = "retail_credit_application"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_account.id", ondelete="SET NULL"), index=True
    )
    product: Mapped[CreditProduct] = mapped_column(str_enum(CreditProduct, "credit_product"))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    ssn_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ssn_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    ssn_last4: Mapped[str | None] = mapped_column(String(4))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    line1: Mapped[str | None] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(50))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="US")
    annual_income_cents: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[CreditDecision] = mapped_column(str_enum(CreditDecision, "credit_decision"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credit_limit_cents: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(200))


class Login(Base):
    __tablename__ = "retail_login"
    __table_args__ = (Index("ix_retail_login_account_id_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(200))
    success: Mapped[bool] = mapped_column(Boolean, default=True)


class SupportNote(Base):
    __tablename__ = "retail_support_note"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)


class ContactInitiator(StrEnum):
    """Who opened a support contact: the customer (a call, chat, mail) or a member of staff."""

    customer = "customer"
    staff = "staff"


class Seller(Base):
    """A third-party seller on the marketplace (a business, not a person)."""

    __tablename__ = "retail_seller"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Product(Base):
    __tablename__ = "retail_product"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("retail_seller.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))


class Review(Base):
    """A customer's rating (1-5) of a seller, usually of one of the seller's products."""

    __tablename__ = "retail_review"
    __table_args__ = (Index("ix_retail_review_seller_id_rating", "seller_id", "rating"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("retail_product.id", ondelete="SET NULL"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("retail_seller.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SupportContact(Base):
    """One contact on a support ticket: who contacted whom (customer or staff first), when, how, about what."""

    __tablename__ = "retail_support_contact"
    __table_args__ = (Index("ix_retail_support_contact_account_id_opened_at", "account_id", "opened_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_ref: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("retail_account.id", ondelete="CASCADE"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_employee.id", ondelete="SET NULL"), index=True)
    team: Mapped[str | None] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    initiated_by: Mapped[ContactInitiator] = mapped_column(str_enum(ContactInitiator, "contact_initiator"))
    channel: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(100))
