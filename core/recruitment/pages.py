"""Recruitment pages: the office's queue, an application and its actions, the intake form.

Also the public self-application and withdrawal pages, and the inbox.
"""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from core.access import get_scoped, path_in, scoped
from core.errors import DomainError, FieldError
from core.i18n import text
from core.notifications import services as inbox_services
from core.people.taxonomy import EDUCATION, SKILLS
from core.platform import Platform
from core.recruitment import services
from core.recruitment.models import Application, ApplicationStatus
from core.recruitment.schemas import (
    ApplicationCreate,
    RejectRequest,
    SelfApplicationCreate,
    applicant,
    present,
)
from core.units.models import Unit, UnitLevel
from core.volunteers.models import Volunteer
from core.web.auth import AUTHENTICATED, client_address
from core.web.deps import PlatformDep, SessionDep
from core.web.forms import FormErrors, parse_form, run_form, submit_form
from core.web.navigation import home_page_of, unit_page

Form = URLEncodedBody[dict[str, str]]
PAGE = 50
APPLICANT_FIELDS = ("unit_id", "name", "id_number", "phone", "address", "education", "occupation")


def labels(platform: Platform) -> dict[str, Any]:
    """The display names every recruitment page uses."""
    return {
        "statuses": services.STATUS_LABELS,
        "steps": services.STEP_LABELS,
        "channels": services.CHANNEL_LABELS,
        "skills": SKILLS,
        "education": EDUCATION,
        "special_teams": {
            name: platform.plugins.meta(name).label for name in platform.plugins.names
        },
    }


def form_values(form: dict[str, str]) -> dict[str, Any]:
    """An applicant form as the API's input.

    Checkboxes ``skill.x`` and ``team.x`` become lists; blank fields are left out, so a blank
    required field reads as missing.
    """
    values: dict[str, Any] = {
        key: form[key].strip() for key in APPLICANT_FIELDS if form.get(key, "").strip()
    }
    values["skills"] = sorted(key[6:] for key in form if key.startswith("skill."))
    wishes: dict[str, Any] = {
        "special_teams": sorted(key[5:] for key in form if key.startswith("team."))
    }
    if form.get("team_unit_id", "").strip():
        wishes["team_unit_id"] = form["team_unit_id"].strip()
    if form.get("note", "").strip():
        wishes["note"] = form["note"].strip()
    values["wishes"] = wishes
    return values


# -- the office: queue, intake, an application ---------------------------------------------


