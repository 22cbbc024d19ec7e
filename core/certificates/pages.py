"""Certificate pages: a unit's certificates, downloading one, revoking one."""

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from core.access import get_scoped
from core.accounts.principal import Principal
from core.audit.recorder import record
from core.certificates.services import (
    MEDIA_TYPE,
    certificate_file,
    certificate_rows,
    file_name,
    revocations,
    revoke_certificate,
)
from core.certificates.verify import verify_path
from core.errors import DomainError, FieldError
from core.i18n import text
from core.volunteers.models import Volunteer
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import FormErrors, run_form
from core.web.navigation import unit_page

READ = "core.volunteer.read"
REVOKE = "core.application.certify"
PAGE = 50
Form = URLEncodedBody[dict[str, str]]


def certificate_pdf(session: Session, principal: Principal, volunteer_id: int) -> Response[bytes]:
    """The PDF of a volunteer in the principal's reach; the download is audited."""
    volunteer = get_scoped(session, Volunteer, volunteer_id, principal, READ)
    if not volunteer.certificate_number:
        raise DomainError(
            text("该志愿者尚无证书", "This volunteer has no certificate"), "not_found", 404
        )
    stored = certificate_file(session, volunteer)
    if stored is None:
        raise DomainError(
            text("证书正在生成，请稍后再试", "The certificate is still being rendered"),
            "not_ready",
            409,
        )
    record(
        session,
        "download",
        action=READ,
        object_type="certificate",
        object_id=volunteer.certificate_number,
        unit_path=volunteer.unit_path,
        after={"volunteer_id": volunteer.id, "file_id": stored.id},
    )
    session.commit()
    disposition = f'attachment; filename="{file_name(volunteer.certificate_number)}"'
    return Response(
        stored.content, media_type=MEDIA_TYPE, headers={"content-disposition": disposition}
    )


class CertificatePages(Controller):
    """Certificates for the offices."""

    include_in_schema = False

    def _list(self, request, session, platform, unit, page=1, errors=None, status_code=200):
        principal = request.scope["user"]
        rows = certificate_rows(session, unit, None, PAGE + 1, (page - 1) * PAGE)
        secret = platform.secrets.secret_key
        return Template(
            "core:certificates/list.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "unit": unit,
                "rows": [
                    (volunteer, name, stored, verify_path(secret, volunteer.certificate_number))
                    for volunteer, name, stored in rows[:PAGE]
                ],
                "more": len(rows) > PAGE,
                "page_number": page,
                "can_revoke": principal.can(REVOKE, unit),
                "revocations": revocations(session, unit),
                "errors": errors or [],
            },
            status_code=status_code,
        )

    @get("/units/{unit_id:int}/certificates", sync_to_thread=True, opt={"action": READ})
    def certificates(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        """Certified volunteers of the unit's subtree, newest first, 50 a page."""
        return self._list(request, session, platform, unit, page)

    @get("/certificates/pdf", sync_to_thread=True, opt={"action": READ})
    def download(
        self,
        request: Request,
        session: SessionDep,
        volunteer_id: Annotated[int, QueryParameter(ge=1)],
    ) -> Response[bytes]:
        """A volunteer's certificate as PDF."""
        return certificate_pdf(session, request.scope["user"], volunteer_id)

    @post("/units/{unit_id:int}/certificates/revoke", sync_to_thread=True, opt={"action": REVOKE})
    def revoke(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Revoke a certificate of the unit's subtree, with a reason."""
        principal = request.scope["user"]

        def revoke() -> None:
            raw = data.get("volunteer_id", "")
            if not raw.isdigit():
                raise DomainError(
                    text("请选择志愿者", "Choose a volunteer"),
                    "validation_failed",
                    400,
                    [FieldError("volunteer_id", "missing", text("必填", "is required"))],
                )
            volunteer = get_scoped(session, Volunteer, int(raw), principal, REVOKE)
            if not volunteer.unit_path.startswith(unit.path):
                raise DomainError(
                    text("该志愿者不属于本单位", "Not a volunteer of this unit"), "not_found", 404
                )
            revoke_certificate(
                session, volunteer, data.get("reason", "")[:500], by_user_id=principal.user_id
            )

        outcome = run_form(session, revoke)
        if isinstance(outcome, FormErrors):
            return self._list(
                request, session, platform, unit, errors=outcome.errors, status_code=outcome.status
            )
        return Redirect(f"/units/{unit.id}/certificates")
