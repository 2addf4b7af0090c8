"""The ``target`` fixture (``serve`` and ``fixed_scenario`` live in tests/conftest.py)."""

from __future__ import annotations

import pytest

from abcsim.target import RunningTarget
from tests.conftest import Serve


@pytest.fixture
def target(serve: Serve) -> RunningTarget:
    """``abc_week``'s API with its own ``[system]``, seed 1, no faults."""
    return serve("abc_week")
