"""Hook implementations of the ``correction`` plugin."""

from plugins.correction import META

__all__ = ["META"]
