"""Fixtures of the insurance plugin's tests (the shared ones come from tests/support)."""

import pytest

from plugins.insurance.tests.factories import build_world


@pytest.fixture
def world(platform, unit_tree):
    """The unit tree with insurance on, its staff and volunteers."""
    return build_world(platform, unit_tree)
