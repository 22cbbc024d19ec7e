"""No clear identity number or mobile leaves the app except through an audited reveal.

People (core) and notes (the sample plugin) with real-looking resident IDs and mobiles are
registered at several units; then every GET route of the app, generated from ``app.routes``
and called with every real id, is requested as every role — the API with a bearer token, the
pages with a signed-in session — and every response body (JSON, HTML, CSV) is scanned.
"""

import itertools
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from core.accounts.models import User
from core.audit.models import AuditEntry
from core.hours.models import HoursEntry, HoursRecord
from core.jobs.models import Job
from core.people.identity import check_digit
from core.people.models import Person
from core.recruitment.models import Application
from core.reports.models import Report
from core.tasks.assignments import assign
from core.tasks.models import Shift, Task
from core.training import sessions as training_sessions
from core.training.models import (
    EnrolmentChannel,
    QualificationSource,
    TrainingEnrolment,
    TrainingSession,
)
from core.training.qualifications import grant
from core.units.models import Unit, UnitLevel
from core.units.services import set_plugin_enabled
from core.volunteers.models import Volunteer
from core.volunteers.services import enroll
from core.web.auth import AUTHENTICATED
from plugins.insurance.tests import security as insurance_records
from plugins.mediation.models import (
    AgreementTerm,
    Assignment,
    Attachment,
    Committee,
    Dispute,
    Lead,
    Mediator,
    Party,
)
from plugins.mediation.tests import records as mediation_records
from tests.support.web import sign_in

pytestmark = pytest.mark.anyio

FULL_ID = re.compile(r"\b\d{17}[\dXx]\b")
MOBILE = re.compile(r"\b1[3-9]\d{9}\b")
MASKED_ID = re.compile(r"^\d{3}\*{11}[\dX]{4}$")
MASKED_MOBILE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")
REVEAL_ACTIONS = {"core.person.reveal", "sample.note.reveal", "mediation.party.reveal"}
#: The highest level each role may be held at is where it sees most: scan from there.
LEVELS_TOP_DOWN = (UnitLevel.city, UnitLevel.district, UnitLevel.township, UnitLevel.village)


def resident_id(region: str, born: str, sequence: str, last: str | None = None) -> str:
    """A valid 18-character resident ID; with ``last``, the first birth day whose check
    character is ``last`` (so a test can name the masked form it expects)."""
    if last is None:
        first17 = region + born + sequence
        return first17 + check_digit(first17)
    for day in range(1, 29):
        first17 = region + born[:6] + f"{day:02d}" + sequence
        if check_digit(first17) == last:
            return first17 + last
    raise AssertionError(f"no day gives check character {last}")


@pytest.fixture
def registry(client, platform, unit_tree, admin):
    """People and notes with sensitive data at every unit, registered through the API."""
    return _Registry(client, platform, unit_tree, admin)