class ApplicationPages(Controller):
    """The offices' recruitment pages."""

    path = "/applications"
    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": "core.application.review"})
    def queue(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        view: Annotated[str, QueryParameter(pattern="^(waiting|all)$")] = "waiting",
        status: Annotated[ApplicationStatus | None, QueryParameter()] = None,
        unit_id: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        q: Annotated[str | None, QueryParameter(max_length=50)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """Applications waiting for my step (or all in reach), filterable, 50 a page."""
        principal = request.scope["user"]
        unit = session.get(Unit, unit_id) if unit_id else None
        if unit is not None and not principal.sees(unit):
            unit = None
        query = services.list_query(
            principal, status=status, unit=unit, waiting=view == "waiting", name=q
        )
        rows = session.exec(query.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
        units = session.exec(
            scoped(select(Unit), Unit.path, principal, services.REVIEW)
            .where(Unit.level != UnitLevel.village)
            .order_by(Unit.path)
            .limit(300)
        ).all()
        return Template(
            "core:recruitment/queue.html",
            context={
                "rows": [(present(a, name), a) for a, name in rows[:PAGE]],
                "more": len(rows) > PAGE,
                "page_number": page,
                "filter": {
                    "view": view,
                    "status": status.value if status else "",
                    "unit_id": unit.id if unit else "",
                    "q": q or "",
                },
                "units": units,
                "all_statuses": list(ApplicationStatus),
                "can_submit": principal.can(services.SUBMIT),
                "nav": home_page_of(platform, session, principal),
                **labels(platform),
            },
        )

    def _intake(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        form: dict[str, str],
        errors: list[FieldError],
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        principal = request.scope["user"]
        units = session.exec(
            scoped(select(Unit), Unit.path, principal, services.SUBMIT)
            .where(Unit.active.is_(True))
            .order_by(Unit.path)
            .limit(500)
        ).all()
        return Template(
            "core:recruitment/intake.html",
            context={
                "form": form,
                "errors": errors,
                "code": code,
                "units": units,
                "nav": home_page_of(platform, session, principal),
                **labels(platform),
            },
            status_code=status_code,
        )

    @get("/new", sync_to_thread=True, opt={"action": "core.application.submit"})
    def intake_form(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit_id: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
    ) -> Template:
        """The intake form for an office."""
        return self._intake(request, session, platform, {"unit_id": str(unit_id or "")}, [])

    @post("/", sync_to_thread=True, opt={"action": "core.application.submit"})
    def intake(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Response:
        """Take an application at an office in reach."""
        principal = request.scope["user"]

        def take(wanted: ApplicationCreate) -> Application:
            unit = get_scoped(session, Unit, wanted.unit_id, principal, services.SUBMIT, "path")
            return services.submit(
                session,
                platform.keyring,
                unit,
                applicant(wanted),
                by_user_id=principal.user_id,
                special_teams=set(platform.plugins.names),
            )

        outcome = submit_form(session, ApplicationCreate, form_values(data), take)
        if not isinstance(outcome, FormErrors):
            return Redirect(f"/applications/{outcome.id}")
        return self._intake(
            request, session, platform, data, outcome.errors, outcome.status, outcome.code
        )

    def _detail(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        application_id: int,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        principal = request.scope["user"]
        application = get_scoped(session, Application, application_id, principal, services.REVIEW)
        unit = session.get(Unit, application.unit_id)
        allowed = services.allowed_steps(principal, application)
        suggestions, district_units = [], []
        if services.Step.register in allowed:
            suggestions = services.suggest_teams(session, application)
            district = services.registering_unit_path(unit)
            district_units = session.exec(
                select(Unit)
                .where(path_in(Unit.path, district), Unit.active.is_(True))
                .where(Unit.level != UnitLevel.city)
                .order_by(Unit.path)
                .limit(500)
            ).all()
        volunteer = (
            session.get(Volunteer, application.volunteer_id) if application.volunteer_id else None
        )
        wishes = services.public_wishes(application)
        wished = session.get(Unit, wishes["team_unit_id"]) if wishes.get("team_unit_id") else None
        return Template(
            "core:recruitment/detail.html",
            context={
                "application": present(application, unit.name),
                "unit": unit,
                "wished_unit": wished,
                "history": services.history(session, application),
                "allowed": [str(step) for step in allowed],
                "suggestions": suggestions,
                "district_units": district_units,
                "volunteer": volunteer,
                "errors": errors or [],
                "code": code,
                "page": unit_page(platform, session, unit, principal),
                **labels(platform),
            },
            status_code=status_code,
        )

    @get("/{application_id:int}", sync_to_thread=True, opt={"action": "core.application.review"})
    def detail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
    ) -> Template:
        """One application: details, history and the steps I may take."""
        return self._detail(request, session, platform, application_id)

    def _act(self, request, session, platform, application_id, action, run) -> Response:
        principal = request.scope["user"]
        application = get_scoped(session, Application, application_id, principal, action)
        outcome = run_form(session, lambda: run(principal, application))
        if isinstance(outcome, FormErrors):
            return self._detail(
                request,
                session,
                platform,
                application_id,
                outcome.errors,
                outcome.status,
                outcome.code,
            )
        return Redirect(f"/applications/{application_id}")

    @post(
        "/{application_id:int}/preliminary-approval",
        sync_to_thread=True,
        opt={"action": "core.application.review"},
    )
    def preliminary_approve(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
    ) -> Response:
        """初审通过."""
        return self._act(
            request,
            session,
            platform,
            application_id,
            services.REVIEW,
            lambda principal, app: services.preliminary_approve(session, principal, app),
        )

    @post(
        "/{application_id:int}/approval",
        sync_to_thread=True,
        opt={"action": "core.application.approve"},
    )
    def approve(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
    ) -> Response:
        """审核通过."""
        return self._act(
            request,
            session,
            platform,
            application_id,
            services.APPROVE,
            lambda principal, app: services.approve(session, principal, app),
        )

    @post(
        "/{application_id:int}/registration",
        sync_to_thread=True,
        opt={"action": "core.application.register"},
    )
    def register(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
        data: Form,
    ) -> Response:
        """登记 and place in a team."""

        def run(principal, app):
            services.authorise(session, principal, app, services.Step.register)
            raw = data.get("team_unit_id", "").strip()
            if not raw.isdigit() or len(raw) > 12:
                raise DomainError(
                    text("请选择队伍", "Choose a team"),
                    "validation_failed",
                    400,
                    [FieldError("team_unit_id", "missing", text("必填", "is required"))],
                )
            team = services.team_unit(session, int(raw))
            services.register(session, platform.keyring, principal, app, team)

        return self._act(request, session, platform, application_id, services.REGISTER, run)

    @post(
        "/{application_id:int}/certification",
        sync_to_thread=True,
        opt={"action": "core.application.certify"},
    )
    def certify(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
        data: Form,
    ) -> Response:
        """身份核查 and issue the certificate."""

        def run(principal, app):
            services.authorise(session, principal, app, services.Step.certify)
            services.require_verified(data.get("identity_verified") == "1")
            services.certify(session, principal, app)

        return self._act(request, session, platform, application_id, services.CERTIFY, run)

    @post(
        "/{application_id:int}/rejection",
        sync_to_thread=True,
        opt={"action": "core.application.review"},
    )
    def reject(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
        data: Form,
    ) -> Response:
        """不予通过, with a reason."""

        def run(principal, app):
            wanted, errors = parse_form(RejectRequest, {"reason": data.get("reason", "").strip()})
            if wanted is None:
                raise DomainError(
                    text("须填写不予通过的理由", "A reason is required to reject"),
                    "validation_failed",
                    400,
                    errors,
                )
            services.reject(session, principal, app, wanted.reason)

        return self._act(request, session, platform, application_id, services.REVIEW, run)

    @post(
        "/{application_id:int}/withdrawal",
        sync_to_thread=True,
        opt={"action": "core.application.submit"},
    )
    def withdraw(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        application_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Withdraw at the applicant's request."""
        return self._act(
            request,
            session,
            platform,
            application_id,
            services.SUBMIT,
            lambda principal, app: services.withdraw(
                session, principal, app, data.get("reason", "")[:500]
            ),
        )


# -- the public: applying and withdrawing without an account -------------------------------


class SelfApplicationPages(Controller):
    """Applying to be a volunteer without signing in."""

    path = "/apply"
    include_in_schema = False

    def _form(
        self,
        session: Session,
        platform: Platform,
        unit: Unit | None,
        form: dict[str, str],
        errors: list[FieldError],
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        if unit is None:
            root = session.exec(select(Unit).where(Unit.parent_id.is_(None))).first()
            chain, children = [], []
            if root is not None:
                children = self._children(session, root)
        else:
            ids = unit.ancestor_ids
            chain = sorted(
                session.exec(select(Unit).where(col(Unit.id).in_(ids))).all(),
                key=lambda u: len(u.path),
            )
            children = self._children(session, unit)
        return Template(
            "core:recruitment/apply.html",
            context={
                "unit": unit,
                "chain": chain,
                "children": children,
                "form": form,
                "errors": errors,
                "code": code,
                **labels(platform),
            },
            status_code=status_code,
        )

    @staticmethod
    def _children(session: Session, unit: Unit) -> list[Unit]:
        return list(
            session.exec(
                select(Unit)
                .where(Unit.parent_id == unit.id, Unit.active.is_(True))
                .order_by(Unit.code, Unit.id)
                .limit(1000)
            ).all()
        )

    @staticmethod
    def _office(session: Session, unit_id: int | None) -> Unit | None:
        unit = session.get(Unit, unit_id) if unit_id else None
        return unit if unit is not None and unit.active else None

    @get("/", sync_to_thread=True, opt={"action": None})
    def form(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit_id: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
    ) -> Template:
        """Choose the office (district, township, village), then fill in the form."""
        unit = self._office(session, unit_id)
        return self._form(session, platform, unit, {"unit_id": str(unit.id) if unit else ""}, [])

    @post("/", sync_to_thread=True, opt={"action": None})
    def apply(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Template:
        """Submit a self-application; the withdrawal link is shown once."""
        raw = data.get("unit_id", "")
        unit = self._office(session, int(raw) if raw.isdigit() and len(raw) < 13 else None)
        if unit is None:
            errors = [FieldError("unit_id", "missing", text("请选择受理单位", "Choose an office"))]
            return self._form(session, platform, None, data, errors, 400, "validation_failed")
        wanted, errors = parse_form(SelfApplicationCreate, form_values(data))
        if wanted is None:
            return self._form(session, platform, unit, data, errors, 400, "validation_failed")
        principal = request.scope.get("user")
        try:
            application, token = services.self_apply(
                session,
                platform.keyring,
                unit,
                applicant(wanted),
                client_address(request.scope),
                account_user_id=principal.user_id if principal else None,
                special_teams=set(platform.plugins.names),
            )
        except DomainError as error:
            session.commit()  # the refused attempt counts towards the limit
            why = FormErrors.of(error)
            return self._form(session, platform, unit, data, why.errors, why.status, why.code)
        session.commit()
        return Template(
            "core:recruitment/applied.html",
            context={
                "application": application,
                "unit": unit,
                "token": token,
                "link": f"{platform.settings.base_url}/apply/withdraw?token={token}",
                **labels(platform),
            },
            status_code=201,
        )

    @get("/withdraw", sync_to_thread=True, opt={"action": None})
    def withdraw_form(
        self,
        platform: PlatformDep,
        token: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> Template:
        """Confirm the withdrawal of a self-application."""
        return Template(
            "core:recruitment/withdraw.html",
            context={"token": token or "", "errors": [], "done": None, **labels(platform)},
        )

    @post("/withdraw", sync_to_thread=True, opt={"action": None})
    def withdraw(self, session: SessionDep, platform: PlatformDep, data: Form) -> Template:
        """Withdraw a self-application with its token."""
        token = data.get("token", "")[:100]
        reason = data.get("reason", "")[:500]
        outcome = run_form(session, lambda: services.withdraw_own(session, token, reason))
        if isinstance(outcome, FormErrors):
            return Template(
                "core:recruitment/withdraw.html",
                context={
                    "token": token,
                    "errors": outcome.errors,
                    "code": outcome.code,
                    "done": None,
                    **labels(platform),
                },
                status_code=outcome.status,
            )
        return Template(
            "core:recruitment/withdraw.html",
            context={"token": "", "errors": [], "done": outcome, **labels(platform)},
        )


# -- the inbox -----------------------------------------------------------------------------


class InboxPages(Controller):
    """My notifications."""

    path = "/inbox"
    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def inbox(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unread: Annotated[bool, QueryParameter()] = False,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """My notifications, newest first, 50 a page."""
        principal = request.scope["user"]
        rows = inbox_services.inbox(
            session,
            principal.user_id,
            unread_only=unread,
            limit=PAGE + 1,
            offset=(page - 1) * PAGE,
        )
        return Template(
            "core:recruitment/inbox.html",
            context={
                "rows": rows[:PAGE],
                "more": len(rows) > PAGE,
                "page_number": page,
                "unread": unread,
                "unread_count": inbox_services.unread_count(session, principal.user_id),
                "nav": home_page_of(platform, session, principal),
            },
        )

    @post("/{notification_id:int}/read", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def mark_read(
        self, request: Request, session: SessionDep, notification_id: FromPath[int]
    ) -> Redirect:
        """Mark one read."""
        inbox_services.mark_read(session, request.scope["user"].user_id, notification_id)
        session.commit()
        return Redirect("/inbox")

    @post("/read", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def mark_all_read(self, request: Request, session: SessionDep) -> Redirect:
        """Mark all read."""
        inbox_services.mark_all_read(session, request.scope["user"].user_id)
        session.commit()
        return Redirect("/inbox")


PAGES = [ApplicationPages, SelfApplicationPages, InboxPages]
