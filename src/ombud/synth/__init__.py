"""The synthetic retailer: realistic customers, staff and injected identity theft, with ground truth."""

from ombud.synth.generate import DEFAULT_AS_OF, DEFAULT_VICTIM_RATE, Summary, generate
from ombud.synth.sink import COLUMNS, KINDS
from ombud.synth.truth import find_victim, read_summary, read_victims

__all__ = [
    "COLUMNS", "DEFAULT_AS_OF", "DEFAULT_VICTIM_RATE", "KINDS", "Summary", "find_victim", "generate", "read_summary",
    "read_victims",
]