class _Registry:
    def __init__(self, client, platform, unit_tree, admin) -> None:
        self.client, self.platform, self.tree, self.admin = client, platform, unit_tree, admin
        self.units = [
            unit_tree.city,
            unit_tree.district,
            unit_tree.township,
            unit_tree.village,
            unit_tree.other_district,
            unit_tree.other_township,
            unit_tree.other_village,
        ]
        self.people: list[dict] = []  # the clear values and the ids the API gave
        self.notes: list[dict] = []
        self.applications: list[dict] = []  # pending applications, with the same kinds of data
        self.reports: list[dict] = []  # reports whose text names a suspect's ID and mobile
        self.parties: list[dict] = []  # parties to disputes (mediation), with the same kinds

    async def fill(self) -> None:
        with self.platform.session_factory() as session:
            city = session.get(Unit, self.tree.city.id)
            set_plugin_enabled(session, city, "sample", True, changed_by="test")
            session.commit()
        prefixes = ["138", "159", "186", "177", "199", "135", "147"]
        for index, unit in enumerate(self.units):
            for n in range(2):
                number = index * 2 + n
                if number == 0:  # the documented examples, exactly
                    id_number = resident_id("500103", "19900101", "123", last="4")
                    phone = "13800001234"
                elif number == 1:  # a check character X
                    id_number = resident_id("500105", "19851201", "042", last="X")
                    phone = "15912345678"
                else:
                    id_number = resident_id("500103", f"19{60 + number}0{n + 1}15", f"{number:03d}")
                    phone = prefixes[number % len(prefixes)] + f"{number:04d}{number * 7:04d}"
                address = f"重庆市渝中区解放碑街道民族路{number + 1}号{n + 2}单元"
                body = {
                    "unit_id": unit.id,
                    "name": f"居民{number}",
                    "id_number": id_number,
                    "phone": phone,
                    "address": address,
                }
                response = await self.client.post(
                    "/api/v1/people", json=body, headers=self.admin.headers
                )
                assert response.status_code == 201, response.text
                self.people.append({**body, "id": response.json()["id"], "read": response.json()})
            contact = f"13{index + 3}{index:04d}{index * 11:04d}"
            response = await self.client.post(
                f"/api/v1/units/{unit.id}/sample/notes",
                json={"text": f"便签{index}", "contact": contact},
                headers=self.admin.headers,
            )
            assert response.status_code in (200, 201), response.text
            self.notes.append({"unit_id": unit.id, "contact": contact, "read": response.json()})
            applicant = {
                "unit_id": unit.id,
                "name": f"报名人{index}",
                "id_number": resident_id("500106", f"19{70 + index}0315", f"{index + 500:03d}"),
                "phone": f"136{index:04d}{index * 13:04d}",
                "address": f"重庆市沙坪坝区小龙坎街道{index + 1}号",
            }
            response = await self.client.post(
                "/api/v1/applications", json=applicant, headers=self.admin.headers
            )
            assert response.status_code == 201, response.text
            self.applications.append({**applicant, "id": response.json()["id"]})
            suspect = {
                "id_number": resident_id("500107", f"19{80 + index}0606", f"{index + 600:03d}"),
                "phone": f"137{index:04d}{index * 17:04d}",
            }
            response = await self.client.post(
                f"/api/v1/units/{unit.id}/reports",
                json={
                    "category": "clue",
                    "body": f"嫌疑人手机{suspect['phone']}，身份证{suspect['id_number']}",
                },
                headers=self.admin.headers,
            )
            assert response.status_code == 201, response.text
            self.reports.append({**suspect, "id": response.json()["id"]})
        # A dispute before a committee at every unit, its parties with real-looking identity.
        with self.platform.session_factory() as session:
            set_plugin_enabled(
                session, session.get(Unit, self.tree.city.id), "mediation", True, changed_by="test"
            )
            for index, unit in enumerate(self.units):
                sides = []
                for side in range(2):
                    number = 60 + index * 2 + side
                    sides.append(
                        {
                            "name": f"当事人{number}",
                            "id_no": resident_id("500107", f"19{number}0712", f"{number:03d}"),
                            "phone": f"18{number:02d}{number * 3:03d}{index:04d}"[:11],
                        }
                    )
                mediation_records.seed(
                    session,
                    session.get(Unit, unit.id),
                    self.people[index * 2]["id"],
                    applicant=tuple(sides[0].values()),
                    respondent=tuple(sides[1].values()),
                )
                self.parties += sides
            session.commit()
        # Insurance records with bank accounts, donors and beneficiaries at two units.
        self.plugin_ids = insurance_records.populate(
            self.platform, [self.tree.township, self.tree.other_district], city=self.tree.city
        )
        # Everyone registered below the city volunteers, so the volunteer lists, profiles and
        # pages are scanned with real data too.
        with self.platform.session_factory() as session:
            for person in self.people:
                unit = session.get(Unit, person["unit_id"])
                if unit.level != UnitLevel.city:
                    enroll(session, session.get(Person, person["id"]), unit)
            session.commit()
        # A district training session with its roster and a qualification, so the training
        # pages and the people's training records are scanned with real data too.
        with self.platform.session_factory() as session:
            district = session.get(Unit, self.tree.district.id)
            modules = {m.code: m for m in self.platform.training_modules(session, district)}
            start = datetime.now(UTC) - timedelta(hours=1)
            training = training_sessions.schedule(
                session,
                district,
                modules,
                training_sessions.SessionPlan(
                    title="隐私扫描培训",
                    department="comprehensive",
                    modules=["core.law"],
                    starts_at=start,
                    ends_at=start + timedelta(hours=3),
                    place="区会议室",
                    capacity=50,
                ),
                None,
            )
            below = [
                p
                for p in self.people
                if p["unit_id"] in (self.tree.township.id, self.tree.village.id)
            ]
            for person in below:
                training_sessions.enrol(
                    session,
                    training,
                    session.get(Person, person["id"]),
                    channel=EnrolmentChannel.leader,
                    by_user_id=None,
                )
            grant(
                session,
                session.get(Person, below[0]["id"]),
                modules["core.law"],
                granted_on=date.today(),
                source=QualificationSource.manual,
                granted_by_id=None,
            )
            session.commit()
        self._fill_duty()
        self._fill_hours()

    def _fill_duty(self) -> None:
        """A published patrol at every unit below the city, with a shift holding the unit's
        volunteers, so task, shift, roster, suggestion and duty pages show real people."""
        from tests.support.tasks_world import TasksWorld, at, next_monday, principal_of

        world = TasksWorld(self.platform)
        city = principal_of(self.platform, ("city_admin", self.tree.city))
        with self.platform.session_factory() as session:
            volunteers = session.exec(  # an age can be checked: born on a known date
                select(Volunteer.id, Volunteer.unit_id)
                .join(Person, Person.id == Volunteer.person_id)
                .where(Person.birth_date.is_not(None))
            ).all()
        for unit in self.units[1:]:
            shift = world.shift(world.task(unit), at(next_monday(), 9), max_headcount=4)
            for volunteer_id, unit_id in volunteers:
                if unit_id == unit.id:
                    with self.platform.session_factory() as session:
                        assign(
                            self.platform,
                            session,
                            city,
                            session.get(Shift, shift.id),
                            volunteer_id,
                            confirm_warnings=True,  # no accident cover: a warning, not a refusal
                        )
                        session.commit()

    def _fill_hours(self) -> None:
        """Every volunteer's shift checked out and confirmed, and a record certificate for
        each, so the hours, roster and record pages show real people."""
        from core.accounts.services import principal_for
        from core.hours.ledger import confirm
        from core.hours.record import issue
        from core.tasks.models import Assignment

        with self.platform.session_factory() as session:
            admin = principal_for(
                session, session.get(User, self.admin.user_id), self.platform.policy, "token"
            )
            confirmed = select(HoursEntry.id).where(HoursEntry.assignment_id == Assignment.id)
            duty = select(Assignment).where(~confirmed.exists())  # not the plugin's records
            for assignment in session.exec(duty).all():
                assignment.checked_in_at = assignment.starts_at
                assignment.checked_out_at = assignment.ends_at
                session.add(assignment)
                session.flush()
                confirm(session, admin, assignment)
                issue(
                    session,
                    session.get(Volunteer, assignment.volunteer_id),
                    session.get(Unit, assignment.unit_id),
                    self.admin.user_id,
                )
            session.commit()
            assert session.exec(select(HoursRecord.id)).first() is not None

    @property
    def clear_values(self) -> list[str]:
        values = [
            record[key]
            for record in [*self.people, *self.applications]
            for key in ("id_number", "phone", "address")
        ]
        values += [report[key] for report in self.reports for key in ("id_number", "phone")]
        values += [party[key] for party in self.parties for key in ("id_no", "phone")]
        return (
            values
            + [note["contact"] for note in self.notes]
            + list(insurance_records.CLEAR.values())
        )


