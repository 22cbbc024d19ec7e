"""API and pages of core's recruitment (and the inbox).

Reading an application needs ``core.application.review`` in its subtree; each step names its
own action, and the workflow (``services.authorise``) then checks that the acting grant sits
at the unit whose office takes that step.
"""

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from core.access import get_scoped
from core.errors import DomainError, FieldError
from core.i18n import text
from core.notifications.routes import ROUTES as NOTIFICATION_ROUTES
from core.recruitment import services
from core.recruitment.models import Application, ApplicationStatus
from core.recruitment.pages import PAGES
from core.recruitment.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationRead,
    CertifyRequest,
    PlacementRead,
    RegisterRequest,
    RejectRequest,
    SelfApplicationCreate,
    SelfApplicationReceipt,
    SelfWithdrawRequest,
    WithdrawRequest,
    applicant,
    detail,
    present,
)
from core.units.models import Unit
from core.web.auth import client_address
from core.web.deps import Limit, Offset, PlatformDep, SessionDep

ApplicationId = FromPath[int]


class ApplicationController(Controller):
    """Applications to become a volunteer, and every step on them."""

    path = "/api/v1/applications"
    tags = ["applications"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="ListApplications",
        opt={"action": "core.application.review"},
    )
    def list_applications(
        self,
        request: Request,
        session: SessionDep,
        status: Annotated[ApplicationStatus | None, QueryParameter()] = None,
        unit_id: Annotated[
            int | None, QueryParameter(ge=1, le=2**62, description="Only this unit's subtree.")
        ] = None,
        waiting: Annotated[
            bool, QueryParameter(description="Only those waiting for a step I take.")
        ] = False,
        name: Annotated[str | None, QueryParameter(max_length=50)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[ApplicationRead]:
        """Applications in reach, newest first."""
        unit = session.get(Unit, unit_id) if unit_id else None
        if unit_id and unit is None:
            return []
        query = services.list_query(
            request.scope["user"], status=status, unit=unit, waiting=waiting, name=name
        )
        rows = session.exec(query.offset(offset).limit(limit)).all()
        return [present(application, unit_name) for application, unit_name in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="CreateApplication",
        opt={"action": "core.application.submit"},
        status_code=HTTP_201_CREATED,
    )
    def create_application(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[ApplicationCreate],
    ) -> ApplicationDetail:
        """Take an application at an office in reach; duplicates and minors are refused."""
        principal = request.scope["user"]
        unit = get_scoped(session, Unit, data.unit_id, principal, "core.application.submit", "path")
        application = services.submit(
            session,
            platform.keyring,
            unit,
            applicant(data),
            by_user_id=principal.user_id,
            special_teams=set(platform.plugins.names),
        )
        session.commit()
        return detail(session, principal, application)

    @post(
        "/self",
        sync_to_thread=True,
        operation_id="SelfApply",
        opt={"action": None},
        status_code=HTTP_201_CREATED,
    )
    def self_apply(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[SelfApplicationCreate],
    ) -> SelfApplicationReceipt:
        """Apply without signing in (rate-limited per address); keep the withdrawal token."""
        unit = session.get(Unit, data.unit_id)
        if unit is None:
            raise DomainError(
                text("没有这个单位", "No such unit"),
                "validation_failed",
                400,
                [FieldError("unit_id", "unknown", str(data.unit_id))],
            )
        principal = request.scope.get("user")
        try:
            application, token = services.self_apply(
                session,
                platform.keyring,
                unit,
                applicant(data),
                client_address(request.scope),
                account_user_id=principal.user_id if principal else None,
                special_teams=set(platform.plugins.names),
            )
        except DomainError:
            session.commit()  # the refused attempt counts towards the limit
            raise
        session.commit()
        return SelfApplicationReceipt(
            id=application.id,
            status=str(application.status),
            withdraw_token=token,
            withdraw_url=f"/apply/withdraw?token={token}",
        )

    @post(
        "/withdrawals",
        sync_to_thread=True,
        operation_id="WithdrawOwnApplication",
        opt={"action": None},
        status_code=200,
    )
    def withdraw_own(
        self, session: SessionDep, data: JSONBody[SelfWithdrawRequest]
    ) -> SelfApplicationReceipt:
        """The applicant withdraws a self-application with its token."""
        step = services.withdraw_own(session, data.token, data.reason)
        session.commit()
        return SelfApplicationReceipt(
            id=step.application_id,
            status=step.to_status,
            withdraw_token=data.token,
            withdraw_url=f"/apply/withdraw?token={data.token}",
        )

    @get(
        "/{application_id:int}",
        sync_to_thread=True,
        operation_id="GetApplication",
        opt={"action": "core.application.review"},
    )
    def get_application(
        self, request: Request, session: SessionDep, application_id: ApplicationId
    ) -> ApplicationDetail:
        """One application, its history and the steps I may take."""
        principal = request.scope["user"]
        application = get_scoped(
            session, Application, application_id, principal, "core.application.review"
        )
        return detail(session, principal, application)

    @get(
        "/{application_id:int}/placements",
        sync_to_thread=True,
        operation_id="SuggestPlacements",
        opt={"action": "core.application.register"},
    )
    def placements(
        self, request: Request, session: SessionDep, application_id: ApplicationId
    ) -> list[PlacementRead]:
        """Team units for the applicant: wish, matching skills, then nearest."""
        application = get_scoped(
            session, Application, application_id, request.scope["user"], services.REGISTER
        )
        return [
            PlacementRead(
                unit_id=p.unit.id,
                unit_name=p.unit.name,
                level=str(p.unit.level),
                wished=p.wished,
                shared_skills=p.shared_skills,
                members=p.members,
                distance=p.distance,
            )
            for p in services.suggest_teams(session, application)
        ]

    def _step(self, request, session, application_id, action, run) -> ApplicationDetail:
        principal = request.scope["user"]
        application = get_scoped(session, Application, application_id, principal, action)
        run(principal, application)
        session.commit()
        return detail(session, principal, application)

    @post(
        "/{application_id:int}/preliminary-approval",
        sync_to_thread=True,
        operation_id="PreliminarilyApproveApplication",
        opt={"action": "core.application.review"},
        status_code=200,
    )
    def preliminary_approve(
        self, request: Request, session: SessionDep, application_id: ApplicationId
    ) -> ApplicationDetail:
        """初审: the receiving office passes it one level up."""
        return self._step(
            request,
            session,
            application_id,
            services.REVIEW,
            lambda principal, app: services.preliminary_approve(session, principal, app),
        )

    @post(
        "/{application_id:int}/approval",
        sync_to_thread=True,
        operation_id="ApproveApplication",
        opt={"action": "core.application.approve"},
        status_code=200,
    )
    def approve(
        self, request: Request, session: SessionDep, application_id: ApplicationId
    ) -> ApplicationDetail:
        """审核: the office one level up passes it to the district."""
        return self._step(
            request,
            session,
            application_id,
            services.APPROVE,
            lambda principal, app: services.approve(session, principal, app),
        )

    @post(
        "/{application_id:int}/registration",
        sync_to_thread=True,
        operation_id="RegisterApplication",
        opt={"action": "core.application.register"},
        status_code=200,
    )
    def register(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: ApplicationId,
        data: JSONBody[RegisterRequest],
    ) -> ApplicationDetail:
        """登记: the district creates the person and volunteer, placed in a team."""
        return self._step(
            request,
            session,
            application_id,
            services.REGISTER,
            lambda principal, app: services.register(
                session,
                platform.keyring,
                principal,
                app,
                services.team_unit(session, data.team_unit_id),
            ),
        )

    @post(
        "/{application_id:int}/certification",
        sync_to_thread=True,
        operation_id="CertifyApplication",
        opt={"action": "core.application.certify"},
        status_code=200,
    )
    def certify(
        self,
        request: Request,
        session: SessionDep,
        application_id: ApplicationId,
        data: JSONBody[CertifyRequest],
    ) -> ApplicationDetail:
        """身份核查、发证: the city verifies identity and issues the certificate."""

        def run(principal, app):
            services.authorise(session, principal, app, services.Step.certify)
            services.require_verified(data.identity_verified)
            services.certify(session, principal, app)

        return self._step(request, session, application_id, services.CERTIFY, run)

    @post(
        "/{application_id:int}/rejection",
        sync_to_thread=True,
        operation_id="RejectApplication",
        opt={"action": "core.application.review"},
        status_code=200,
    )
    def reject(
        self,
        request: Request,
        session: SessionDep,
        application_id: ApplicationId,
        data: JSONBody[RejectRequest],
    ) -> ApplicationDetail:
        """不予通过, with a reason, by whoever takes the next step."""
        return self._step(
            request,
            session,
            application_id,
            services.REVIEW,
            lambda principal, app: services.reject(session, principal, app, data.reason),
        )

    @post(
        "/{application_id:int}/withdrawal",
        sync_to_thread=True,
        operation_id="WithdrawApplication",
        opt={"action": "core.application.submit"},
        status_code=200,
    )
    def withdraw(
        self,
        request: Request,
        session: SessionDep,
        application_id: ApplicationId,
        data: JSONBody[WithdrawRequest],
    ) -> ApplicationDetail:
        """The receiving office withdraws an application it took."""
        return self._step(
            request,
            session,
            application_id,
            services.SUBMIT,
            lambda principal, app: services.withdraw(session, principal, app, data.reason),
        )


ROUTES: list = [ApplicationController, *NOTIFICATION_ROUTES, *PAGES]
