"""Small helpers for page tests (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

import re

HTML = {"accept": "text/html,application/xhtml+xml"}


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field in a page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name} in the page"
    return match.group(1)
