"""Fixtures of the insider-data tests: the retail fixture files plus sellers, reviews, contacts, HR and events."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
RETAIL_GOOD = Path(__file__).parents[1] / "retail" / "data" / "good"


def _world(tmp_path: Path, extra: str) -> Path:
    target = tmp_path / extra
    shutil.copytree(RETAIL_GOOD, target)
    for path in (DATA / extra).iterdir():
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
def good_world(tmp_path: Path) -> Path:
    """The retail good files with good sellers, products, reviews, contacts, HR facts and access events."""
    return _world(tmp_path, "good")


@pytest.fixture
def bad_world(tmp_path: Path) -> Path:
    """The retail good files with bad rows in the new kinds and in the access events."""
    return _world(tmp_path, "bad")
