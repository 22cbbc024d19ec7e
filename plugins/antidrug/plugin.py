"""Hook implementations of the ``antidrug`` plugin."""

from plugins.antidrug import META

__all__ = ["META"]
