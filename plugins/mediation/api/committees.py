"""API: committees with their members, and mediators."""

from datetime import date
from typing import Annotated

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.access import path_in
from core.people.models import Person
from core.security.masking import mask
from core.web.deps import Limit, Offset, SessionDep, UnitDep
from plugins.mediation import committees
from plugins.mediation.access import within
from plugins.mediation.api.common import caller
from plugins.mediation.models import Committee, Mediator
from plugins.mediation.permissions import (
    COMMITTEE_MANAGE,
    COMMITTEE_READ,
    MEDIATOR_MANAGE,
    MEDIATOR_READ,
)
from plugins.mediation.schemas import (
    CommitteeCreate,
    MediatorCreate,
    MediatorStatusChange,
    MediatorUpdate,
    MembersReplace,
)
from plugins.mediation.vocab import MediatorStatus


class MemberRead(BaseModel):
    """A committee member (the name only: members are public office holders)."""

    person_id: int
    name: str
    role: str
    gender: str
    ethnicity: str
    since: date


class CommitteeRead(BaseModel):
    """A committee and its current members."""

    id: int
    unit_id: int
    kind: str
    name: str
    abbreviation: str
    established_on: date | None
    members: list[MemberRead]


class MediatorRead(BaseModel):
    """A mediator: their term, grade and status; their phone masked."""

    id: int
    committee_id: int
    person_id: int
    name: str
    phone: str | None
    appointment: str
    appointed_on: date
    term_end: date | None
    grade: str
    full_time: bool
    pre_service_training_on: date | None
    status: str
    removal_reason: str | None


def committee_read(session: Session, committee: Committee) -> CommitteeRead:
    """A committee with its members' names."""
    members = committees.current_members(session, committee)
    names = dict(
        session.exec(
            select(Person.id, Person.name).where(col(Person.id).in_([m.person_id for m in members]))
        ).all()
    )
    return CommitteeRead(
        id=committee.id,
        unit_id=committee.unit_id,
        kind=str(committee.kind),
        name=committee.name,
        abbreviation=committee.abbreviation,
        established_on=committee.established_on,
        members=[
            MemberRead(
                person_id=m.person_id,
                name=names.get(m.person_id, ""),
                role=str(m.role),
                gender=m.gender,
                ethnicity=m.ethnicity,
                since=m.since,
            )
            for m in members
        ],
    )


def mediator_read(mediator: Mediator, person: Person) -> MediatorRead:
    """A mediator with their person's name and masked phone."""
    return MediatorRead(
        id=mediator.id,
        committee_id=mediator.committee_id,
        person_id=mediator.person_id,
        name=person.name,
        phone=mask("phone", person.phone),
        appointment=str(mediator.appointment),
        appointed_on=mediator.appointed_on,
        term_end=mediator.term_end,
        grade=str(mediator.grade),
        full_time=mediator.full_time,
        pre_service_training_on=mediator.pre_service_training_on,
        status=str(mediator.status),
        removal_reason=mediator.removal_reason,
    )


def member_inputs(data: CommitteeCreate | MembersReplace) -> list[committees.MemberInput]:
    """The members of a request as the service takes them."""
    return [
        committees.MemberInput(m.person_id, m.role, m.ethnicity, m.gender) for m in data.members
    ]


