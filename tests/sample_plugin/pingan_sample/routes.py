"""API and pages of the plugin; core mounts them under the unit."""

from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.response import Template
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import select

from core.jobs import enqueue
from core.web.deps import PlatformDep, SessionDep, UnitDep
from pingan_sample.jobs import count_notes
from pingan_sample.models import SampleNote


class NoteCreate(BaseModel):
    """A new note."""

    model_config = ConfigDict(strict=True, extra="forbid")

    text: str = Field(min_length=1, max_length=200)


class NoteRead(BaseModel):
    """A note."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    text: str


class NoteController(Controller):
    """Notes of a unit."""

    path = "/notes"

    @get("/", sync_to_thread=True, operation_id="ListSampleNotes", opt={"action": "sample.note.read"})
    def list_notes(self, session: SessionDep, unit: UnitDep) -> list[NoteRead]:
        """The unit's notes."""
        notes = session.exec(select(SampleNote).where(SampleNote.unit_id == unit.id))
        return [NoteRead.model_validate(note) for note in notes]

    @post("/", sync_to_thread=True, operation_id="CreateSampleNote", opt={"action": "sample.note.create"})
    def create_note(self, session: SessionDep, unit: UnitDep, data: JSONBody[NoteCreate]) -> NoteRead:
        """Pin a note and recount the unit's notes in the background."""
        note = SampleNote(unit_id=unit.id, text=data.text)
        session.add(note)
        session.flush()
        enqueue(session, count_notes, unit_id=unit.id)
        session.commit()
        return NoteRead.model_validate(note)


class NotePages(Controller):
    """The notice board page."""

    @get("/", sync_to_thread=True, opt={"action": "sample.note.read"})
    def board(self, session: SessionDep, platform: PlatformDep, unit: UnitDep) -> Template:
        """The unit's notice board."""
        from core.web.navigation import unit_page

        notes = session.exec(select(SampleNote).where(SampleNote.unit_id == unit.id)).all()
        return Template(
            "sample/board.html",
            context={"page": unit_page(platform, session, unit, None), "notes": notes},
        )
