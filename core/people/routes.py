"""The people API: registration, masked reads, and audited reveals."""

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import col, select

from core.access import get_scoped, scoped
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.people.schemas import PersonCreate, PersonRead, Revealed, RevealRequest
from core.people.services import ID_PURPOSE
from core.platform import Platform
from core.security.present import masked_values, reveal
from core.units.models import Unit
from core.web.deps import Limit, Offset, PlatformDep, SessionDep


def present(platform: Platform, person: Person) -> PersonRead:
    """A person as every response shows them: sensitive fields masked."""
    return PersonRead.model_validate(masked_values(person, platform.plugins.sensitive_fields))


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
            query = query.where(col(Person.name).contains(name))
        rows = session.exec(query.order_by(Person.id).offset(offset).limit(limit))
        return [present(platform, row) for row in rows]

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
        """Register a person; an ID number already registered anywhere is refused."""
        unit = get_scoped(
            session, Unit, data.unit_id, request.scope["user"], "core.person.manage", "path"
        )
        index = platform.keyring.blind_index(data.id_number, ID_PURPOSE) if data.id_number else None
        if index and session.exec(select(Person.id).where(Person.id_number_index == index)).first():
            raise DomainError(
                text("该身份证号已登记", "This ID number is already registered"),
                "conflict",
                409,
                [FieldError("id_number", "unique", text("已登记", "already registered"))],
            )
        person = Person(
            unit_id=unit.id,
            unit_path=unit.path,
            name=data.name,
            id_number=data.id_number,
            id_number_index=index,
            phone=data.phone,
            address=data.address,
        )
        session.add(person)
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
        return present(
            platform,
            get_scoped(session, Person, person_id, request.scope["user"], "core.person.read"),
        )

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
