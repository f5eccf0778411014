"""Fixtures of the retail tests: the hand-written import files and a helper to import them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def good_dir(tmp_path: Path) -> Path:
    """A private copy of the good fixture files, free to edit."""
    target = tmp_path / "good"
    shutil.copytree(DATA / "good", target)
    return target


@pytest.fixture
def bad_dir() -> Path:
    return DATA / "bad"
