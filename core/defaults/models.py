"""Core's tables."""

from core.hookspecs import hookimpl
from core.jobs.models import Job
from core.units.models import Unit, UnitPlugin


@hookimpl
def register_models():
    return [Unit, UnitPlugin, Job]
