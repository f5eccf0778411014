"""Ombud: identity-theft records requests (FCRA 609(e)) and brokered, audited staff access to customer data."""

__version__ = "0.1.0"
