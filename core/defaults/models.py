"""Core's tables."""

from core.accounts.models import ApiToken, LoginFailure, RoleGrant, User, UserSession
from core.audit.models import AuditEntry
from core.hookspecs import hookimpl
from core.jobs.models import Job
from core.people.models import Person
from core.units.models import Unit, UnitPlugin


@hookimpl
def register_models():
    return [
        Unit,
        UnitPlugin,
        Job,
        Person,
        User,
        RoleGrant,
        ApiToken,
        UserSession,
        LoginFailure,
        AuditEntry,
    ]
