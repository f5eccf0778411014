"""Tables of the audit domain."""

from __future__ import annotations
