"""lookback: re-contacting everyone who asked about identity theft since a date and did not get their records."""
