"""API and pages of the plugin; core mounts them under the unit."""

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.response import Template
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import select

from core.jobs import enqueue
from core.security.present import masked_values
from core.unitconfig.services import local_today, setting
from core.web.deps import PlatformDep, SessionDep, UnitDep
from pingan_sample.config import BOARD_LIMIT
from pingan_sample.jobs import count_notes
from pingan_sample.models import SampleNote


class NoteCreate(BaseModel):
    """A new note."""

    model_config = ConfigDict(strict=True, extra="forbid")

    text: str = Field(min_length=1, max_length=200)
    contact: str | None = Field(default=None, pattern=r"^1[3-9]\d{9}$")


class NoteRead(BaseModel):
    """A note."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    text: str
    contact: str | None


def present(platform, note: SampleNote) -> NoteRead:
    """A note as responses show it: its contact masked."""
    return NoteRead.model_validate(masked_values(note, platform.plugins.sensitive_fields))


class NoteController(Controller):
    """Notes of a unit."""

    path = "/notes"

    @get(
        "/", sync_to_thread=True, operation_id="ListSampleNotes", opt={"action": "sample.note.read"}
    )
    def list_notes(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> list[NoteRead]:
        """The unit's notes, contacts masked."""
        notes = session.exec(select(SampleNote).where(SampleNote.unit_id == unit.id))
        return [present(platform, note) for note in notes]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="CreateSampleNote",
        opt={"action": "sample.note.create"},
    )
    def create_note(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, data: JSONBody[NoteCreate]
    ) -> NoteRead:
        """Pin a note and recount the unit's notes in the background."""
        note = SampleNote(unit_id=unit.id, text=data.text, contact=data.contact)
        session.add(note)
        session.flush()
        enqueue(session, count_notes, unit_id=unit.id)
        session.commit()
        return present(platform, note)


class NotePages(Controller):
    """The notice board page."""

    @get("/", sync_to_thread=True, opt={"action": "sample.note.read"})
    def board(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The unit's notice board."""
        from core.web.navigation import unit_page

        shown = setting(session, unit, BOARD_LIMIT, local_today())
        notes = session.exec(
            select(SampleNote)
            .where(SampleNote.unit_id == unit.id)
            .order_by(SampleNote.id.desc())
            .limit(shown)
        ).all()
        return Template(
            "sample/board.html",
            context={
                "page": unit_page(platform, session, unit, request.scope.get("user")),
                "notes": notes,
            },
        )