def _get_routes(app) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    """Every GET route (path template, path parameters); framework routes (schema, static
    files) are listed apart."""
    routes, framework = [], []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" not in handler.http_methods:
                continue
            fn = getattr(handler, "fn", None)
            module = getattr(getattr(fn, "func", fn), "__module__", "") or ""  # sync_to_thread
            if module.startswith("litestar."):
                framework.append(route.path)
                continue
            routes.append((route.path, tuple(route.path_parameters)))
    return sorted(set(routes)), framework


def _get_actions(app) -> dict[str, str | None]:
    """The action each GET route requires (None for public ones)."""
    return {
        route.path: handler.opt.get("action")
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "GET" in handler.http_methods
    }


def _urls(
    platform,
    path: str,
    parameters: tuple[str, ...],
    plugin_ids: dict[str, dict[int, object]] | None = None,
) -> list[str]:
    """The path with its parameters filled with every real id of their kind (``plugin_ids``:
    a plugin's records by parameter name, then by unit)."""
    with platform.session_factory() as session:
        ids = {
            "unit_id": session.exec(select(Unit.id)).all(),
            "user_id": session.exec(select(User.id)).all(),
            "person_id": session.exec(select(Person.id)).all(),
            "job_id": session.exec(select(Job.id)).all(),
            "application_id": session.exec(select(Application.id)).all(),
            "volunteer_id": session.exec(select(Volunteer.id)).all(),
            "session_id": session.exec(select(TrainingSession.id)).all(),
            "enrolment_id": session.exec(select(TrainingEnrolment.id)).all(),
            "code": ["core.law", "sample.notice_etiquette"],
            "report_id": session.exec(select(Report.id)).all(),
            "photo": [0],
            "key": sorted(platform.plugins.config_keys)[:2],
            "task_id": session.exec(select(Task.id)).all(),
            "shift_id": session.exec(select(Shift.id)).all(),
            "record_id": session.exec(select(HoursRecord.id)).all(),
            "secret": session.exec(select(Shift.checkin_secret)).all()[:2],
            "token": ["no-such-calendar.ics"],
            **{
                name: session.exec(select(model.id)).all()
                for name, model in (
                    ("committee_id", Committee),
                    ("mediator_id", Mediator),
                    ("dispute_id", Dispute),
                    ("party_id", Party),
                    ("assignment_id", Assignment),
                    ("term_id", AgreementTerm),
                    ("attachment_id", Attachment),
                    ("lead_id", Lead),
                )
            },
        }
    for name, by_unit in (plugin_ids or {}).items():
        ids[name] = sorted(set(by_unit.values()))
    for name in parameters:
        assert name in ids, f"GET {path}: no ids to fill {name!r} with"
    urls = []
    for combination in itertools.product(*(ids[name] for name in parameters)):
        values = dict(zip(parameters, combination, strict=True))
        urls.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m, v=values: str(v[m.group(1)]), path))
    return urls


