"""The synthetic retailer: realistic customers, staff and injected identity theft, with ground truth."""

from ombud.synth.generate import DEFAULT_AS_OF, DEFAULT_VICTIM_RATE, Summary, generate
from ombud.synth.sink import COLUMNS, KINDS

__all__ = ["COLUMNS", "DEFAULT_AS_OF", "DEFAULT_VICTIM_RATE", "KINDS", "Summary", "generate"]
