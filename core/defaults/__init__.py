"""Core's own hook implementations, registered explicitly and never blockable."""

from core.defaults import jobs, menu, models, permissions

DEFAULT_PLUGINS = [models, permissions, jobs, menu]