def _leaks(text: str, clear_values: list[str]) -> list[str]:
    found = FULL_ID.findall(text) + MOBILE.findall(text)
    found += [value for value in clear_values if value in text]
    return found


def _role_unit(platform, unit_tree, role: str) -> Unit:
    for level in LEVELS_TOP_DOWN:
        if platform.policy.allowed_at(role, level):
            return getattr(unit_tree, level.value)
    raise AssertionError(role)


@pytest.mark.heavy
async def test_no_get_route_shows_a_full_id_or_mobile(
    client, app, platform, unit_tree, accounts, registry
):
    await registry.fill()
    routes, framework = _get_routes(app)
    assert any(path.startswith("/api/v1/people") for path, _ in routes)
    assert any("/sample" in path for path, _ in routes)
    assert framework  # the OpenAPI and static routes hold no records: not scanned

    # Every role, those holding a reveal action too: GETs never show clear values.
    roles = list(platform.policy.roles)
    lacking = [r for r in roles if not platform.policy.actions(r) & REVEAL_ACTIONS]
    assert {"auditor", "platform_admin", "township_leader", "sample.editor"} <= set(lacking)
    assert set(roles) - set(lacking) == {
        "city_admin",
        "district_admin",
        "mediation.director",
        "mediation.officer",
    }
    urls = {
        path: _urls(platform, path, parameters, registry.plugin_ids) for path, parameters in routes
    }
    actions = _get_actions(app)
    leaks, requests, statuses = [], 0, Counter()
    for role in roles:
        account = accounts(role, _role_unit(platform, unit_tree, role))
        client.cookies.clear()
        await sign_in(client, account.username, account.password)
        held = platform.policy.actions(role)
        # A route needing an action the role holds nowhere answers 403 before reading
        # anything (the authorization matrix proves it): only the others can show records.
        readable = [
            p for p, _ in routes if actions[p] in (None, AUTHENTICATED) or actions[p] in held
        ]
        for url in (url for path in readable for url in urls[path]):
            page = not url.startswith("/api/")
            response = await client.get(
                url,
                headers={"accept": "text/html"} if page else account.headers,
                follow_redirects=False,
            )
            requests += 1
            statuses[response.status_code] += 1
            assert response.status_code < 500, (role, url, response.text[:300])
            found = _leaks(response.text, registry.clear_values)
            if found:
                leaks.append(f"{role} GET {url}: {sorted(set(found))}")
    print(
        f"\nprivacy scan: {len(routes)} GET routes, {len(roles)} roles, {requests} responses "
        f"scanned, statuses {dict(sorted(statuses.items()))}"
    )
    assert statuses[200] > len(roles) * 10  # the scan saw real content, not only refusals
    assert not leaks, "\n".join(leaks)


