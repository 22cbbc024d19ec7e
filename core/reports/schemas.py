"""API input and output for reports.

Responses never carry who reported, except ``reporter`` (a masked name) for callers who may
see it at the report's handling unit; the reporter's own list shows status and feedback,
never the handlers' notes.
"""

import base64
import binascii
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.i18n import current_locale
from core.platform import Platform
from core.reports import services
from core.reports.models import Report, ReportStatus
from core.reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, Photo
from core.security.masking import mask_name
from core.units.models import Unit

STRICT = ConfigDict(strict=True, extra="forbid")


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None
    return value


Text = Annotated[str, AfterValidator(_printable)]


class PhotoInput(BaseModel):
    """A photo: its file name (the extension must match the content) and bytes in base64."""

    model_config = STRICT

    name: Annotated[Text, Field(min_length=1, max_length=120)]
    content_base64: Annotated[
        str, Field(min_length=1, max_length=(MAX_PHOTO_BYTES * 4) // 3 + 4), AfterValidator(_base64)
    ]


class ReportCreate(BaseModel):
    """A report made at the path's unit (where the reporter serves)."""

    model_config = STRICT

    category: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$",
        description="clue, opinion, hazard, dispute, or a category a plugin adds.",
    )
    title: Annotated[Text, Field(max_length=120)] | None = None
    body: Annotated[Text, Field(min_length=1, max_length=4000)]
    location: Annotated[Text, Field(max_length=200)] | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    photos: list[PhotoInput] = Field(default_factory=list, max_length=MAX_PHOTOS)


class TriageRequest(BaseModel):
    """Triage, with an internal note if any."""

    model_config = STRICT

    note: Annotated[Text, Field(max_length=2000)] | None = None


class ReferRequest(BaseModel):
    """Refer to the competent body (a police station, a grid office …)."""

    model_config = STRICT

    referred_to: Annotated[Text, Field(min_length=1, max_length=120)]
    note: Annotated[Text, Field(max_length=2000)] | None = None


class HandleRequest(TriageRequest):
    """Handle it at the unit itself."""


class CloseRequest(BaseModel):
    """Close, with the feedback the reporter reads."""

    model_config = STRICT

    feedback: Annotated[Text, Field(min_length=1, max_length=2000)]
    note: Annotated[Text, Field(max_length=2000)] | None = None


class RevealReporterRequest(BaseModel):
    """Ask who reported; the reason goes to the audit trail."""

    model_config = STRICT

    reason: Annotated[Text, Field(min_length=4, max_length=500)]


class ReporterShown(BaseModel):
    """Who reported, masked: shown only to those who may reveal it."""

    name: str | None = Field(description="The reporter's name, masked (张*明).")


class ReportRead(BaseModel):
    """A report as handlers and readers see it."""

    id: int
    category: str
    category_label: str
    title: str
    body: str
    location: str | None
    latitude: float | None
    longitude: float | None
    photos: int
    status: ReportStatus
    status_label: str
    routed_to_plugin: str | None
    referred_to: str | None
    origin_unit_id: int
    origin_unit_name: str
    unit_id: int
    unit_name: str
    submitted_at: datetime
    triage_due_at: datetime
    triaged_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    feedback: str | None
    reporter: ReporterShown | None = Field(
        description="Only for callers who may see the reporter at the handling unit."
    )


class StepRead(BaseModel):
    """One step of a report; the note only for its handlers."""

    id: int
    from_status: str
    to_status: str
    by: str | None
    note: str | None
    at: datetime


class ReportDetail(ReportRead):
    """A report with its history and the steps the caller may take now."""

    steps: list[StepRead]
    allowed_steps: list[str]


class MyStep(BaseModel):
    """A status change of one's own report."""

    to_status: str
    status_label: str
    at: datetime


class MyReport(BaseModel):
    """One's own report: what was said, where it stands, and the answer."""

    id: int
    category: str
    category_label: str
    title: str
    status: ReportStatus
    status_label: str
    submitted_at: datetime
    closed_at: datetime | None
    feedback: str | None
    history: list[MyStep]


class ReporterRevealed(BaseModel):
    """Who reported, and the report's text as written (IDs and mobiles in it unmasked)."""

    report_id: int
    name: str | None
    phone: str | None
    volunteer_number: str | None
    unit_name: str | None
    username: str | None
    title: str
    body: str


