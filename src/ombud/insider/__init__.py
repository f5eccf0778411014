"""Insider-misuse detection: explain accesses, score what stays unexplained, alerts with evidence, triage."""