async def test_masked_forms(client, platform, unit_tree, admin, accounts, registry):
    await registry.fill()
    first = registry.people[0]
    assert first["read"]["id_number"] == "500***********1234"
    assert first["read"]["phone"] == "138****1234"
    with_x = registry.people[1]
    assert with_x["id_number"].endswith("X")
    assert (
        with_x["read"]["id_number"] == with_x["id_number"][:3] + "*" * 11 + with_x["id_number"][-4:]
    )
    leader = accounts("township_leader", unit_tree.township)
    for person in registry.people:
        response = await client.get(f"/api/v1/people/{person['id']}", headers=admin.headers)
        shown = response.json()
        assert MASKED_ID.match(shown["id_number"]), shown
        assert shown["id_number"][:3] == person["id_number"][:3]
        assert shown["id_number"][-4:] == person["id_number"][-4:]
        assert MASKED_MOBILE.match(shown["phone"]), shown
        assert shown["phone"] == person["phone"][:3] + "****" + person["phone"][-4:]
        assert shown["address"] == person["address"][:6] + "****"
    listed = await client.get(
        "/api/v1/people", params={"unit_id": unit_tree.township.id}, headers=leader.headers
    )
    assert listed.status_code == 200 and listed.json()
    assert all(MASKED_ID.match(row["id_number"]) for row in listed.json())
    for note in registry.notes:
        response = await client.get(
            f"/api/v1/units/{note['unit_id']}/sample/notes", headers=admin.headers
        )
        contacts = {row["contact"] for row in response.json() if row["contact"]}
        expected = note["contact"][:3] + "****" + note["contact"][-4:]
        assert expected in contacts
        assert all(MASKED_MOBILE.match(contact) for contact in contacts)


def _reveals(platform) -> list[AuditEntry]:
    with platform.session_factory() as session:
        return session.exec(
            select(AuditEntry).where(AuditEntry.event == "reveal").order_by(AuditEntry.id)
        ).all()


