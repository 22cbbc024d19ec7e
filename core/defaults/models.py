"""Core's tables."""

from core.accounts.models import ApiToken, LoginFailure, RoleGrant, User, UserSession
from core.audit.models import AuditEntry
from core.certificates.models import CertificateRevocation
from core.files.models import StoredFile
from core.hookspecs import hookimpl
from core.imports.models import ImportBatch
from core.jobs.models import Job
from core.notifications.models import Notification
from core.people.models import Person
from core.recruitment.models import Application, ApplicationStep
from core.units.models import NumberSequence, Unit, UnitEvent, UnitPlugin
from core.volunteers.models import (
    KitIssue,
    SpecialTeamMembership,
    TeamMembership,
    Volunteer,
    VolunteerTransfer,
)


@hookimpl
def register_models():
    return [
        Unit,
        UnitEvent,
        NumberSequence,
        UnitPlugin,
        Job,
        Person,
        User,
        RoleGrant,
        ApiToken,
        UserSession,
        LoginFailure,
        AuditEntry,
        Volunteer,
        TeamMembership,
        SpecialTeamMembership,
        KitIssue,
        VolunteerTransfer,
        CertificateRevocation,
        Application,
        ApplicationStep,
        StoredFile,
        ImportBatch,
        Notification,
    ]
