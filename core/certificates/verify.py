"""Public verification of a certificate: anyone holding the printed QR code (or its code).

Certificate numbers are sequential (``500000-2026-000042``), so the number alone would let
anyone walk through every volunteer. The QR code therefore also carries a token: an HMAC of
the number under the platform's secret key, 80 bits written as 16 base-32 characters (printed
under the code, ``ABCD-EFGH-IJKL-MNOP``, to type by hand). Without the right token the page
answers 404, the same as for a number never issued, so it tells nothing.

The page shows only what a person checking a volunteer on the street needs: the masked name
(``张*明``), the number, the date, the issuer, and whether the certificate is valid now — the
volunteer active and the certificate not revoked (a revoked number is held by nobody any more;
its record says when it was revoked, and its valid token proves it was once issued).
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.response import Template
from sqlmodel import Session, select

from core.certificates.models import CertificateRevocation
from core.people.models import Person
from core.security.masking import mask_name
from core.units.models import Unit
from core.volunteers.models import Volunteer, VolunteerStatus
from core.web.deps import PlatformDep, SessionDep

PURPOSE = b"pingan.certificate.verify\x00"
TOKEN_BYTES = 10  # 80 bits → 16 base-32 characters
VERIFY_PATH = "/verify"
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,31}$")


def verification_token(secret_key: str, number: str) -> str:
    """The token that proves ``number`` was issued here: 16 characters of A–Z and 2–7."""
    digest = hmac.new(secret_key.encode(), PURPOSE + number.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:TOKEN_BYTES]).decode()


def normalise_token(value: str) -> str:
    """What a person typed, without dashes or spaces and in capitals."""
    return re.sub(r"[\s\-]", "", value).upper()


def token_matches(secret_key: str, number: str, token: str) -> bool:
    """Whether ``token`` is the token of ``number`` (constant-time comparison)."""
    expected = verification_token(secret_key, number)
    return hmac.compare_digest(expected.encode(), normalise_token(token).encode())


def grouped(token: str) -> str:
    """``ABCD-EFGH-IJKL-MNOP`` for printing."""
    return "-".join(token[i : i + 4] for i in range(0, len(token), 4))


def verify_path(secret_key: str, number: str) -> str:
    """The verification page's path and query for ``number`` (what the QR code points to)."""
    query = urlencode({"n": number, "t": verification_token(secret_key, number)})
    return f"{VERIFY_PATH}?{query}"


@dataclass(frozen=True)
class Verification:
    """What the public page says about a certificate."""

    number: str
    valid: bool
    reason: str  # valid, suspended, left, revoked
    masked_name: str | None = None
    issued_on: date | None = None
    district: str | None = None
    issuer: str | None = None
    revoked_on: date | None = None


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(LOCAL_TIME).date() if moment else None


def _city_and_district(session: Session, unit_path: str) -> tuple[Unit | None, Unit | None]:
    ids = [int(part) for part in unit_path.split(".") if part]
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(ids[:2])))}
    return units.get(ids[0]), units.get(ids[1]) if len(ids) > 1 else None


def check(session: Session, secret_key: str, number: str, token: str) -> Verification | None:
    """The state of certificate ``number``; None when the token is wrong (answer 404).

    A revoked certificate says when it was revoked, when and by whom it was issued, but not
    whose it was: its holder's name is nobody's business once it is void.
    """
    if not NUMBER.match(number) or not token_matches(secret_key, number, token):
        return None
    volunteer = session.exec(
        select(Volunteer).where(Volunteer.certificate_number == number)
    ).first()
    if volunteer is None:
        revoked = session.exec(
            select(CertificateRevocation).where(CertificateRevocation.number == number)
        ).first()
        if revoked is None:  # revoked before revocations were recorded
            return Verification(number=number, valid=False, reason="revoked")
        city, district = _city_and_district(session, revoked.unit_path)
        return Verification(
            number=number,
            valid=False,
            reason="revoked",
            issued_on=_local_day(revoked.issued_at),
            district=district.name if district else None,
            issuer=issuer_name(city) if city else None,
            revoked_on=_local_day(revoked.revoked_at),
        )
    person = session.get(Person, volunteer.person_id)
    city, district = _city_and_district(session, volunteer.unit_path)
    status = VolunteerStatus(volunteer.status)
    return Verification(
        number=number,
        valid=status == VolunteerStatus.active,
        reason="valid" if status == VolunteerStatus.active else status.value,
        masked_name=mask_name(person.name) if person else None,
        issued_on=_local_day(volunteer.certified_at),
        district=district.name if district else None,
        issuer=issuer_name(city) if city else None,
    )


def issuer_name(city: Unit) -> str:
    """The issuing 总队: the city unit's team name, or ``<city>平安建设志愿者总队``."""
    return city.team_name or f"{city.name}平安建设志愿者总队"


class VerifyPage(Controller):
    """The public verification page (no sign-in)."""

    include_in_schema = False

    @get(VERIFY_PATH, sync_to_thread=True, opt={"action": None})
    def verify(
        self,
        session: SessionDep,
        platform: PlatformDep,
        n: Annotated[str | None, QueryParameter(max_length=32)] = None,
        t: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response:
        """A certificate's validity and holder's masked name; without both, the form."""
        if not n or not t:
            return Template("core:certificates/verify_form.html", context={"number": n or ""})
        found = check(session, platform.secrets.secret_key, n.strip(), t)
        if found is None:
            raise NotFoundException("no such certificate")
        return Template(
            "core:certificates/verify.html",
            context={"check": found},
            headers={"x-robots-tag": "noindex", "cache-control": "no-store"},
        )
