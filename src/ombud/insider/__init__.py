"""Insider-misuse detection: access events (brokered and imported from the retailer's other tools), detectors."""
