"""Core's tables."""

from core.accounts.models import ApiToken, LoginFailure, RoleGrant, User, UserSession
from core.audit.models import AuditEntry, AuditObjectRange
from core.certificates.models import CertificateRevocation
from core.files.models import StoredFile
from core.hookspecs import hookimpl
from core.hours.models import HoursCorrection, HoursEntry, HoursRecord, VolunteerHours
from core.imports.models import ImportBatch
from core.jobs.models import Job
from core.notifications.models import Notification
from core.people.models import Person
from core.recruitment.models import Application, ApplicationStep
from core.reports.models import Report, ReportStep
from core.tasks.models import Assignment, CalendarToken, Point, Shift, Task, TaskStep
from core.training.models import (
    Qualification,
    QuizAttempt,
    TrainingEnrolment,
    TrainingPlan,
    TrainingPlanTarget,
    TrainingSession,
    TrainingSessionModule,
    TrainingSetting,
)
from core.unitconfig.models import UnitSetting
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
        AuditObjectRange,
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
        TrainingSession,
        TrainingSessionModule,
        TrainingEnrolment,
        QuizAttempt,
        Qualification,
        TrainingPlan,
        TrainingPlanTarget,
        TrainingSetting,
        UnitSetting,
        Task,
        TaskStep,
        Point,
        Shift,
        Assignment,
        CalendarToken,
        HoursEntry,
        HoursCorrection,
        VolunteerHours,
        HoursRecord,
        Report,
        ReportStep,
    ]
