"""API and pages of core's volunteers.

The API lives under ``/api/v1/volunteers``: the district list (filtered, sorted, keyset-paged),
a volunteer's profile, its national number, status, team and special-team memberships and
kit, and the national registry export. Every response masks ID numbers and phones; only the
export (``core.volunteer.export``, audited) carries them in clear.
"""

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import Session

from core.access import get_scoped
from core.accounts.principal import Principal
from core.platform import Platform
from core.units.models import Unit
from core.volunteers import profile as ops
from core.volunteers.export import EXPORT_ACTION, export_volunteers
from core.volunteers.models import (
    KitIssue,
    SpecialTeamMembership,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
)
from core.volunteers.pages import VolunteerPages, export_response
from core.volunteers.profile import today
from core.volunteers.queries import PageRequest, VolunteerFilters, VolunteerRow, district_page
from core.volunteers.schemas import (
    ExportRequest,
    KitIssueCreate,
    KitRead,
    KitRecall,
    MembershipCreate,
    MembershipEnd,
    MembershipRead,
    SpecialTeamCreate,
    SpecialTeamRead,
    StatusChange,
    TransferCreate,
    TransferRead,
    VolunteerPage,
    VolunteerRead,
    VolunteerSummary,
    VolunteerUpdate,
)
from core.web.deps import PlatformDep, SessionDep

READ = "core.volunteer.read"
MANAGE = "core.volunteer.manage"
SortParam = Literal["number", "-number", "name", "-name", "registered_at", "-registered_at"]


# -- presenting ----------------------------------------------------------------------------


def summary(platform: Platform, row: VolunteerRow) -> VolunteerSummary:
    """A list line, masked."""
    person = ops.masked_person(row.person, platform.plugins.sensitive_fields)
    volunteer = row.volunteer
    return VolunteerSummary(
        id=volunteer.id,
        person_id=volunteer.person_id,
        unit_id=volunteer.unit_id,
        unit_name=row.unit.name,
        number=volunteer.number,
        national_number=volunteer.national_number,
        status=volunteer.status,
        registered_at=volunteer.registered_at,
        name=person["name"],
        gender=person["gender"],
        birth_date=person["birth_date"],
        id_number=person["id_number"],
        phone=person["phone"],
        skills=person["skills"] or [],
    )


def membership_read(membership: TeamMembership, unit: Unit) -> MembershipRead:
    """A team membership with its team's name."""
    return MembershipRead(
        id=membership.id,
        unit_id=unit.id,
        unit_name=unit.name,
        team=ops.team_name(unit),
        role=membership.role,
        since=membership.since,
        until=membership.until,
    )


def special_team_read(platform: Platform, membership: SpecialTeamMembership) -> SpecialTeamRead:
    """A special-team membership with the plugin's name for it."""
    label = (
        platform.plugins.meta(membership.team).label.zh
        if membership.team in platform.plugins.names
        else membership.team
    )
    return SpecialTeamRead(
        id=membership.id,
        team=membership.team,
        team_label=label,
        unit_id=membership.unit_id,
        since=membership.since,
        until=membership.until,
    )


def volunteer_read(session: Session, platform: Platform, volunteer: Volunteer) -> VolunteerRead:
    """The whole profile, masked."""
    loaded = ops.load_profile(session, volunteer)
    line = summary(platform, VolunteerRow(volunteer, loaded.person, loaded.unit))
    return VolunteerRead(
        **line.model_dump(),
        certificate_number=volunteer.certificate_number,
        certified_at=volunteer.certified_at,
        memberships=[membership_read(m, unit) for m, unit in loaded.memberships],
        special_teams=[special_team_read(platform, m) for m in loaded.special_teams],
        kit=[KitRead.model_validate(k) for k in loaded.kit],
        transfers=[
            TransferRead(
                id=moved.id,
                from_unit_id=left.id,
                from_unit_name=left.name,
                to_unit_id=joined.id,
                to_unit_name=joined.name,
                effective_on=moved.effective_on,
                reason=moved.reason,
                at=moved.at,
            )
            for moved, left, joined in loaded.transfers
        ],
    )


# -- shared lookups ------------------------------------------------------------------------


def own_record(session: Session, model: type, record_id: int, volunteer: Volunteer):
    """A membership or kit row of this volunteer, or 404."""
    found = session.get(model, record_id)
    if found is None or found.volunteer_id != volunteer.id:
        raise NotFoundException(f"{model.__name__} {record_id} not found")
    return found


