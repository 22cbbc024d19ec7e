"""Keeping the volunteer list's copies in step: district, the person's name and skills.

``Volunteer.district_id``, ``Volunteer.name`` and ``Volunteer.skills`` exist so that a
district's list is read from one index (see ``core.volunteers.queries``). A session hook sets
them on every flush, so no service, plugin or test that writes through the ORM can leave them
behind:

* a new volunteer gets the district of its path and its person's name and skills;
* a volunteer whose path changes gets the district of the new path;
* a person whose name or skills change passes them on to their volunteer record.

The copies change in the same flush as their source, so the audit trail records them like any
other write. Writers that go around the ORM set them themselves: the importer writes them in
its rows (:func:`district_of_path`), unit moves and merges rewrite ``district_id`` with the
paths (``core.units.moves``).
"""

from typing import Any

from sqlalchemy import event, inspect
from sqlmodel import Session, col, select

from core.people.models import Person
from core.volunteers.models import Volunteer


def district_of_path(path: str) -> int | None:
    """The id of the district (second level) a unit path lies in; None for the root."""
    parts = path.split(".")
    return int(parts[1]) if len(parts) > 2 and parts[1] else None


def _changed(instance: Any, attribute: str) -> bool:
    return inspect(instance).attrs[attribute].history.has_changes()


@event.listens_for(Session, "before_flush")
def _copy_for_the_list(session: Session, _context: Any, _instances: Any) -> None:
    people: dict[int, Person] = {}
    for instance in session.dirty:
        if isinstance(instance, Person) and instance.id is not None:
            if _changed(instance, "name") or _changed(instance, "skills"):
                people[instance.id] = instance
        elif isinstance(instance, Volunteer) and _changed(instance, "unit_path"):
            instance.district_id = district_of_path(instance.unit_path)
    with session.no_autoflush:
        for instance in session.new:
            if isinstance(instance, Volunteer):
                instance.district_id = district_of_path(instance.unit_path)
                person = session.get(Person, instance.person_id)
                if person is not None:
                    instance.name, instance.skills = person.name, list(person.skills or [])
        if people:
            for volunteer in session.exec(
                select(Volunteer).where(col(Volunteer.person_id).in_(list(people)))
            ):
                person = people[volunteer.person_id]
                volunteer.name, volunteer.skills = person.name, list(person.skills or [])
