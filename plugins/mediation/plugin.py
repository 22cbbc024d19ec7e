"""Hook implementations of the ``mediation`` plugin."""

from plugins.mediation import META

__all__ = ["META"]
