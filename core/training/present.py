"""What the API and the pages share.

The catalogue at a unit, the caller's own person, and records turned into their API form.
"""

from collections.abc import Mapping
from datetime import date

from sqlmodel import Session, col, func, select

from core.accounts.models import User
from core.accounts.principal import Principal
from core.contributions import TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.platform import Platform
from core.training.catalogue import title_of
from core.training.models import (
    EnrolmentStatus,
    Qualification,
    TrainingEnrolment,
    TrainingSession,
    TrainingSessionModule,
)
from core.training.qualifications import state_of
from core.training.records import EnrolmentLine, TrainingRecord
from core.training.schemas import (
    AttemptRead,
    EnrolmentRead,
    PersonTrainingRead,
    QualificationRead,
    SessionRead,
    label_read,
)
from core.units.models import Unit
from core.volunteers.models import Volunteer

READ = "core.training.read"
MANAGE = "core.training.manage"
ENROL = "core.training.enrol"
PLAN = "core.training.plan"
QUALIFY = "core.training.qualify"
CONFIGURE = "core.training.configure"


def catalogue_at(platform: Platform, session: Session, unit: Unit) -> dict[str, TrainingModule]:
    """Code → module of the catalogue at ``unit`` (core's and the enabled plugins')."""
    return {module.code: module for module in platform.training_modules(session, unit)}


def own_person(session: Session, principal: Principal) -> tuple[Person, Volunteer | None]:
    """The signed-in user's own person record and volunteer record.

    Raises:
        DomainError: the account belongs to no person (404).
    """
    user = session.get(User, principal.user_id)
    person = session.get(Person, user.person_id) if user and user.person_id else None
    if person is None:
        message = text("该账户未关联志愿者档案", "This account has no volunteer record")
        raise DomainError(message, "not_found", 404, [FieldError("", "no_person", message)])
    volunteer = session.exec(select(Volunteer).where(Volunteer.person_id == person.id)).first()
    return person, volunteer


def modules_of(session: Session, sessions: list[TrainingSession]) -> dict[int, list[str]]:
    """Session id → its module codes, in order."""
    found: dict[int, list[str]] = {}
    ids = [training.id for training in sessions]
    if not ids:
        return found
    for line in session.exec(
        select(TrainingSessionModule)
        .where(col(TrainingSessionModule.session_id).in_(ids))
        .order_by(TrainingSessionModule.session_id, TrainingSessionModule.position)
    ):
        found.setdefault(line.session_id, []).append(line.module_code)
    return found


def places_taken(session: Session, sessions: list[TrainingSession]) -> dict[int, int]:
    """Session id → how many are enrolled."""
    ids = [training.id for training in sessions]
    if not ids:
        return {}
    return dict(
        session.exec(
            select(TrainingEnrolment.session_id, func.count())
            .where(
                col(TrainingEnrolment.session_id).in_(ids),
                TrainingEnrolment.status == EnrolmentStatus.enrolled,
            )
            .group_by(TrainingEnrolment.session_id)
        ).all()
    )


def unit_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Unit id → name."""
    if not ids:
        return {}
    return dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(ids))).all())


def session_reads(session: Session, sessions: list[TrainingSession]) -> list[SessionRead]:
    """Sessions in their API form, with modules, places taken and unit names."""
    modules = modules_of(session, sessions)
    taken = places_taken(session, sessions)
    names = unit_names(session, {training.unit_id for training in sessions})
    return [
        SessionRead(
            id=training.id,
            unit_id=training.unit_id,
            unit_name=names.get(training.unit_id, ""),
            title=training.title,
            department=training.department,
            modules=modules.get(training.id, []),
            starts_at=training.starts_at,
            ends_at=training.ends_at,
            online=training.online,
            place=training.place,
            capacity=training.capacity,
            enrolled=taken.get(training.id, 0),
            status=training.status,
            note=training.note,
            cancel_reason=training.cancel_reason,
        )
        for training in sessions
    ]


def enrolment_read(enrolment: TrainingEnrolment, name: str, attempts) -> EnrolmentRead:
    """An enrolment in its API form."""
    return EnrolmentRead(
        id=enrolment.id,
        session_id=enrolment.session_id,
        person_id=enrolment.person_id,
        name=name,
        status=enrolment.status,
        channel=enrolment.channel,
        enrolled_at=enrolment.enrolled_at,
        attended=enrolment.attended,
        attempts=[
            AttemptRead(
                module_code=attempt.module_code,
                score=attempt.score,
                total=attempt.total,
                pass_mark=attempt.pass_mark,
                passed=attempt.passed,
                taken_at=attempt.taken_at,
            )
            for attempt in attempts
        ],
    )


def qualification_read(
    qualification: Qualification,
    catalogue: Mapping[str, TrainingModule],
    on: date,
    name: str | None = None,
) -> QualificationRead:
    """A qualification in its API form, with its state on ``on``."""
    return QualificationRead(
        id=qualification.id,
        person_id=qualification.person_id,
        name=name,
        module_code=qualification.module_code,
        module_title=label_read(title_of(catalogue, qualification.module_code)),
        granted_on=qualification.granted_on,
        expires_at=qualification.expires_at,
        source=qualification.source,
        session_id=qualification.session_id,
        state=state_of(qualification, on),
        note=qualification.note,
        revoke_reason=qualification.revoke_reason,
    )


def line_read(line: EnrolmentLine, name: str) -> EnrolmentRead:
    """One of a person's enrolments in its API form."""
    attempts = [attempt for tries in line.attempts.values() for attempt in tries]
    return enrolment_read(line.enrolment, name, attempts)


def record_read(
    record: TrainingRecord, person: Person, catalogue: Mapping[str, TrainingModule], on: date
) -> PersonTrainingRead:
    """A person's training record in its API form."""
    return PersonTrainingRead(
        person_id=record.person_id,
        start=record.start,
        end=record.end,
        hours=record.hours,
        qualifications=[
            qualification_read(row, catalogue, on, person.name) for row in record.qualifications
        ],
        enrolments=[line_read(line, person.name) for line in record.enrolments],
    )
