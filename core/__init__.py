"""Pingan core: people, units, tasks, training and accounts, and the plugin platform."""

from importlib.metadata import PackageNotFoundError, version

from core import metadata as _metadata  # noqa: F401  (constraint naming before any table)

try:
    __version__ = version("pingan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