class CommitteeController(Controller):
    """Committees of the unit's subtree."""

    path = "/committees"

    @get("/", sync_to_thread=True, operation_id="ListCommittees", opt={"action": COMMITTEE_READ})
    def list_committees(
        self, session: SessionDep, unit: UnitDep, limit: Limit = 100, offset: Offset = 0
    ) -> list[CommitteeRead]:
        """Committees formed in the unit's subtree."""
        rows = session.exec(
            select(Committee)
            .where(path_in(Committee.unit_path, unit.path))
            .order_by(Committee.unit_path, Committee.id)
            .offset(offset)
            .limit(limit)
        ).all()
        return [committee_read(session, committee) for committee in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="CreateCommittee",
        opt={"action": COMMITTEE_MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def create_committee(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[CommitteeCreate]
    ) -> CommitteeRead:
        """Form a committee at this unit: 3–9 members, one director, a woman among them."""
        committee = committees.create_committee(
            session,
            caller(request),
            unit,
            kind=data.kind,
            name=data.name,
            abbreviation=data.abbreviation,
            established_on=data.established_on,
            members=member_inputs(data),
        )
        session.commit()
        return committee_read(session, committee)

    @get(
        "/{committee_id:int}",
        sync_to_thread=True,
        operation_id="GetCommittee",
        opt={"action": COMMITTEE_READ},
    )
    def get_committee(
        self, session: SessionDep, unit: UnitDep, committee_id: FromPath[int]
    ) -> CommitteeRead:
        """A committee and its members."""
        return committee_read(session, within(session, Committee, committee_id, unit))

    @put(
        "/{committee_id:int}/members",
        sync_to_thread=True,
        operation_id="ReplaceCommitteeMembers",
        opt={"action": COMMITTEE_MANAGE},
    )
    def replace_members(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        committee_id: FromPath[int],
        data: JSONBody[MembersReplace],
    ) -> CommitteeRead:
        """Make this the member list from today, checked as a whole."""
        committee = within(session, Committee, committee_id, unit)
        committees.replace_members(session, caller(request), committee, member_inputs(data))
        session.commit()
        return committee_read(session, committee)


class MediatorController(Controller):
    """Mediators of the committees in the unit's subtree."""

    path = "/mediators"

    @get("/", sync_to_thread=True, operation_id="ListMediators", opt={"action": MEDIATOR_READ})
    def list_mediators(
        self,
        session: SessionDep,
        unit: UnitDep,
        committee_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        status: Annotated[MediatorStatus | None, QueryParameter()] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[MediatorRead]:
        """Mediators in reach, by committee."""
        query = (
            select(Mediator, Person)
            .join(Person, Person.id == Mediator.person_id)
            .where(path_in(Mediator.unit_path, unit.path))
        )
        if committee_id is not None:
            query = query.where(Mediator.committee_id == committee_id)
        if status is not None:
            query = query.where(Mediator.status == status)
        rows = session.exec(
            query.order_by(Mediator.committee_id, Mediator.id).offset(offset).limit(limit)
        ).all()
        return [mediator_read(mediator, person) for mediator, person in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="AppointMediator",
        opt={"action": MEDIATOR_MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def appoint(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[MediatorCreate]
    ) -> MediatorRead:
        """Make a person a mediator of a committee in reach."""
        committee = within(session, Committee, data.committee_id, unit)
        mediator = committees.appoint(
            session,
            caller(request),
            committee,
            **data.model_dump(exclude={"committee_id"}),
        )
        session.commit()
        return mediator_read(mediator, session.get(Person, mediator.person_id))

    @patch(
        "/{mediator_id:int}",
        sync_to_thread=True,
        operation_id="UpdateMediator",
        opt={"action": MEDIATOR_MANAGE},
    )
    def update(
        self,
        session: SessionDep,
        unit: UnitDep,
        mediator_id: FromPath[int],
        data: JSONBody[MediatorUpdate],
    ) -> MediatorRead:
        """Correct a mediator's term, grade or training date."""
        mediator = within(session, Mediator, mediator_id, unit)
        committees.update_mediator(mediator, data.model_dump(exclude_unset=True))
        session.add(mediator)
        session.commit()
        return mediator_read(mediator, session.get(Person, mediator.person_id))

    @post(
        "/{mediator_id:int}/status",
        sync_to_thread=True,
        operation_id="ChangeMediatorStatus",
        opt={"action": MEDIATOR_MANAGE},
        status_code=200,
    )
    def change_status(
        self,
        session: SessionDep,
        unit: UnitDep,
        mediator_id: FromPath[int],
        data: JSONBody[MediatorStatusChange],
    ) -> MediatorRead:
        """Suspend, remove (with an Art. 15 reason) or reinstate a mediator."""
        mediator = within(session, Mediator, mediator_id, unit)
        committees.change_status(mediator, data.status, data.reason, data.note)
        session.add(mediator)
        session.commit()
        return mediator_read(mediator, session.get(Person, mediator.person_id))


ROUTES = [CommitteeController, MediatorController]
