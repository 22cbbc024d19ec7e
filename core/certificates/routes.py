"""The certificates API: a unit's certificates, a certificate's PDF, revoking one."""

from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from core.access import get_scoped
from core.certificates.pages import CertificatePages, certificate_pdf
from core.certificates.services import (
    MEDIA_TYPE,
    FileInfo,
    certificate_rows,
    revoke_certificate,
)
from core.certificates.verify import VerifyPage, verify_path
from core.errors import DomainError
from core.i18n import text
from core.platform import Platform
from core.volunteers.models import Volunteer, VolunteerStatus
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep

READ = "core.volunteer.read"
REVOKE = "core.application.certify"
VolunteerId = Annotated[int, QueryParameter(ge=1, description="The volunteer's id.")]


class CertificateRead(BaseModel):
    """A volunteer's certificate as staff see it."""

    volunteer_id: int
    volunteer_number: str
    name: str
    unit_id: int
    number: str
    certified_at: datetime | None
    status: str
    valid: bool
    rendered: bool
    size: int | None
    download: str
    verify: str


class RevokeRequest(BaseModel):
    """Which volunteer's certificate to revoke, and why."""

    model_config = ConfigDict(extra="forbid", strict=True)

    volunteer_id: int = Field(ge=1)
    reason: str = Field(min_length=2, max_length=500)


def present(
    platform: Platform, volunteer: Volunteer, name: str, stored: FileInfo | None
) -> CertificateRead:
    """A certificate for the API."""
    number = volunteer.certificate_number or ""
    return CertificateRead(
        volunteer_id=volunteer.id,
        volunteer_number=volunteer.number,
        name=name,
        unit_id=volunteer.unit_id,
        number=number,
        certified_at=volunteer.certified_at,
        status=volunteer.status,
        valid=volunteer.status == VolunteerStatus.active,
        rendered=stored is not None,
        size=stored.size if stored else None,
        download=f"/api/v1/certificates/pdf?volunteer_id={volunteer.id}",
        verify=verify_path(platform.secrets.secret_key, number),
    )


class CertificateController(Controller):
    """Certificates of volunteers in the caller's reach."""

    path = "/api/v1"
    tags = ["certificates"]

    @get(
        "/units/{unit_id:int}/certificates",
        sync_to_thread=True,
        operation_id="ListCertificates",
        opt={"action": READ},
    )
    def list_certificates(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        volunteer_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[CertificateRead]:
        """Certified volunteers in the unit's subtree, newest first."""
        rows = certificate_rows(session, unit, volunteer_id, limit, offset)
        return [present(platform, *row) for row in rows]

    @get(
        "/certificates/pdf",
        sync_to_thread=True,
        operation_id="DownloadCertificate",
        opt={"action": READ},
        media_type=MEDIA_TYPE,
    )
    def download(
        self, request: Request, session: SessionDep, volunteer_id: VolunteerId
    ) -> Response[bytes]:
        """A volunteer's certificate as PDF."""
        return certificate_pdf(session, request.scope["user"], volunteer_id)

    @post(
        "/units/{unit_id:int}/certificates/revoke",
        sync_to_thread=True,
        operation_id="RevokeCertificate",
        opt={"action": REVOKE},
        status_code=200,
    )
    def revoke(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        data: JSONBody[RevokeRequest],
    ) -> dict[str, str]:
        """Revoke the certificate of a volunteer in the unit's subtree (a reason is required)."""
        volunteer = get_scoped(session, Volunteer, data.volunteer_id, request.scope["user"], REVOKE)
        if not volunteer.unit_path.startswith(unit.path):
            raise DomainError(
                text("该志愿者不属于本单位", "Not a volunteer of this unit"), "not_found", 404
            )
        number = revoke_certificate(
            session, volunteer, data.reason, by_user_id=request.scope["user"].user_id
        )
        session.commit()
        return {"revoked": number}


ROUTES: list = [CertificateController, CertificatePages, VerifyPage]
