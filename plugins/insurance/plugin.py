"""Hook implementations of the ``insurance`` plugin."""

from core.hookspecs import hookimpl
from plugins.insurance import META
from plugins.insurance.cover import assignment_refusals
from plugins.insurance.models import MODELS
from plugins.insurance.permissions import ACTIONS, ROLES, SENSITIVE_FIELDS

__all__ = ["META"]


@hookimpl
def register_models():
    return MODELS


@hookimpl
def register_permissions():
    return ACTIONS


@hookimpl
def register_roles():
    return ROLES


@hookimpl
def register_sensitive_fields():
    return SENSITIVE_FIELDS


@hookimpl
def check_assignment(check, session):
    return assignment_refusals(session, check)
