"""Hook implementations of the ``mediation`` plugin."""

from core.hookspecs import hookimpl
from plugins.mediation import META
from plugins.mediation.models import MODELS

__all__ = ["META"]


@hookimpl
def register_models():
    return list(MODELS)
