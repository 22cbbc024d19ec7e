"""The only conftest that loads pytest plugins: the shared fixtures live in tests/support."""

pytest_plugins = ["tests.support.fixtures"]
