"""FCRA 609(e) records requests of identity-theft victims: intake, evidence, verification, the 30-day clock,
discovery review and statutory declines (see docs/victim-requests.md)."""
