"""Pages for a unit's volunteers and people: the district list, the register, the profile.

Every page lives under ``/units/{unit_id}/volunteers/`` so the guard scopes it by the path's
unit; a person or volunteer shown must lie in that unit's subtree. Identity numbers, phones
and addresses are shown masked; the national export is the only way out in clear.
"""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK
from sqlmodel import Session, col, func, select

from core.access import path_in
from core.accounts.principal import Principal
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.people.schemas import PersonCreate, PersonUpdate
from core.people.services import PersonDetails, create_person
from core.people.taxonomy import DAY_PARTS, EDUCATION, SKILLS, WEEKDAYS
from core.platform import Platform
from core.units.models import Unit
from core.units.services import unit_by_code
from core.volunteers import profile as ops
from core.volunteers.export import EXPORT_ACTION, ExportFile, export_volunteers
from core.volunteers.models import (
    KitIssue,
    SpecialTeamMembership,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
)
from core.volunteers.queries import PageRequest, Sort, SortKey, VolunteerFilters, district_page
from core.volunteers.schemas import (
    ExportRequest,
    KitIssueCreate,
    KitRecall,
    MembershipCreate,
    MembershipEnd,
    SpecialTeamCreate,
    StatusChange,
    TransferForm,
)
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import FormErrors, errors_of, parse_form, run_form, submit_form
from core.web.navigation import unit_page

Form = URLEncodedBody[dict[str, str]]
READ = "core.volunteer.read"
MANAGE = "core.volunteer.manage"
PERSON_READ = "core.person.read"
PERSON_MANAGE = "core.person.manage"
PEOPLE_PAGE = 50
#: Fields shown masked: a blank input on the edit form leaves them as they are.
MASKED_INPUTS = ("id_number", "phone", "address", "emergency_contact_phone")
PLAIN_INPUTS = ("name", "education", "occupation", "emergency_contact_name")
DAYS = {
    "mon": ("周一", "Mon"),
    "tue": ("周二", "Tue"),
    "wed": ("周三", "Wed"),
    "thu": ("周四", "Thu"),
    "fri": ("周五", "Fri"),
    "sat": ("周六", "Sat"),
    "sun": ("周日", "Sun"),
}


def _outside() -> str:
    """The message for a unit outside what the user may manage here."""
    return text("不在您可管理的单位范围内", "is not a unit you may manage here")


def _out_of_reach(field_name: str) -> DomainError:
    """The refusal of a unit outside what the user may manage here."""
    return DomainError(
        _outside(), "validation_failed", 400, [FieldError(field_name, "scope", _outside())]
    )


def _missing_id(value: str, field_name: str) -> list[FieldError]:
    """The error for a record id the form did not carry (none when it did)."""
    if value.isdigit():
        return []
    return [FieldError(field_name, "missing", text("必填", "is required"))]


def _shown_again(form: dict[str, str]) -> dict[str, str]:
    """A person form to fill in again: masked inputs and the CSRF token are not echoed."""
    return {k: v for k, v in form.items() if k not in MASKED_INPUTS and k != "_csrf_token"}


def export_response(exported: ExportFile) -> Response[bytes]:
    """The export as a download."""
    return Response(
        content=exported.content,
        media_type=exported.media_type,
        status_code=HTTP_200_OK,
        headers={
            "content-disposition": f'attachment; filename="{exported.filename}"',
            "x-export-rows": str(exported.count),
        },
    )


def vocabularies(platform: Platform) -> dict[str, Any]:
    """The choices every volunteer template offers."""
    return {
        "skills": SKILLS,
        "education": EDUCATION,
        "weekdays": WEEKDAYS,
        "day_names": DAYS,
        "day_parts": DAY_PARTS,
        "roles": ops.ROLE_LABELS,
        "statuses": ops.STATUS_LABELS,
        "kit_items": ops.KIT_ITEMS,
        "teams": {name: platform.plugins.meta(name).label for name in platform.plugins.names},
        "team_name": ops.team_name,
    }


def _person_values(form: dict[str, str], *, editing: bool) -> dict[str, Any]:
    """A person form as API fields: checkboxes become lists, blank masked inputs are dropped."""
    values: dict[str, Any] = {}
    for name in PLAIN_INPUTS:
        if name in form:
            values[name] = form[name].strip() or None
    for name in MASKED_INPUTS:
        value = form.get(name, "").strip()
        if value or not editing:
            values[name] = value or None
    if form.get("choices") == "1" or not editing:  # the checkboxes were on the form
        values["skills"] = [key for key in SKILLS if form.get(f"skill_{key}")]
        values["availability"] = {
            day: parts
            for day in WEEKDAYS
            if (parts := [part for part in DAY_PARTS if form.get(f"avail_{day}_{part}")])
        }
    if "unit_id" in form:
        values["unit_id"] = form["unit_id"]
    return values