# -- conversions -----------------------------------------------------------------------------


def _label(value) -> str:
    return value(current_locale.get())


def report_input(data: ReportCreate) -> tuple[services.ReportInput, list[Photo]]:
    """The service's view of an API submission."""
    return (
        services.ReportInput(
            category=data.category,
            body=data.body,
            title=data.title,
            location=data.location,
            latitude=data.latitude,
            longitude=data.longitude,
        ),
        [Photo(photo.name, base64.b64decode(photo.content_base64)) for photo in data.photos],
    )


def unit_names(session: Session, reports: list[Report]) -> dict[int, str]:
    """Unit id → name for the units the reports name."""
    ids = {r.unit_id for r in reports} | {r.origin_unit_id for r in reports}
    if not ids:
        return {}
    return dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(ids))).all())


def present_all(
    session: Session, platform: Platform, principal: Principal, reports: list[Report]
) -> list[ReportRead]:
    """Reports as the caller may see them, with names fetched once for the whole list."""
    names = unit_names(session, reports)
    visible = [r for r in reports if services.may_see_reporter(principal, r)]
    reporters = services.reporter_names(session, visible)
    return [present(platform, report, names, reporters, principal) for report in reports]


def present(
    platform: Platform,
    report: Report,
    names: dict[int, str],
    reporters: dict[int, str],
    principal: Principal,
) -> ReportRead:
    """One report; ``reporter`` only for a caller who may see it."""
    reporter = None
    if services.may_see_reporter(principal, report):
        name = reporters.get(report.id)
        reporter = ReporterShown(name=mask_name(name) if name else None)
    return ReportRead(
        id=report.id,
        category=report.category,
        category_label=_label(services.category_label(platform.plugins, report.category)),
        title=services.redact(report.title),
        body=services.redact(report.body),
        location=services.redact(report.location),
        latitude=float(report.latitude) if report.latitude is not None else None,
        longitude=float(report.longitude) if report.longitude is not None else None,
        photos=len(report.photo_file_ids or []),
        status=report.status,
        status_label=_label(services.STATUS_LABELS[ReportStatus(report.status)]),
        routed_to_plugin=report.routed_to_plugin,
        referred_to=report.referred_to,
        origin_unit_id=report.origin_unit_id,
        origin_unit_name=names.get(report.origin_unit_id, ""),
        unit_id=report.unit_id,
        unit_name=names.get(report.unit_id, ""),
        submitted_at=report.submitted_at,
        triage_due_at=report.triage_due_at,
        triaged_at=report.triaged_at,
        closed_at=report.closed_at,
        overdue=services.is_overdue(report),
        feedback=services.redact(report.feedback),
        reporter=reporter,
    )


def detail(
    session: Session, platform: Platform, principal: Principal, report: Report
) -> ReportDetail:
    """A report with its history (notes only for its handlers) and the caller's steps."""
    handler = services.handles(principal, report)
    steps = [
        StepRead(
            id=step.id,
            from_status=step.from_status,
            to_status=step.to_status,
            by=by,
            note=services.redact(step.note) if handler else None,
            at=step.at,
        )
        for step, by in services.history(session, report)
    ]
    (shown,) = present_all(session, platform, principal, [report])
    return ReportDetail(
        **shown.model_dump(),
        steps=steps,
        allowed_steps=[str(step) for step in services.allowed_steps(principal, report)],
    )


def mine(session: Session, platform: Platform, reports: list[Report]) -> list[MyReport]:
    """One's own reports with their status history and feedback (never notes)."""
    steps = services.public_history(session, reports)
    return [
        MyReport(
            id=report.id,
            category=report.category,
            category_label=_label(services.category_label(platform.plugins, report.category)),
            title=services.redact(report.title),
            status=report.status,
            status_label=_label(services.STATUS_LABELS[ReportStatus(report.status)]),
            submitted_at=report.submitted_at,
            closed_at=report.closed_at,
            feedback=services.redact(report.feedback),
            history=[
                MyStep(
                    to_status=step.to_status,
                    status_label=_label(services.STATUS_LABELS[ReportStatus(step.to_status)]),
                    at=step.at,
                )
                for step in steps.get(report.id, [])
            ],
        )
        for report in reports
    ]
