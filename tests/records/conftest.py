"""Records fixtures: the app over the test's store."""

from __future__ import annotations

import pytest


@pytest.fixture
def app(ctx):
    from ombud.app import create_app

    return create_app(ctx=ctx)