def require(principal: Principal, action: str, path: str) -> None:
    """403 unless the principal may ``action`` at ``path`` (a record they already see)."""
    if not principal.can(action, path):
        raise PermissionDeniedException(f"not allowed: {action}")


# -- the API -------------------------------------------------------------------------------


class VolunteerController(Controller):
    """Volunteers within the caller's reach."""

    path = "/api/v1/volunteers"
    tags = ["volunteers"]

    @get("/", sync_to_thread=True, operation_id="ListVolunteers", opt={"action": READ})
    def list_volunteers(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit_id: Annotated[
            int | None, QueryParameter(ge=1, description="Only this unit's subtree")
        ] = None,
        status: Annotated[VolunteerStatus | None, QueryParameter()] = None,
        name: Annotated[str | None, QueryParameter(max_length=50)] = None,
        skill: Annotated[str | None, QueryParameter(max_length=32)] = None,
        number: Annotated[
            str | None,
            QueryParameter(max_length=32, description="Number prefix or national number"),
        ] = None,
        sort: Annotated[SortParam, QueryParameter()] = "number",
        after: Annotated[
            str | None, QueryParameter(max_length=400, description="`next` of the previous page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> VolunteerPage:
        """One page of the volunteers in reach, filtered and sorted; ID numbers masked."""
        principal = request.scope["user"]
        unit = get_scoped(session, Unit, unit_id, principal, READ, "path") if unit_id else None
        page = district_page(
            session,
            principal,
            VolunteerFilters(unit=unit, status=status, name=name, skill=skill, number=number),
            sort,
            PageRequest(after=after, size=limit),
        )
        return VolunteerPage(
            items=[summary(platform, row) for row in page.rows],
            next=page.next_cursor,
            sort=str(page.sort),
        )

    @post(
        "/export",
        sync_to_thread=True,
        operation_id="ExportVolunteers",
        opt={"action": EXPORT_ACTION},
        status_code=HTTP_200_OK,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    def export(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[ExportRequest],
    ) -> Response[bytes]:
        """The national registry export (ID numbers in clear); the export is audited."""
        principal = request.scope["user"]
        unit = (
            get_scoped(session, Unit, data.unit_id, principal, EXPORT_ACTION, "path")
            if data.unit_id
            else None
        )
        filters = VolunteerFilters(
            unit=unit, status=data.status, name=data.name, skill=data.skill, number=data.number
        )
        exported = export_volunteers(
            session, platform, principal, filters, data.format, data.reason
        )
        session.commit()
        return export_response(exported)

    @get(
        "/{volunteer_id:int}",
        sync_to_thread=True,
        operation_id="GetVolunteer",
        opt={"action": READ},
    )
    def get_volunteer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
    ) -> VolunteerRead:
        """A volunteer's profile, masked."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], READ)
        return volunteer_read(session, platform, volunteer)

    @patch(
        "/{volunteer_id:int}",
        sync_to_thread=True,
        operation_id="UpdateVolunteer",
        opt={"action": MANAGE},
    )
    def update_volunteer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
        data: JSONBody[VolunteerUpdate],
    ) -> VolunteerRead:
        """Record or correct the national unified number."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], MANAGE)
        if "national_number" in data.model_fields_set:
            ops.set_national_number(session, volunteer, data.national_number)
        session.commit()
        return volunteer_read(session, platform, volunteer)

    @post(
        "/{volunteer_id:int}/status",
        sync_to_thread=True,
        operation_id="ChangeVolunteerStatus",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def change_status(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
        data: JSONBody[StatusChange],
    ) -> VolunteerRead:
        """Suspend, reactivate or record the leaving; the reason goes to the audit trail."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], MANAGE)
        ops.change_status(session, volunteer, data.status, data.reason, on=today())
        session.commit()
        return volunteer_read(session, platform, volunteer)

    @post(
        "/{volunteer_id:int}/memberships",
        sync_to_thread=True,
        operation_id="AddTeamMembership",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def add_membership(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
        data: JSONBody[MembershipCreate],
    ) -> MembershipRead:
        """Place the volunteer in a unit's team with a role (队长, 副队长, 队员)."""
        principal = request.scope["user"]
        volunteer = get_scoped(session, Volunteer, volunteer_id, principal, MANAGE)
        unit = get_scoped(session, Unit, data.unit_id, principal, MANAGE, "path")
        membership = ops.add_membership(
            session,
            volunteer,
            unit,
            data.role,
            data.since or today(),
            catalogue=platform.training_modules(session, unit),
        )
        session.commit()
        return membership_read(membership, unit)

    @post(
        "/{volunteer_id:int}/transfer",
        sync_to_thread=True,
        operation_id="TransferVolunteer",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def transfer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
        data: JSONBody[TransferCreate],
    ) -> VolunteerRead:
        """Move the volunteer to another unit's team; managing both units is required."""
        principal = request.scope["user"]
        volunteer = get_scoped(session, Volunteer, volunteer_id, principal, MANAGE)
        unit = get_scoped(session, Unit, data.unit_id, principal, MANAGE, "path")
        ops.transfer(
            session,
            volunteer,
            unit,
            on=data.on or today(),
            reason=data.reason,
            role=data.role,
            by_user_id=principal.user_id,
            catalogue=platform.training_modules(session, unit),
        )
        session.commit()
        return volunteer_read(session, platform, volunteer)

    @post(
        "/{volunteer_id:int}/memberships/{membership_id:int}/end",
        sync_to_thread=True,
        operation_id="EndTeamMembership",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def end_membership(
        self,
        request: Request,
        session: SessionDep,
        volunteer_id: FromPath[int],
        membership_id: FromPath[int],
        data: JSONBody[MembershipEnd],
    ) -> MembershipRead:
        """End a team membership (its last day)."""
        principal = request.scope["user"]
        volunteer = get_scoped(session, Volunteer, volunteer_id, principal, MANAGE)
        membership = own_record(session, TeamMembership, membership_id, volunteer)
        require(principal, MANAGE, membership.unit_path)
        ops.end_membership(session, volunteer, membership, data.until or today())
        session.commit()
        return membership_read(membership, session.get(Unit, membership.unit_id))

    @post(
        "/{volunteer_id:int}/special-teams",
        sync_to_thread=True,
        operation_id="AddSpecialTeamMembership",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def add_special_team(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
        data: JSONBody[SpecialTeamCreate],
    ) -> SpecialTeamRead:
        """Place the volunteer in a plugin's special team at a unit."""
        principal = request.scope["user"]
        volunteer = get_scoped(session, Volunteer, volunteer_id, principal, MANAGE)
        unit = get_scoped(session, Unit, data.unit_id, principal, MANAGE, "path")
        membership = ops.add_special_team(
            session, volunteer, data.team, unit, data.since or today(), platform.plugins.names
        )
        session.commit()
        return special_team_read(platform, membership)

    @post(
        "/{volunteer_id:int}/special-teams/{special_team_id:int}/end",
        sync_to_thread=True,
        operation_id="EndSpecialTeamMembership",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def end_special_team(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
        special_team_id: FromPath[int],
        data: JSONBody[MembershipEnd],
    ) -> SpecialTeamRead:
        """End a special-team membership."""
        principal = request.scope["user"]
        volunteer = get_scoped(session, Volunteer, volunteer_id, principal, MANAGE)
        membership = own_record(session, SpecialTeamMembership, special_team_id, volunteer)
        require(principal, MANAGE, membership.unit_path)
        ops.end_special_team(session, membership, data.until or today())
        session.commit()
        return special_team_read(platform, membership)

    @post(
        "/{volunteer_id:int}/kit",
        sync_to_thread=True,
        operation_id="IssueKit",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def issue_kit(
        self,
        request: Request,
        session: SessionDep,
        volunteer_id: FromPath[int],
        data: JSONBody[KitIssueCreate],
    ) -> KitRead:
        """Hand a uniform, badge, armband … to the volunteer."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], MANAGE)
        kit = ops.issue_kit(
            session,
            volunteer,
            item=data.item,
            issued_on=data.issued_on or today(),
            today=today(),
            size=data.size,
            serial=data.serial,
            note=data.note,
        )
        session.commit()
        return KitRead.model_validate(kit)

    @post(
        "/{volunteer_id:int}/kit/{kit_id:int}/recall",
        sync_to_thread=True,
        operation_id="RecallKit",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def recall_kit(
        self,
        request: Request,
        session: SessionDep,
        volunteer_id: FromPath[int],
        kit_id: FromPath[int],
        data: JSONBody[KitRecall],
    ) -> KitRead:
        """Record that an issued item came back."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], MANAGE)
        kit = own_record(session, KitIssue, kit_id, volunteer)
        ops.recall_kit(session, kit, data.recalled_on or today(), today=today(), note=data.note)
        session.commit()
        return KitRead.model_validate(kit)


ROUTES: list = [VolunteerController, VolunteerPages]