def _person_under(session: Session, unit: Unit, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or not person.unit_path.startswith(unit.path):
        raise NotFoundException(f"person {person_id} not found")
    return person


def _volunteer_of(session: Session, person: Person) -> Volunteer:
    volunteer = ops.volunteer_of(session, person)
    if volunteer is None:
        raise NotFoundException(f"person {person.id} is not a volunteer")
    return volunteer


def _require(principal: Principal, action: str, path: str) -> None:
    if not principal.can(action, path):
        raise PermissionDeniedException(f"not allowed: {action}")


def team_units(session: Session, principal: Principal, volunteer: Volunteer) -> list[Unit]:
    """Teams the volunteer may be placed in here: their unit, the units above and below it."""
    home = session.get(Unit, volunteer.unit_id)
    units = list(
        session.exec(
            select(Unit).where(col(Unit.id).in_(home.ancestor_ids) | (Unit.parent_id == home.id))
        )
    )
    units.sort(key=lambda unit: (len(unit.path), unit.code or "", unit.id))
    return [unit for unit in units if principal.can(MANAGE, unit)]


def _filters_from(
    unit: Unit,
    status: VolunteerStatus | None,
    name: str | None,
    skill: str | None,
    number: str | None,
) -> VolunteerFilters:
    return VolunteerFilters(
        unit=unit, status=status, name=name or None, skill=skill or None, number=number or None
    )


class VolunteerPages(Controller):
    """A unit's volunteers and people."""

    path = "/units/{unit_id:int}/volunteers"
    include_in_schema = False

    # -- the district list ------------------------------------------------------------------

    def _list(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        filters: VolunteerFilters,
        sort: str,
        after: str | None,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        reason: str = "",
    ) -> Template:
        principal = request.scope["user"]
        try:
            page = district_page(session, principal, filters, sort, PageRequest(after=after))
        except DomainError as refused:
            errors = (errors or []) + errors_of(refused)
            status_code = 400
            page = district_page(session, principal, VolunteerFilters(unit=unit), None, None)
        return Template(
            "core:volunteers/list.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "rows": page.rows,
                "next": page.next_cursor,
                "first": after is not None,
                "filters": filters,
                "sort": str(page.sort),
                "sorts": [str(Sort(key, d)) for key in SortKey for d in (False, True)],
                "may_export": principal.can(EXPORT_ACTION, unit),
                "errors": errors or [],
                "reason": reason,
                "masked": {
                    row.volunteer.id: ops.masked_person(
                        row.person, platform.plugins.sensitive_fields
                    )
                    for row in page.rows
                },
                **vocabularies(platform),
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True, opt={"action": READ})
    def volunteers(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        name: Annotated[str | None, QueryParameter(max_length=50)] = None,
        skill: Annotated[str | None, QueryParameter(max_length=32)] = None,
        number: Annotated[str | None, QueryParameter(max_length=32)] = None,
        sort: Annotated[str | None, QueryParameter(max_length=20)] = None,
        after: Annotated[str | None, QueryParameter(max_length=400)] = None,
    ) -> Template:
        """The unit's volunteers, 50 a page, filtered and sorted (blank filters: all)."""
        errors = []
        chosen = None
        if status:
            try:
                chosen = VolunteerStatus(status)
            except ValueError:
                errors.append(
                    FieldError("status", "choice", ", ".join(s.value for s in VolunteerStatus))
                )
        filters = _filters_from(unit, chosen, name, skill, number)
        return self._list(
            request,
            session,
            platform,
            unit,
            filters,
            sort or "number",
            after or None,
            errors=errors,
            status_code=400 if errors else 200,
        )

    @post("/export", sync_to_thread=True, opt={"action": EXPORT_ACTION})
    def export(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Download the national registry export of the unit's volunteers (audited)."""
        fields = set(ExportRequest.model_fields) - {"unit_id"}  # the page's unit, always
        values = {k: v for k, v in data.items() if k in fields and v != ""}
        wanted, errors = parse_form(ExportRequest, values)
        outcome: ExportFile | FormErrors = FormErrors(errors)
        filters = VolunteerFilters(unit=unit)
        if wanted is not None:
            filters = _filters_from(unit, wanted.status, wanted.name, wanted.skill, wanted.number)
            principal = request.scope["user"]
            outcome = run_form(
                session,
                lambda: export_volunteers(
                    session, platform, principal, filters, wanted.format, wanted.reason
                ),
            )
        if not isinstance(outcome, FormErrors):
            return export_response(outcome)
        return self._list(
            request,
            session,
            platform,
            unit,
            filters,
            "number",
            None,
            errors=outcome.errors,
            status_code=outcome.status,
            reason=data.get("reason", "")[:500],
        )

    # -- the people register ----------------------------------------------------------------

    def _people(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        q: str | None,
        page_number: int,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        principal = request.scope["user"]
        query = select(Person).where(path_in(Person.unit_path, unit.path))
        if q:
            query = query.where(col(Person.name).contains(q, autoescape=True))
        people = session.exec(
            query.order_by(col(Person.id).desc())
            .offset((page_number - 1) * PEOPLE_PAGE)
            .limit(PEOPLE_PAGE + 1)
        ).all()
        ids = [person.id for person in people[:PEOPLE_PAGE]]
        numbers = (
            dict(
                session.exec(
                    select(Volunteer.person_id, Volunteer.number).where(
                        col(Volunteer.person_id).in_(ids)
                    )
                ).all()
            )
            if ids
            else {}
        )
        units = []
        if principal.can(PERSON_MANAGE, unit):
            units = session.exec(
                select(Unit)
                .where(path_in(Unit.path, unit.path))
                .order_by(func.length(Unit.path), Unit.code, Unit.id)
                .limit(500)
            ).all()
        return Template(
            "core:volunteers/people.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "people": [
                    ops.masked_person(p, platform.plugins.sensitive_fields)
                    for p in people[:PEOPLE_PAGE]
                ],
                "numbers": numbers,
                "more": len(people) > PEOPLE_PAGE,
                "page_number": page_number,
                "q": q or "",
                "units": units,
                "errors": errors or [],
                "form": form or {},
                **vocabularies(platform),
            },
            status_code=status_code,
        )

    @get("/people/", sync_to_thread=True, opt={"action": PERSON_READ})
    def people(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        q: Annotated[str | None, QueryParameter(max_length=50)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """People registered in the unit's subtree, newest first, searchable."""
        return self._people(request, session, platform, unit, q, page)

    @post("/people/", sync_to_thread=True, opt={"action": PERSON_MANAGE})
    def register(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Register a person at a unit of the subtree."""
        values = _person_values(dict(data), editing=False)
        values.setdefault("unit_id", str(unit.id))

        def register(wanted: PersonCreate) -> Person:
            target = session.get(Unit, wanted.unit_id)
            if target is None or not target.path.startswith(unit.path):
                raise _out_of_reach("unit_id")
            details = PersonDetails(**wanted.model_dump(exclude={"unit_id"}))
            return create_person(session, platform.keyring, target, details)

        outcome = submit_form(session, PersonCreate, values, register, blank_is_none=False)
        if not isinstance(outcome, FormErrors):
            return Redirect(f"/units/{unit.id}/volunteers/people/{outcome.id}")
        return self._people(
            request,
            session,
            platform,
            unit,
            None,
            1,
            errors=outcome.errors,
            form=_shown_again(data),
            status_code=outcome.status,
        )

    # -- a profile --------------------------------------------------------------------------

    def _profile(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        person_id: int,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        principal = request.scope["user"]
        person = _person_under(session, unit, person_id)
        volunteer = ops.volunteer_of(session, person)
        loaded = None
        if volunteer is not None and principal.can(READ, volunteer.unit_path):
            loaded = ops.load_profile(session, volunteer)
        today = ops.today()
        return Template(
            "core:volunteers/person.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "person": ops.masked_person(person, platform.plugins.sensitive_fields),
                "profile": loaded,
                "may_edit": principal.can(PERSON_MANAGE, person.unit_path),
                "may_manage": loaded is not None and principal.can(MANAGE, volunteer.unit_path),
                "team_units": team_units(session, principal, volunteer) if loaded else [],
                "today": today,
                "errors": errors or [],
                "form": form or {},
                **vocabularies(platform),
            },
            status_code=status_code,
        )

    def _after(self, unit: Unit, person_id: int, anchor: str) -> Redirect:
        return Redirect(f"/units/{unit.id}/volunteers/people/{person_id}#{anchor}")

    def _answer(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        person_id: int,
        outcome: Any,
        anchor: str,
        form: dict[str, str] | None = None,
    ) -> Response:
        """Back to the profile's ``anchor`` section, or the profile with what was refused."""
        if not isinstance(outcome, FormErrors):
            return self._after(unit, person_id, anchor)
        session.rollback()
        return self._profile(
            request,
            session,
            platform,
            unit,
            person_id,
            errors=outcome.errors,
            status_code=outcome.status,
            form=form,
        )

    def _managed(self, request: Request, session: Session, unit: Unit, person_id: int) -> Volunteer:
        """The person's volunteer record, which the caller must be allowed to manage."""
        volunteer = _volunteer_of(session, _person_under(session, unit, person_id))
        _require(request.scope["user"], MANAGE, volunteer.unit_path)
        return volunteer

    @get("/people/{person_id:int}", sync_to_thread=True, opt={"action": PERSON_READ})
    def person(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
    ) -> Template:
        """A person's details (masked) and, for a volunteer, the volunteer profile."""
        return self._profile(request, session, platform, unit, person_id)

    @post("/people/{person_id:int}", sync_to_thread=True, opt={"action": PERSON_MANAGE})
    def update_person(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Change a person's details; blank masked fields stay as they are."""
        values = _person_values(dict(data), editing=True)
        values.pop("unit_id", None)

        def update(wanted: PersonUpdate) -> None:
            person = _person_under(session, unit, person_id)
            ops.update_person(
                session,
                platform.keyring,
                person,
                {name: getattr(wanted, name) for name in wanted.model_fields_set},
                adult=ops.volunteer_of(session, person) is not None,
            )

        outcome = submit_form(session, PersonUpdate, values, update, blank_is_none=False)
        return self._answer(
            request, session, platform, unit, person_id, outcome, "details", _shown_again(data)
        )

    @post("/people/{person_id:int}/national-number", sync_to_thread=True, opt={"action": MANAGE})
    def national_number(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Record or correct the national unified number."""
        volunteer = self._managed(request, session, unit, person_id)
        number = data.get("national_number")
        outcome = run_form(session, lambda: ops.set_national_number(session, volunteer, number))
        return self._answer(request, session, platform, unit, person_id, outcome, "volunteer")

    @post("/people/{person_id:int}/status", sync_to_thread=True, opt={"action": MANAGE})
    def status(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Suspend, reactivate or record the leaving, with a reason."""

        def change(wanted: StatusChange) -> None:
            volunteer = self._managed(request, session, unit, person_id)
            ops.change_status(session, volunteer, wanted.status, wanted.reason, on=ops.today())

        outcome = submit_form(session, StatusChange, data, change)
        return self._answer(request, session, platform, unit, person_id, outcome, "volunteer")

    @post("/people/{person_id:int}/memberships", sync_to_thread=True, opt={"action": MANAGE})
    def add_membership(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Place the volunteer in a team with a role."""

        def place(wanted: MembershipCreate) -> None:
            volunteer, team = self._volunteer_and_team(request, session, unit, person_id, wanted)
            ops.add_membership(
                session,
                volunteer,
                team,
                wanted.role,
                wanted.since or ops.today(),
                catalogue=platform.training_modules(session, team),
            )

        outcome = submit_form(session, MembershipCreate, data, place)
        return self._answer(request, session, platform, unit, person_id, outcome, "teams")

    def _volunteer_and_team(
        self, request: Request, session: Session, unit: Unit, person_id: int, wanted: Any
    ) -> tuple[Volunteer, Unit]:
        """The volunteer and the unit of ``wanted.unit_id``, both for the caller to manage."""
        principal = request.scope["user"]
        volunteer = _volunteer_of(session, _person_under(session, unit, person_id))
        team = session.get(Unit, wanted.unit_id)
        if team is None or not principal.can(MANAGE, team):
            raise _out_of_reach("unit_id")
        _require(principal, MANAGE, volunteer.unit_path)
        return volunteer, team

    @post("/people/{person_id:int}/transfer", sync_to_thread=True, opt={"action": MANAGE})
    def transfer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Move the volunteer to the team of the unit with the given code (调动)."""
        principal = request.scope["user"]

        def move(wanted: TransferForm) -> Unit:
            volunteer = self._managed(request, session, unit, person_id)
            to_unit = unit_by_code(session, principal, wanted.unit_code, "unit_code", MANAGE)
            ops.transfer(
                session,
                volunteer,
                to_unit,
                on=wanted.on or ops.today(),
                reason=wanted.reason,
                role=wanted.role,
                by_user_id=principal.user_id,
                catalogue=platform.training_modules(session, to_unit),
            )
            return to_unit

        outcome = submit_form(session, TransferForm, data, move)
        if isinstance(outcome, FormErrors) or outcome.path.startswith(unit.path):
            return self._answer(request, session, platform, unit, person_id, outcome, "transfers")
        return self._after(outcome, person_id, "transfers")  # now beyond this page's unit

    def _end(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        person_id: int,
        data: dict[str, str],
        model: type,
        id_field: str,
        end: Callable[[Volunteer, Any, date], None],
        anchor: str,
    ) -> Response:
        """End the volunteer's ``model`` record named by the form's ``id_field`` on ``until``."""
        record_id = data.get(id_field, "")

        def act(wanted: MembershipEnd) -> None:
            volunteer, found = self._member_record(
                request, session, unit, person_id, model, int(record_id)
            )
            end(volunteer, found, wanted.until or ops.today())

        until = {"until": data.get("until", "")}
        missing = _missing_id(record_id, id_field)
        outcome = submit_form(session, MembershipEnd, until, act, also=missing)
        return self._answer(request, session, platform, unit, person_id, outcome, anchor)

    def _member_record(self, request, session, unit, person_id, model, record_id):
        volunteer = _volunteer_of(session, _person_under(session, unit, person_id))
        found = session.get(model, record_id)
        if found is None or found.volunteer_id != volunteer.id:
            raise NotFoundException(f"{model.__name__} {record_id} not found")
        _require(request.scope["user"], MANAGE, found.unit_path)
        return volunteer, found

    @post("/people/{person_id:int}/memberships/end", sync_to_thread=True, opt={"action": MANAGE})
    def end_membership(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """End a team membership."""

        def end(volunteer: Volunteer, membership: TeamMembership, until: date) -> None:
            ops.end_membership(session, volunteer, membership, until)

        where = (request, session, platform, unit, person_id)
        return self._end(*where, data, TeamMembership, "membership_id", end, "teams")

    @post("/people/{person_id:int}/special-teams", sync_to_thread=True, opt={"action": MANAGE})
    def add_special_team(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Place the volunteer in a special team."""

        def join(wanted: SpecialTeamCreate) -> None:
            volunteer, at = self._volunteer_and_team(request, session, unit, person_id, wanted)
            since = wanted.since or ops.today()
            ops.add_special_team(session, volunteer, wanted.team, at, since, platform.plugins.names)

        outcome = submit_form(session, SpecialTeamCreate, data, join)
        return self._answer(request, session, platform, unit, person_id, outcome, "special")

    @post("/people/{person_id:int}/special-teams/end", sync_to_thread=True, opt={"action": MANAGE})
    def end_special_team(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """End a special-team membership."""

        def end(_: Volunteer, membership: SpecialTeamMembership, until: date) -> None:
            ops.end_special_team(session, membership, until)

        where = (request, session, platform, unit, person_id)
        return self._end(*where, data, SpecialTeamMembership, "special_team_id", end, "special")

    @post("/people/{person_id:int}/kit", sync_to_thread=True, opt={"action": MANAGE})
    def issue_kit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Hand an item to the volunteer."""

        def issue(wanted: KitIssueCreate) -> None:
            ops.issue_kit(
                session,
                self._managed(request, session, unit, person_id),
                item=wanted.item,
                issued_on=wanted.issued_on or ops.today(),
                today=ops.today(),
                size=wanted.size,
                serial=wanted.serial,
                note=wanted.note,
            )

        outcome = submit_form(session, KitIssueCreate, data, issue)
        return self._answer(request, session, platform, unit, person_id, outcome, "kit")

    @post("/people/{person_id:int}/kit/recall", sync_to_thread=True, opt={"action": MANAGE})
    def recall_kit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        person_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Record that an item came back."""
        record_id = data.get("kit_id", "")

        def recall(wanted: KitRecall) -> None:
            _, kit = self._member_record(
                request, session, unit, person_id, KitIssue, int(record_id)
            )
            recalled_on = wanted.recalled_on or ops.today()
            ops.recall_kit(session, kit, recalled_on, today=ops.today(), note=wanted.note)

        outcome = submit_form(
            session,
            KitRecall,
            {k: data.get(k, "") for k in ("recalled_on", "note")},
            recall,
            also=_missing_id(record_id, "kit_id"),
        )
        return self._answer(request, session, platform, unit, person_id, outcome, "kit")
