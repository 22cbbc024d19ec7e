"""The district's volunteer list: one page of a unit subtree, filtered, sorted, keyset-paged.

:func:`district_page` is what the list page, the API and the benchmark call. A district's page
is read from one index per sort — ``(district_id, number)``, ``(district_id, name, id)``,
``(district_id, registered_at, id)`` — that carries, on PostgreSQL, everything the filters
read (status, name, skills) as included columns: the scope is the index's first column, the
rows come in the page's order, the filters are checked on the index entries, and the page's
ids are read without visiting the table (an index-only scan). ``district_id``, ``name`` and
``skills`` are copies on ``volunteer`` kept in step by ``core.volunteers.listing``. Below a
district the path range is added (a township's few hundred rows are sorted directly); the
whole city is read by the number index or sorted.

Paging is by keyset: the next page continues after the last row's sort value (and id, for a
sort key that repeats) with a row comparison the index starts from, so page 400 costs what
page 1 costs, where ``OFFSET`` would walk every row before it.

Sorts: ``number`` (the unit-coded volunteer number, unique), ``name`` and ``registered_at``,
each ascending or descending (``-name``), ties broken by id.

A page takes two queries (a deferred join): the page's ids from ``volunteer`` alone, then
those volunteers with their people and units by id. Measured on PostgreSQL 15 with 1,000,000
volunteers in 38 districts (``bench/bench_district_page.py``, figures in ``bench/README.md``):
a district's page takes a few milliseconds in every sort and with every filter.
"""

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.access import path_in
from core.accounts.principal import Principal
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.people.taxonomy import SKILLS
from core.units.models import Unit
from core.volunteers.listing import district_of_path
from core.volunteers.models import Volunteer, VolunteerStatus

PAGE_SIZE = 50
READ = "core.volunteer.read"


class SortKey(StrEnum):
    """What the list can be sorted by."""

    number = "number"
    name = "name"
    registered_at = "registered_at"


@dataclass(frozen=True)
class Sort:
    """A sort key and direction; ``Sort.parse("-registered_at")`` is newest first."""

    key: SortKey = SortKey.number
    descending: bool = False

    @classmethod
    def parse(cls, value: "str | Sort | None") -> "Sort":
        """Read ``number``, ``-name`` …; raise DomainError (field ``sort``) otherwise."""
        if isinstance(value, Sort):
            return value
        if not value:
            return cls()
        descending = value.startswith("-")
        try:
            return cls(SortKey(value.lstrip("-")), descending)
        except ValueError:
            raise _bad("sort", "choice", ", ".join(k.value for k in SortKey)) from None

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key.value


@dataclass(frozen=True)
class VolunteerFilters:
    """What narrows the list; every field optional.

    Attributes:
        unit: Only this unit's subtree (the caller checks it lies in the principal's reach).
        status: Only this status.
        name: Names containing this text.
        skill: Only people with this skill (a key of ``core.people.taxonomy.SKILLS``).
        number: Volunteer numbers starting with this, or this exact national number.
    """

    unit: Unit | None = None
    status: VolunteerStatus | None = None
    name: str | None = None
    skill: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class PageRequest:
    """Which page: ``after`` is the cursor the previous page returned (None: the first)."""

    after: str | None = None
    size: int = PAGE_SIZE


@dataclass(frozen=True)
class VolunteerRow:
    """One line of the list."""

    volunteer: Volunteer
    person: Person
    unit: Unit


@dataclass(frozen=True)
class VolunteerPage:
    """A page of rows and the cursor of the next page (None on the last)."""

    rows: list[VolunteerRow]
    next_cursor: str | None
    sort: Sort


def _bad(field: str, rule: str, detail: str) -> DomainError:
    return DomainError(
        text("查询参数有误", "Invalid query"),
        "validation_failed",
        400,
        [FieldError(field, rule, detail)],
    )


def in_subtree(path: str) -> sa.ColumnElement[bool]:
    """The volunteers held under the unit at ``path``.

    A district is an equality on ``district_id``, the first column of the list's indexes;
    below a district the path range narrows it further; the root's range holds everyone.
    """
    district = district_of_path(path)
    if district is None:
        return path_in(Volunteer.unit_path, path)
    if path.count(".") == 2:
        return Volunteer.district_id == district
    return sa.and_(Volunteer.district_id == district, path_in(Volunteer.unit_path, path))


def scope_of(principal: Principal, unit: Unit | None, action: str = READ) -> sa.ColumnElement[bool]:
    """The volunteers the principal may ``action``: under ``unit`` if given, else all in reach.

    A unit inside the principal's reach is one subtree; a unit outside gives nothing.
    """
    if unit is not None:
        return in_subtree(unit.path) if principal.can(action, unit) else sa.false()
    paths = principal.reach(action)
    if not paths:
        return sa.false()
    return sa.or_(*(in_subtree(path) for path in paths))


def skill_predicate(skill: str) -> sa.ColumnElement[bool]:
    """Volunteers whose skills (a JSON list of vocabulary keys) include ``skill``."""
    token = json.dumps(skill)  # '"first_aid"': quotes delimit the whole key
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.cast(Volunteer.skills, sa.Text).like(f"%{escaped}%", escape="\\")


