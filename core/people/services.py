"""Registering people: identity checked and decoded, duplicates refused, data encrypted."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.identity import IdNumberError, normalise_mobile, parse_id_number
from core.people.models import Gender, Person
from core.people.taxonomy import DAY_PARTS, EDUCATION, SKILLS, WEEKDAYS
from core.security.fields import Keyring
from core.units.models import Unit

ID_PURPOSE = "person.id_number"
ADULT_AGE = 18


@dataclass
class PersonDetails:
    """What is known about a person when registering them (all but the name optional)."""

    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    education: str | None = None
    occupation: str | None = None
    skills: list[str] = field(default_factory=list)
    availability: dict[str, list[str]] = field(default_factory=dict)
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None


def id_index(keyring: Keyring, id_number: str) -> str:
    """The keyed hash under which an ID number is searched and kept unique."""
    return keyring.blind_index(id_number, ID_PURPOSE)


def check_details(
    details: PersonDetails, *, today: date | None = None, adult: bool = False
) -> list[FieldError]:
    """Every rule ``details`` breaks, as field errors (empty when all is well)."""
    errors: list[FieldError] = []
    name = details.name.strip()
    if not name or len(name) > 50:
        errors.append(FieldError("name", "length", text("姓名须为 1–50 个字", "1–50 characters")))
    if details.id_number:
        try:
            parsed = parse_id_number(details.id_number, today=today)
            if adult and parsed.age_on(today or date.today()) < ADULT_AGE:
                errors.append(
                    FieldError("id_number", "age", text("须年满 18 周岁", "must be 18 or older"))
                )
        except IdNumberError as error:
            errors.append(
                FieldError(
                    "id_number",
                    error.rule,
                    text("身份证号无效：", "invalid resident ID: ") + str(error),
                )
            )
    for attribute in ("phone", "emergency_contact_phone"):
        value = getattr(details, attribute)
        if value:
            try:
                normalise_mobile(value)
            except ValueError as error:
                errors.append(FieldError(attribute, "mobile", str(error)))
    if details.education and details.education not in EDUCATION:
        errors.append(FieldError("education", "choice", ", ".join(EDUCATION)))
    unknown = [skill for skill in details.skills if skill not in SKILLS]
    if unknown:
        errors.append(
            FieldError(
                "skills", "choice", text("未知特长：", "unknown skills: ") + ", ".join(unknown)
            )
        )
    for day, parts in details.availability.items():
        if day not in WEEKDAYS or any(part not in DAY_PARTS for part in parts):
            errors.append(FieldError("availability", "choice", f"{day}: {parts}"))
    return errors


def find_by_id_number(session: Session, keyring: Keyring, id_number: str) -> Person | None:
    """The person registered with this ID number, anywhere."""
    index = id_index(keyring, parse_id_number(id_number).value)
    return session.exec(select(Person).where(Person.id_number_index == index)).first()


def create_person(session: Session, keyring: Keyring, unit: Unit, details: PersonDetails) -> Person:
    """Register a person at ``unit``; gender and birth date come from the ID number.

    Raises:
        DomainError: a rule is broken (400, every field named) or the ID number is already
            registered (409).
    """
    errors = check_details(details)
    if errors:
        raise DomainError(
            text("人员信息有误", "The person's details are invalid"),
            "validation_failed",
            400,
            errors,
        )
    person = Person(unit_id=unit.id, unit_path=unit.path, name=details.name.strip())
    apply_details(person, details, keyring)
    if (
        person.id_number_index
        and session.exec(
            select(Person.id).where(Person.id_number_index == person.id_number_index)
        ).first()
    ):
        raise DomainError(
            text("该身份证号已登记", "This ID number is already registered"),
            "conflict",
            409,
            [FieldError("id_number", "unique", text("已登记", "already registered"))],
        )
    session.add(person)
    session.flush()
    return person


def apply_details(person: Person, details: PersonDetails, keyring: Keyring) -> None:
    """Copy checked details onto ``person``, normalised, with what the ID number says."""
    for column, value in person_values(details, keyring).items():
        setattr(person, column, value)


def person_values(details: PersonDetails, keyring: Keyring) -> dict[str, Any]:
    """The columns checked details give a person, normalised, with what the ID number says.

    Without an ID number the identity columns are left out (a person keeps the one they
    have). Bulk writers use these values as they are; :func:`apply_details` sets them.
    """
    values: dict[str, Any] = {"name": details.name.strip()}
    if details.id_number:
        parsed = parse_id_number(details.id_number)
        values["id_number"] = parsed.value
        values["id_number_index"] = id_index(keyring, parsed.value)
        values["gender"] = Gender.male if parsed.male else Gender.female
        values["birth_date"] = parsed.birth_date
    values["phone"] = normalise_mobile(details.phone) if details.phone else None
    values["address"] = details.address or None
    values["education"] = details.education or None
    values["occupation"] = details.occupation or None
    values["skills"] = sorted(set(details.skills))
    values["availability"] = {
        day: sorted(set(parts)) for day, parts in details.availability.items()
    }
    values["emergency_contact_name"] = details.emergency_contact_name or None
    values["emergency_contact_phone"] = (
        normalise_mobile(details.emergency_contact_phone)
        if details.emergency_contact_phone
        else None
    )
    return values