async def test_reveal_is_the_only_way_and_is_audited(
    client, platform, unit_tree, accounts, registry
):
    await registry.fill()
    holder = accounts("district_admin", unit_tree.district)
    assert "core.person.reveal" in platform.policy.actions("district_admin")
    inside = next(p for p in registry.people if p["unit_id"] == unit_tree.township.id)
    outside = next(p for p in registry.people if p["unit_id"] == unit_tree.other_district.id)

    # Reading, even as a holder of the reveal action, shows masked values.
    read = await client.get(f"/api/v1/people/{inside['id']}", headers=holder.headers)
    assert read.status_code == 200 and not _leaks(read.text, registry.clear_values)

    before = len(_reveals(platform))
    for number, fields in enumerate((["id_number", "phone"], ["address"]), start=1):
        reason = f"核实身份：案件 {number}"
        response = await client.post(
            f"/api/v1/people/{inside['id']}/reveal",
            json={"fields": fields, "reason": reason},
            headers=holder.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"id": inside["id"], "values": {f: inside[f] for f in fields}}
        if "id_number" in fields:  # the scanner would have caught these in any other response
            assert FULL_ID.search(response.text) and MOBILE.search(response.text)
        entries = _reveals(platform)
        assert len(entries) == before + number  # exactly one entry per reveal
        entry = entries[-1]
        assert entry.reason == reason
        assert entry.object_type == "person" and entry.object_id == str(inside["id"])
        assert entry.action == "core.person.reveal" and entry.user_id == holder.user_id
        assert entry.after == {"fields": sorted(fields)}
        assert not _leaks(str(entry.model_dump()), registry.clear_values)

    # Without the action: refused, and nothing is recorded.
    for role, unit in (("township_leader", unit_tree.township), ("auditor", unit_tree.city)):
        assert "core.person.reveal" not in platform.policy.actions(role)
        lacking = accounts(role, unit)
        response = await client.post(
            f"/api/v1/people/{inside['id']}/reveal",
            json={"fields": ["id_number"], "reason": "想看看"},
            headers=lacking.headers,
        )
        assert response.status_code == 403, response.text
        assert not _leaks(response.text, registry.clear_values)

    # Outside the holder's subtree: not there at all.
    response = await client.post(
        f"/api/v1/people/{outside['id']}/reveal",
        json={"fields": ["id_number"], "reason": "跨区查询"},
        headers=holder.headers,
    )
    assert response.status_code == 404
    assert not _leaks(response.text, registry.clear_values)
    assert len(_reveals(platform)) == before + 2

    # No reason, no reveal.
    response = await client.post(
        f"/api/v1/people/{inside['id']}/reveal",
        json={"fields": ["id_number"]},
        headers=holder.headers,
    )
    assert response.status_code == 400
    assert len(_reveals(platform)) == before + 2


async def test_no_report_response_shows_the_reporter_to_anyone_but_a_handler(
    client, app, platform, unit_tree, accounts
):
    """Every GET route about reports, as every role: the reporter's name, account and phone
    never appear; their masked name appears only to roles that handle the reports."""
    from core.accounts.models import User
    from core.people.services import PersonDetails, create_person

    name, username, phone = "卫守望", "wei-shouwang", "13566667777"
    reporter = accounts("volunteer", unit_tree.village, username=username)
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        person = create_person(
            session,
            platform.keyring,
            village,
            PersonDetails(
                name=name, id_number=resident_id("500103", "19750505", "321"), phone=phone
            ),
        )
        user = session.get(User, reporter.user_id)
        user.person_id = person.id
        session.add(user)
        session.commit()
    for title in ("深夜有人翻越围墙", "小区道路积水"):
        response = await client.post(
            f"/api/v1/units/{unit_tree.village.id}/reports",
            json={"category": "clue", "title": title, "body": title},
            headers=reporter.headers,
        )
        assert response.status_code == 201, response.text
    routes = [
        (path, params)
        for path, params in _get_routes(app)[0]
        if "report" in path and "/insurance/" not in path  # the plugin's are finance reports
    ]
    assert len(routes) >= 8, routes
    masked = name[0] + "*" + name[-1]
    shown_to, statuses = set(), Counter()
    for role in platform.policy.roles:
        account = accounts(role, _role_unit(platform, unit_tree, role))
        client.cookies.clear()
        await sign_in(client, account.username, account.password)
        for path, parameters in routes:
            for url in _urls(platform, path, parameters):
                page = not url.startswith("/api/")
                response = await client.get(
                    url,
                    headers={"accept": "text/html"} if page else account.headers,
                    follow_redirects=False,
                )
                statuses[response.status_code] += 1
                assert response.status_code < 500, (role, url)
                text = (
                    response.text
                    if response.headers.get("content-type", "").startswith(
                        ("text/", "application/json")
                    )
                    else ""
                )
                for secret in (name, username, phone):
                    assert secret not in text, (role, url, secret)
                if masked in text:
                    shown_to.add(role)
    handlers = {
        r for r in platform.policy.roles if "core.report.reveal" in platform.policy.actions(r)
    }
    assert shown_to == handlers == {"city_admin", "district_admin", "township_leader"}
    assert statuses[200] > 20
