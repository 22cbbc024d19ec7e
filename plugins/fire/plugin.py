"""Hook implementations of the ``fire`` plugin."""

from plugins.fire import META

__all__ = ["META"]
