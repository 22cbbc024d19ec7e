"""Hook implementations of the ``insurance`` plugin."""

from plugins.insurance import META

__all__ = ["META"]