def filtered(
    query: SelectOfScalar[Any],
    principal: Principal,
    filters: VolunteerFilters,
    action: str,
) -> SelectOfScalar[Any]:
    """Add the scope and the filters to a query over ``Volunteer``."""
    query = query.where(scope_of(principal, filters.unit, action))
    if filters.status is not None:
        query = query.where(Volunteer.status == VolunteerStatus(filters.status).value)
    if filters.name:
        name = filters.name.strip()
        query = query.where(col(Volunteer.name).contains(name, autoescape=True))
    if filters.skill:
        query = query.where(skill_predicate(filters.skill))
    if filters.number:
        number = filters.number.strip().upper()
        query = query.where(
            col(Volunteer.number).startswith(number, autoescape=True)
            | (Volunteer.national_number == number)
        )
    return query


def sort_key(sort: Sort) -> Any:
    """The column the list is ordered and continued by."""
    return {
        SortKey.number: Volunteer.number,
        SortKey.name: Volunteer.name,
        SortKey.registered_at: Volunteer.registered_at,
    }[sort.key]


def page_query(
    principal: Principal,
    filters: VolunteerFilters,
    sort: Sort,
    page: PageRequest,
    action: str = READ,
) -> SelectOfScalar[Any]:
    """The ids (and sort values) of one page, plus one row telling whether more follow.

    Only ``volunteer`` is read: for a district, from the index of the sort alone. The page's
    records are loaded by id afterwards (a deferred join).
    """
    key = sort_key(sort)
    # Numbers are unique: ordered by the number alone, the (district_id, number) index gives
    # the order; the other keys repeat and are ordered by id after them, as their indexes are.
    order = [key] if sort.key == SortKey.number else [key, col(Volunteer.id)]
    query = filtered(select(Volunteer.id, key), principal, filters, action)
    if page.after:
        value, last_id = decode_cursor(sort, page.after)
        # A row comparison, which the index starts its scan from (an OR of cases is not).
        seen = sa.tuple_(*order)
        values = [value] if sort.key == SortKey.number else [value, last_id]
        bound = sa.tuple_(
            *(sa.literal(item, column.type) for item, column in zip(values, order, strict=True))
        )
        query = query.where(seen < bound if sort.descending else seen > bound)
    if sort.descending:
        order = [column.desc() for column in order]
    return query.order_by(*order).limit(page.size + 1)


def make_cursor(sort: Sort, value: Any, last_id: int) -> str:
    """The cursor continuing after the row with sort value ``value`` and id ``last_id``."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([str(sort), value, last_id], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> tuple[Any, int]:
    """The sort value and id a cursor continues after; refused if made for another sort."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, value, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if made_for != str(sort) or not isinstance(last_id, int) or not isinstance(value, str):
            raise ValueError(cursor)
        if sort.key == SortKey.registered_at:
            value = datetime.fromisoformat(value)
        if not -(2**62) < last_id < 2**62:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad(
            "after", "cursor", text("翻页标记无效，请从第一页开始", "invalid cursor; start again")
        ) from None
    return value, last_id


def district_page(
    session: Session,
    principal: Principal,
    filters: VolunteerFilters | None = None,
    sort: Sort | str | None = None,
    page: PageRequest | None = None,
    *,
    action: str = READ,
) -> VolunteerPage:
    """One page of the volunteers in the principal's reach (or under ``filters.unit``).

    Two queries: :func:`page_query` finds the page's ids on ``volunteer`` alone (an index
    range scan of the subtree), then the page's volunteers, people and units are loaded by
    id. Both cost the same on page 1 and page 400.

    Args:
        session: A database session.
        principal: Who is asking; only volunteers under their ``action`` grants are listed.
        filters: What narrows the list.
        sort: ``number`` (default), ``name`` or ``registered_at``, ``-`` for descending.
        page: The cursor of the previous page and the page size (default 50).
        action: The action the rows must be in reach of.

    Raises:
        DomainError: an unknown skill or sort, or a cursor that is not this list's (400).
    """
    filters = filters or VolunteerFilters()
    if filters.skill and filters.skill not in SKILLS:
        raise _bad("skill", "choice", ", ".join(SKILLS))
    sort = Sort.parse(sort)
    page = page or PageRequest()
    keyed = page_query(principal, filters, sort, page, action).subquery("page")
    value = keyed.c[1]
    order = [value, keyed.c.id]
    found = session.exec(
        select(value, Volunteer, Person, Unit)
        .join_from(keyed, Volunteer, Volunteer.id == keyed.c.id)
        .join(Person, Person.id == Volunteer.person_id)
        .join(Unit, Unit.id == Volunteer.unit_id)
        .order_by(*(column.desc() if sort.descending else column for column in order))
    ).all()
    rows = [VolunteerRow(volunteer, person, unit) for _, volunteer, person, unit in found]
    more = len(rows) > page.size
    return VolunteerPage(
        rows=rows[: page.size],
        next_cursor=make_cursor(sort, found[page.size - 1][0], rows[page.size - 1].volunteer.id)
        if more
        else None,
        sort=sort,
    )


def iter_volunteer_ids(
    session: Session,
    principal: Principal,
    filters: VolunteerFilters,
    action: str,
    chunk: int = 2000,
) -> Iterable[list[int]]:
    """The ids of every volunteer in scope and matching, in number order, ``chunk`` at a time.

    Keyset-paged like the list, so an export of a whole district never holds one huge result
    set open, and each chunk costs the same.
    """
    sort = Sort(SortKey.number)
    after = None
    while True:
        keyed = session.exec(
            page_query(principal, filters, sort, PageRequest(after=after, size=chunk), action)
        ).all()
        page = keyed[:chunk]
        if page:
            yield [row[0] for row in page]
        if len(keyed) <= chunk:
            return
        after = make_cursor(sort, page[-1][1], page[-1][0])
