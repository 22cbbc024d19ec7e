"""The people API: registration, masked reads, changes, and audited reveals.

Details are checked by :func:`core.people.services.check_details`, so a bad resident ID or
mobile is refused naming the field and the rule (``check_digit``, ``birth_date``,
``length``, ``mobile`` …); an ID number registered before is refused with 409 anywhere in
the city, through its keyed hash.
"""

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session, col, select

from core.access import get_scoped, scoped
from core.people.models import Person
from core.people.schemas import PersonCreate, PersonRead, PersonUpdate, Revealed, RevealRequest
from core.people.services import PersonDetails, create_person
from core.platform import Platform
from core.security.present import reveal
from core.units.models import Unit
from core.volunteers.models import Volunteer
from core.volunteers.profile import masked_person, update_person
from core.web.deps import Limit, Offset, PlatformDep, SessionDep


def present(platform: Platform, person: Person, volunteer_id: int | None = None) -> PersonRead:
    """A person as every response shows them: sensitive fields masked."""
    values = masked_person(person, platform.plugins.sensitive_fields)
    return PersonRead.model_validate({**values, "volunteer_id": volunteer_id})


def volunteer_ids(session: Session, person_ids: list[int]) -> dict[int, int]:
    """Person id → volunteer id, for the people who volunteer."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(Volunteer.person_id, Volunteer.id).where(col(Volunteer.person_id).in_(person_ids))
    )
    return dict(rows.all())


class PersonController(Controller):
    """People within the caller's reach."""

    path = "/api/v1/people"
    tags = ["people"]

    @get("/", sync_to_thread=True, operation_id="ListPeople", opt={"action": "core.person.read"})
    def list_people(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        name: Annotated[str | None, QueryParameter(max_length=50)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[PersonRead]:
        """People in reach, masked."""
        query = scoped(select(Person), Person.unit_path, request.scope["user"], "core.person.read")
        if unit_id is not None:
            query = query.where(Person.unit_id == unit_id)
        if name:
            query = query.where(col(Person.name).contains(name, autoescape=True))
        rows = session.exec(query.order_by(Person.id).offset(offset).limit(limit)).all()
        volunteers = volunteer_ids(session, [row.id for row in rows])
        return [present(platform, row, volunteers.get(row.id)) for row in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="CreatePerson",
        opt={"action": "core.person.manage"},
        status_code=HTTP_201_CREATED,
    )
    def create_person(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[PersonCreate],
    ) -> PersonRead:
        """Register a person; an ID number already registered anywhere is refused (409)."""
        unit = get_scoped(
            session, Unit, data.unit_id, request.scope["user"], "core.person.manage", "path"
        )
        details = PersonDetails(**data.model_dump(exclude={"unit_id"}))
        person = create_person(session, platform.keyring, unit, details)
        session.commit()
        return present(platform, person)

    @get(
        "/{person_id:int}",
        sync_to_thread=True,
        operation_id="GetPerson",
        opt={"action": "core.person.read"},
    )
    def get_person(
        self, request: Request, session: SessionDep, platform: PlatformDep, person_id: FromPath[int]
    ) -> PersonRead:
        """One person, masked."""
        person = get_scoped(session, Person, person_id, request.scope["user"], "core.person.read")
        return present(platform, person, volunteer_ids(session, [person.id]).get(person.id))

    @patch(
        "/{person_id:int}",
        sync_to_thread=True,
        operation_id="UpdatePerson",
        opt={"action": "core.person.manage"},
    )
    def update_person(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        person_id: FromPath[int],
        data: JSONBody[PersonUpdate],
    ) -> PersonRead:
        """Change the fields sent, and only those; a volunteer's ID must show age 18 or more."""
        person = get_scoped(session, Person, person_id, request.scope["user"], "core.person.manage")
        volunteer = volunteer_ids(session, [person.id]).get(person.id)
        changes = {name: getattr(data, name) for name in data.model_fields_set}
        update_person(session, platform.keyring, person, changes, adult=volunteer is not None)
        session.commit()
        return present(platform, person, volunteer)

    @post(
        "/{person_id:int}/reveal",
        sync_to_thread=True,
        operation_id="RevealPerson",
        opt={"action": "core.person.reveal"},
        status_code=200,
    )
    def reveal_person(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        person_id: FromPath[int],
        data: JSONBody[RevealRequest],
    ) -> Revealed:
        """See sensitive fields in clear, giving a reason; the read is audited."""
        principal = request.scope["user"]
        person = get_scoped(session, Person, person_id, principal, "core.person.reveal")
        values = reveal(
            session,
            person,
            list(data.fields),
            data.reason,
            principal,
            platform.plugins.sensitive_fields,
            person.unit_path,
        )
        session.commit()
        return Revealed(id=person.id, values=values)
