"""Fixtures of the plugin tests."""

from __future__ import annotations

import pytest

from katibsim.spec.space import SearchSpace
from plugin_helpers import pspec, space_of


@pytest.fixture
def mixed_space() -> SearchSpace:
    return space_of(
        pspec("lr", "double", min="0.01", max="0.05", step="0.01"),
        pspec("layers", "int", min="1", max="3"),
        pspec("opt", "categorical", list=["sgd", "adam"]),
    )
