"""The audit trail: every write recorded and masked, the chain checked, scoped reads, exports
that spreadsheets cannot execute, and retention."""

import csv
import io
import json
import re
import threading
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import func, select

from core.accounts.models import ApiToken, User
from core.audit import bulk, recorder
from core.audit.bulk import BULK_EVENT, ids_of, rows_digest
from core.audit.models import AuditEntry, AuditObjectRange
from core.audit.recorder import GENESIS, entry_hash, record
from core.audit.verify import verify_chain
from core.certificates.services import issue_certificate
from core.cli import CliState, cli
from core.db import transaction
from core.imports import services as import_services
from core.imports.models import ImportBatch
from core.jobs import Job, JobStatus, enqueue
from core.notifications import services as notifications
from core.notifications.models import Notification
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import PersonDetails
from core.people.services import create_person as register_person
from core.plugins import make_plugin_manager
from core.recruitment import services as recruitment
from core.scheduler import make_scheduler
from core.security.csv import FORMULA_STARTS
from core.security.masking import mask_address, mask_id_number, mask_phone
from core.settings import Settings
from core.training import sessions as training_sessions
from core.training.models import EnrolmentChannel
from core.units.models import Unit, UnitLevel, utcnow
from core.units.services import create_unit
from core.volunteers import profile as volunteer_profile
from core.volunteers.models import TeamMembership, TeamRole, Volunteer
from core.volunteers.services import enroll
from plugins.insurance.tests import security as insurance_records
from plugins.mediation.tests.audit_steps import steps as mediation_audit_steps
from tests.support.fixtures import TEST_PASSWORD
from tests.support.hours_world import hours_audit_steps
from tests.support.reports_world import reports_audit_steps
from tests.support.tasks_world import tasks_audit_steps
from tests.support.web import sign_in

pytestmark = pytest.mark.anyio

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NEW_PASSWORD = "another fine passphrase"


# -- helpers -----------------------------------------------------------------------------


def valid_id(first17: str) -> str:
    """A resident ID with the right GB 11643 check character."""
    return first17 + check_digit(first17)


def last_id(platform) -> int:
    with platform.session_factory() as session:
        return session.exec(select(func.max(AuditEntry.id))).one() or 0


def workbook(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def entries_after(platform, after_id: int) -> list[AuditEntry]:
    with platform.session_factory() as session:
        return list(
            session.exec(select(AuditEntry).where(AuditEntry.id > after_id).order_by(AuditEntry.id))
        )


def all_entries(platform) -> list[AuditEntry]:
    return entries_after(platform, 0)


def raw_trail(platform) -> str:
    """Every stored audit row as text, read around the ORM."""
    with platform.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM audit_entry")).all()
    assert rows
    return "\n".join(repr(tuple(row)) for row in rows)


async def create_person(client, account, unit, name: str, **fields):
    response = await client.post(
        "/api/v1/people",
        json={"unit_id": unit.id, "name": name, **fields},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def invoke_verify(settings: Settings):
    """``pingan audit verify`` as the command line runs it, on its own platform."""
    state = CliState(settings=settings, pm=make_plugin_manager())
    try:
        return CliRunner().invoke(cli, ["audit", "verify"], obj=state)
    finally:
        if state._platform is not None:
            state._platform.engine.dispose()


def api_write_routes(app) -> dict[tuple[str, str], object]:
    """Every POST/PUT/PATCH/DELETE route of the API, core's and the plugins', with its handler."""
    found = {}
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in set(handler.http_methods) & WRITE_METHODS:
                found[(method, route.path)] = handler
    return found


# -- every write is recorded -------------------------------------------------------------


async def test_every_write_route_of_the_api_leaves_an_audit_entry_naming_the_user(
    app, client, platform, unit_tree, admin
):
    """Each write route is called once, successfully, as ``admin``.

    Every route can be made to succeed with a valid body, so none is left to a refusal; a
    route added later without a step here fails the first assertion until it gets one.
    """
    ids: dict[str, int] = {}
    person_id = valid_id("50010319850412301")
    # A volunteer with a membership, a special team and a badge, for the volunteer steps.
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        township = session.get(Unit, unit_tree.township.id)
        member = register_person(
            session,
            platform.keyring,
            village,
            PersonDetails(name="审计志愿者", id_number=valid_id("50010319900101221")),
        )
        volunteer = enroll(session, member, village)
        issue_certificate(session, volunteer, session.get(Unit, unit_tree.city.id))
        since = date(2024, 1, 1)
        ids.update(
            volunteer=volunteer.id,
            volunteer_person=member.id,
            membership=volunteer_profile.add_membership(
                session, volunteer, township, TeamRole.member, since, catalogue=()
            ).id,
            special=volunteer_profile.add_special_team(
                session, volunteer, "sample", village, since, platform.plugins.names
            ).id,
            kit=volunteer_profile.issue_kit(
                session, volunteer, item="badge", issued_on=since, today=date.today()
            ).id,
        )
        session.commit()
    # Training: the admin's own volunteer record (a trainee at the village); a session that
    # has started, one to come, and one with the audit volunteer enrolled to take off the list.
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        township = session.get(Unit, unit_tree.township.id)
        trainee = register_person(
            session,
            platform.keyring,
            village,
            PersonDetails(name="审计学员", id_number=valid_id("50010319900101331")),
        )
        trainee_volunteer = enroll(session, trainee, village)
        session.get(User, admin.user_id).person_id = trainee.id
        modules = {m.code: m for m in platform.training_modules(session, township)}

        def planned(start):
            return training_sessions.schedule(
                session,
                township,
                modules,
                training_sessions.SessionPlan(
                    title="审计培训",
                    department="police",
                    modules=["core.law"],
                    starts_at=start,
                    ends_at=start + timedelta(hours=3),
                    place="街道会议室",
                    capacity=30,
                ),
                None,
            )

        now = datetime.now(UTC)
        started, coming, other = (
            planned(now - timedelta(hours=1)),
            planned(now + timedelta(days=2)),
            planned(now + timedelta(days=3)),
        )
        listed = training_sessions.enrol(
            session,
            other,
            session.get(Person, ids["volunteer_person"]),
            channel=EnrolmentChannel.leader,
            by_user_id=None,
        )
        session.commit()
        ids.update(
            trainee=trainee.id,
            trainee_number=trainee_volunteer.number,
            started=started.id,
            coming=coming.id,
            other=other.id,
            listed=listed.id,
        )
    # Applications received by the city office, which takes every step on its own ones: one
    # for the whole path, one to reject, one to withdraw; a self-application and its token;
    # a notification for the admin.
    with platform.session_factory() as session:
        city = session.get(Unit, unit_tree.city.id)

        def received(first17: str):
            applicant = recruitment.Applicant(
                name="审计报名", id_number=valid_id(first17), phone="13900002222"
            )
            return recruitment.submit(
                session, platform.keyring, city, applicant, by_user_id=admin.user_id
            )

        ids.update(
            application=received("50010319880101301").id,
            rejectable=received("50010319880101302").id,
            withdrawable=received("50010319880101303").id,
        )
        _, withdraw_token = recruitment.self_apply(
            session,
            platform.keyring,
            city,
            recruitment.Applicant(
                name="自荐", id_number=valid_id("50010319880101304"), phone="13900003333"
            ),
            "audit-test",
        )
        notifications.deliver(session, [(admin.user_id, "审计", "", None, "audit:1")])
        session.commit()
        ids["notification"] = session.exec(
            select(Notification.id).where(Notification.dedupe_key == "audit:1")
        ).one()
    application_api = "/api/v1/applications/{application_id:int}"
    volunteer_api = "/api/v1/volunteers/{volunteer_id:int}"
    volunteer_sheet = workbook(
        [["姓名", "身份证号", "队伍代码"], ["导入", valid_id("50010319900101771"), "500103002001"]]
    )
    unit_sheet = workbook(
        [["代码", "名称", "层级", "上级代码"], ["500103077", "审计街道", "街道", "500103"]]
    )

    def as_own(person_id: int | None, group: list[tuple]) -> list[tuple]:
        """The group's steps, each run with the admin's own person record set to ``person_id``:
        every group was prepared with its own (a trainee, a volunteer, a mediator, an insured)."""

        async def run(call):
            with platform.session_factory() as session:
                user = session.get(User, admin.user_id)
                user.person_id = person_id
                session.add(user)
                session.commit()
            return await call()

        return [(m, p, s, lambda call=call: run(call)) for m, p, s, call in group]

    def prepared(group: list[tuple]) -> list[tuple]:
        """A group whose preparation just chose the admin's own person record."""
        with platform.session_factory() as session:
            return as_own(session.get(User, admin.user_id).person_id, group)

    core_steps = [
        (
            "POST",
            "/api/v1/auth/token",
            201,
            # A password exchange: no bearer token, the user is who just signed in.
            lambda: client.post(
                "/api/v1/auth/token",
                json={"username": admin.username, "password": TEST_PASSWORD, "name": "audit"},
            ),
        ),
        (
            "DELETE",
            "/api/v1/auth/tokens/{token_id:int}",
            204,
            lambda: client.delete(f"/api/v1/auth/tokens/{ids['token']}", headers=admin.headers),
        ),
        (
            "POST",
            "/api/v1/auth/password",
            204,
            lambda: client.post(
                "/api/v1/auth/password",
                json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/users",
            201,
            lambda: client.post(
                "/api/v1/users",
                json={
                    "username": "audited",
                    "display_name": "被审计",
                    "unit_id": unit_tree.district.id,
                },
                headers=admin.headers,
            ),
        ),
        (
            "PATCH",
            "/api/v1/users/{user_id:int}",
            200,
            lambda: client.patch(
                f"/api/v1/users/{ids['user']}",
                json={"display_name": "改了名", "is_active": False},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/users/{user_id:int}/password-reset",
            201,
            lambda: client.post(
                f"/api/v1/users/{ids['user']}/password-reset", headers=admin.headers
            ),
        ),
        (
            "POST",
            "/api/v1/users/{user_id:int}/grants",
            201,
            lambda: client.post(
                f"/api/v1/users/{ids['user']}/grants",
                json={"role": "district_admin", "unit_id": unit_tree.district.id},
                headers=admin.headers,
            ),
        ),
        (
            "DELETE",
            "/api/v1/users/{user_id:int}/grants/{grant_id:int}",
            204,
            lambda: client.delete(
                f"/api/v1/users/{ids['user']}/grants/{ids['grant']}", headers=admin.headers
            ),
        ),
        (
            "POST",
            "/api/v1/people",
            201,
            lambda: client.post(
                "/api/v1/people",
                json={"unit_id": unit_tree.district.id, "name": "李四", "id_number": person_id},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/people/{person_id:int}/reveal",
            200,
            lambda: client.post(
                f"/api/v1/people/{ids['person']}/reveal",
                json={"fields": ["id_number"], "reason": "核实身份，办理保险"},
                headers=admin.headers,
            ),
        ),
        (
            "PUT",
            "/api/v1/units/{unit_id:int}/plugins/{name:str}",
            200,
            lambda: client.put(
                f"/api/v1/units/{unit_tree.city.id}/plugins/sample",
                json={"enabled": True},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/sample/notes",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/sample/notes",
                json={"text": "周六巡逻", "contact": "13900001111"},
                headers=admin.headers,
            ),
        ),
        (
            "PATCH",
            "/api/v1/people/{person_id:int}",
            200,
            lambda: client.patch(
                f"/api/v1/people/{ids['person']}",
                json={"occupation": "教师"},
                headers=admin.headers,
            ),
        ),
        *(
            (method, volunteer_api + suffix, status, call)
            for method, suffix, status, call in (
                (
                    "PATCH",
                    "",
                    200,
                    lambda: client.patch(
                        f"/api/v1/volunteers/{ids['volunteer']}",
                        json={"national_number": "AUDIT-0001"},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/memberships",
                    201,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/memberships",
                        json={"unit_id": unit_tree.district.id},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/memberships/{membership_id:int}/end",
                    200,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/memberships/{ids['membership']}/end",
                        json={},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/special-teams",
                    201,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/special-teams",
                        json={"team": "sample", "unit_id": unit_tree.township.id},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/special-teams/{special_team_id:int}/end",
                    200,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/special-teams/{ids['special']}/end",
                        json={},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/kit",
                    201,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/kit",
                        json={"item": "armband"},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/kit/{kit_id:int}/recall",
                    200,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/kit/{ids['kit']}/recall",
                        json={},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/transfer",
                    200,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/transfer",
                        json={"unit_id": unit_tree.other_village.id, "reason": "审计调动"},
                        headers=admin.headers,
                    ),
                ),
                (
                    "POST",
                    "/status",
                    200,
                    lambda: client.post(
                        f"/api/v1/volunteers/{ids['volunteer']}/status",
                        json={"status": "suspended", "reason": "审计测试暂停"},
                        headers=admin.headers,
                    ),
                ),
            )
        ),
        (
            "POST",
            "/api/v1/volunteers/export",
            200,  # the file itself; the entry is the export's
            lambda: client.post(
                "/api/v1/volunteers/export", json={"reason": "审计导出"}, headers=admin.headers
            ),
        ),
        (
            "POST",
            "/api/v1/applications",
            201,
            lambda: client.post(
                "/api/v1/applications",
                json={
                    "unit_id": unit_tree.village.id,
                    "name": "新报名",
                    "id_number": valid_id("50010319880101305"),
                    "phone": "13900004444",
                },
                headers=admin.headers,
            ),
        ),
        *(
            (
                "POST",
                application_api + suffix,
                200,
                lambda suffix=suffix, key=key, payload=payload: client.post(
                    f"/api/v1/applications/{ids[key]}{suffix}", json=payload, headers=admin.headers
                ),
            )
            for suffix, key, payload in (
                ("/preliminary-approval", "application", None),
                ("/approval", "application", None),
                ("/registration", "application", {"team_unit_id": unit_tree.district.id}),
                ("/certification", "application", {"identity_verified": True}),
                ("/rejection", "rejectable", {"reason": "审计不予通过"}),
                ("/withdrawal", "withdrawable", {"reason": "本人要求"}),
            )
        ),
        (
            "POST",
            "/api/v1/applications/self",
            201,  # public, but signed in: the entry names the account
            lambda: client.post(
                "/api/v1/applications/self",
                json={
                    "unit_id": unit_tree.village.id,
                    "name": "自己报名",
                    "id_number": valid_id("50010319880101306"),
                    "phone": "13900005555",
                },
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/applications/withdrawals",
            200,
            lambda: client.post(
                "/api/v1/applications/withdrawals",
                json={"token": withdraw_token},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/notifications/{notification_id:int}/read",
            200,
            lambda: client.post(
                f"/api/v1/notifications/{ids['notification']}/read", headers=admin.headers
            ),
        ),
        (
            "POST",
            "/api/v1/notifications/read",
            200,
            lambda: client.post("/api/v1/notifications/read", headers=admin.headers),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/certificates/revoke",
            200,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.city.id}/certificates/revoke",
                json={"volunteer_id": ids["volunteer"], "reason": "身份核查不通过"},
                headers=admin.headers,
            ),
        ),
        # Training: schedule, enrol, attend, complete and quiz; cancel; grant, import, revoke;
        # the plan and a role's requirement; the admin's own enrolment.
        (
            "POST",
            "/api/v1/units/{unit_id:int}/training/sessions",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/training/sessions",
                json={
                    "department": "emergency",
                    "modules": ["core.emergency_rescue"],
                    "starts_at": "2031-05-12T09:00:00+08:00",
                    "ends_at": "2031-05-12T12:00:00+08:00",
                    "place": "区应急办",
                    "capacity": 60,
                },
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/training/enrolments",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.village.id}/training/enrolments",
                json={"session_id": ids["started"], "person_id": ids["trainee"]},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/sessions/{session_id:int}/attendance",
            200,
            lambda: client.post(
                f"/api/v1/training/sessions/{ids['started']}/attendance",
                json={"records": [{"enrolment_id": ids["attending"], "attended": True}]},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/sessions/{session_id:int}/completion",
            200,
            lambda: client.post(
                f"/api/v1/training/sessions/{ids['started']}/completion", headers=admin.headers
            ),
        ),
        (
            "POST",
            "/api/v1/training/me/enrolments/{enrolment_id:int}/quiz/{code:str}",
            200,
            lambda: client.post(
                f"/api/v1/training/me/enrolments/{ids['attending']}/quiz/core.law",
                json={"answers": law_answers},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/sessions/{session_id:int}/enrolments/{enrolment_id:int}/cancellation",
            200,
            lambda: client.post(
                f"/api/v1/training/sessions/{ids['other']}/enrolments/{ids['listed']}/cancellation",
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/sessions/{session_id:int}/cancellation",
            200,
            lambda: client.post(
                f"/api/v1/training/sessions/{ids['other']}/cancellation",
                json={"reason": "授课人员临时有任务"},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/me/enrolments",
            201,
            lambda: client.post(
                "/api/v1/training/me/enrolments",
                json={"session_id": ids["coming"]},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/me/enrolments/{enrolment_id:int}/cancellation",
            200,
            lambda: client.post(
                f"/api/v1/training/me/enrolments/{ids['own']}/cancellation",
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/training/qualifications",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/training/qualifications",
                json={
                    "person_id": ids["trainee"],
                    "module_code": "core.mission",
                    "reason": "团区委培训证明",
                },
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/training/qualifications/{qualification_id:int}/revocation",
            200,
            lambda: client.post(
                f"/api/v1/training/qualifications/{ids['qualification']}/revocation",
                json={"reason": "重复认定"},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/training/qualifications/import",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/training/qualifications/import",
                json={
                    "rows": [
                        {
                            "volunteer_number": ids["trainee_number"],
                            "module_code": "core.communication",
                            "granted_on": "2023-04-01",
                        }
                    ],
                    "reason": "纸质台账补录",
                },
                headers=admin.headers,
            ),
        ),
        (
            "PUT",
            "/api/v1/units/{unit_id:int}/training/plan",
            200,
            lambda: client.put(
                f"/api/v1/units/{unit_tree.district.id}/training/plan",
                json={"targets": [{"metric": "sessions", "target": 12}], "note": "全年"},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/training/requirements",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/training/requirements",
                json={"role": "captain", "modules": ["core.law"], "valid_from": "2031-01-01"},
                headers=admin.headers,
            ),
        ),
    ]
    steps = [
        *as_own(ids["trainee"], core_steps),
        # Check-in, hours, corrections, record certificates, calendar and e-mail.
        *prepared(hours_audit_steps(client, platform, unit_tree, admin, NEW_PASSWORD)),
        # Tasks, points, shifts and assignments: a task's whole flow.
        *prepared(tasks_audit_steps(client, platform, unit_tree, admin)),
        # Reports: submitted, triaged, referred, closed, the reporter revealed; unit settings.
        *prepared(reports_audit_steps(client, platform, unit_tree, admin)),
        # The mediation plugin's write routes, in the order a dispute goes through them.
        *prepared(mediation_audit_steps(client, platform, admin, unit_tree.district)),
        # The insurance plugin's write routes, each on a document others prepared (four eyes).
        *prepared(insurance_records.audit_steps(client, platform, admin, unit_tree)),
        # Units and imports last: the merge folds other_village into village.
        (
            "PATCH",
            "/api/v1/units/{unit_id:int}",
            200,
            lambda: client.patch(
                f"/api/v1/units/{unit_tree.village.id}",
                json={"population": 3200, "population_year": 2024},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/children",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/children",
                json={"name": "审计中队", "kind": "enterprise", "organisation": "审计厂"},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/move",
            200,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.other_village.id}/move",
                json={"parent_id": unit_tree.township.id},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/merge",
            200,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.other_village.id}/merge",
                json={"into_id": unit_tree.village.id},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/imports/volunteers",
            202,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/imports/volunteers",
                files={"file": ("v.xlsx", volunteer_sheet, "application/octet-stream")},
                headers=admin.headers,
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/imports/units",
            202,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/imports/units",
                files={"file": ("u.xlsx", unit_sheet, "application/octet-stream")},
                headers=admin.headers,
            ),
        ),
    ]
    law_answers = [
        list(q.answers) for q in platform.plugins.training_modules["core.law"].quiz.questions
    ]
    routes = api_write_routes(app)
    assert set(routes) == {(method, path) for method, path, _, _ in steps}, (
        "write routes without an audit step here (add one): "
        f"{sorted(set(routes) - {(m, p) for m, p, _, _ in steps})}"
    )
    for method, path, status, call in steps:
        before = last_id(platform)
        response = await call()
        assert response.status_code == status, (method, path, response.text)
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        if path == "/api/v1/auth/token":
            ids["token"] = body["id"]
        elif path == "/api/v1/users":
            ids["user"] = body["user"]["id"]
        elif path.endswith("/grants"):
            ids["grant"] = body["id"]
        elif path == "/api/v1/people":
            ids["person"] = body["id"]
        elif path == "/api/v1/units/{unit_id:int}/training/enrolments":
            ids["attending"] = next(
                e["id"] for e in body["enrolments"] if e["person_id"] == ids["trainee"]
            )
        elif path == "/api/v1/training/me/enrolments":
            ids["own"] = next(
                e["id"]
                for e in (await client.get("/api/v1/training/me", headers=admin.headers)).json()[
                    "enrolments"
                ]
                if e["session_id"] == ids["coming"]
            )
        elif path == "/api/v1/units/{unit_id:int}/training/qualifications":
            ids["qualification"] = body["id"]
        entries = entries_after(platform, before)
        action = routes[(method, path)].opt["action"]
        assert any(
            (e.user_id, e.username, e.action) == (admin.user_id, admin.username, action)
            for e in entries
        ), (method, path, [(e.event, e.object_type, e.username, e.action) for e in entries])


async def test_a_refused_write_changes_nothing_and_records_no_change(
    client, platform, unit_tree, admin, accounts
):
    number = valid_id("50010319900101123")
    await create_person(client, admin, unit_tree.district, "王五", id_number=number)
    auditor = accounts("auditor", unit_tree.district)
    before = last_id(platform)
    duplicate = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.district.id, "name": "冒名", "id_number": number},
        headers=admin.headers,
    )
    assert duplicate.status_code == 409
    forbidden = await client.post(
        "/api/v1/users",
        json={"username": "sneaky", "display_name": "偷偷", "unit_id": unit_tree.district.id},
        headers=auditor.headers,
    )
    assert forbidden.status_code == 403
    assert entries_after(platform, before) == []
    with platform.session_factory() as session:
        assert session.exec(select(func.count()).select_from(Person)).one() == 1
        assert session.exec(select(User).where(User.username == "sneaky")).first() is None


async def test_sensitive_values_are_stored_masked_in_the_trail(client, platform, unit_tree, admin):
    number = valid_id("50010319900307123")
    phone, address = "13812345678", "重庆市渝中区解放碑步行街88号"
    person = await create_person(
        client, admin, unit_tree.district, "张三丰", id_number=number, phone=phone, address=address
    )
    revealed = await client.post(
        f"/api/v1/people/{person['id']}/reveal",
        json={"fields": ["id_number", "phone"], "reason": "核实身份信息"},
        headers=admin.headers,
    )
    assert revealed.json()["values"] == {"id_number": number, "phone": phone}
    with platform.session_factory() as session:
        insert = session.exec(
            select(AuditEntry).where(
                AuditEntry.object_type == "person", AuditEntry.event == "insert"
            )
        ).one()
        reveal = session.exec(select(AuditEntry).where(AuditEntry.event == "reveal")).one()
    assert (
        insert.after["id_number"] == mask_id_number(number) == number[:3] + "*" * 11 + number[-4:]
    )
    assert insert.after["phone"] == mask_phone(phone) == "138****5678"
    assert insert.after["address"] == mask_address(address) == "重庆市渝中区****"
    assert insert.after["name"] == "张三丰" and insert.unit_path == unit_tree.district.path
    assert (insert.username, insert.action) == (admin.username, "core.person.manage")
    assert reveal.after == {"fields": ["id_number", "phone"]}
    assert (reveal.reason, reveal.action) == ("核实身份信息", "core.person.reveal")
    trail = raw_trail(platform)
    for clear in (number, number[6:14], phone, "解放碑步行街88号"):
        assert clear not in trail, clear


async def test_a_plugins_sensitive_field_is_masked_too(client, platform, unit_tree, admin):
    await client.put(
        f"/api/v1/units/{unit_tree.city.id}/plugins/sample",
        json={"enabled": True},
        headers=admin.headers,
    )
    response = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/sample/notes",
        json={"text": "联系我", "contact": "13700001234"},
        headers=admin.headers,
    )
    assert response.status_code == 201
    with platform.session_factory() as session:
        inserts = session.exec(
            select(AuditEntry).where(AuditEntry.object_type == "sample_note")
        ).all()
    (insert,) = [e for e in inserts if e.after["text"] == "联系我"]
    assert insert.after["contact"] == "137****1234"
    assert (insert.username, insert.action) == (admin.username, "sample.note.create")
    assert "13700001234" not in raw_trail(platform)


async def test_password_and_token_hashes_never_reach_the_trail(client, platform, unit_tree, admin):
    created = await client.post(
        "/api/v1/users",
        json={
            "username": "hashless",
            "display_name": "无哈希",
            "unit_id": unit_tree.district.id,
            "password": "a perfectly good passphrase",
        },
        headers=admin.headers,
    )
    user_id = created.json()["user"]["id"]
    await client.post(f"/api/v1/users/{user_id}/password-reset", headers=admin.headers)
    await client.post(
        "/api/v1/auth/password",
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        headers=admin.headers,
    )
    issued = await client.post(
        "/api/v1/auth/token", json={"username": admin.username, "password": NEW_PASSWORD}
    )
    token = issued.json()["token"]
    await client.delete(f"/api/v1/auth/tokens/{issued.json()['id']}", headers=admin.headers)
    await sign_in(client, admin.username, NEW_PASSWORD)

    with platform.session_factory() as session:
        secrets = [u.password_hash for u in session.exec(select(User))]
        secrets += [t.token_hash for t in session.exec(select(ApiToken))]
    trail = raw_trail(platform)
    assert "$argon2" not in trail and token not in trail
    for secret in secrets:
        assert secret not in trail
    password_values = [
        values["password_hash"]
        for entry in all_entries(platform)
        for values in (entry.before, entry.after)
        if values and "password_hash" in values
    ]
    # created ×2 (fixture's root, hashless), reset, change: before and after each
    assert len(password_values) >= 6 and set(password_values) == {"******"}


# -- the chain ---------------------------------------------------------------------------


def test_audit_verify_reports_an_intact_chain(platform, settings, unit_tree):
    with platform.session_factory() as session:
        record(session, "note", reason="one more")
        session.commit()
    count = len(all_entries(platform))
    assert count == 15  # seven units (insert and path update each) and the note
    with platform.session_factory() as session:
        report = verify_chain(session)
        assert (report.ok, report.checked) == (True, count)
        assert verify_chain(session, batch=4).checked == count  # across batches
    first = all_entries(platform)[0]
    assert first.prev_hash == GENESIS
    result = invoke_verify(settings)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"audit chain intact: {count} entries"


def _tamper_altered(connection, middle: AuditEntry) -> int:
    connection.execute(
        sa.text("UPDATE audit_entry SET reason = 'x' WHERE id = :id"), {"id": middle.id}
    )
    return middle.id


def _tamper_deleted(connection, middle: AuditEntry) -> int:
    connection.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"), {"id": middle.id})
    return middle.id + 1


def _tamper_inserted(connection, middle: AuditEntry) -> int:
    """A forger who knows the hash function slips a well-formed entry in after ``middle``.

    The ids after it are moved up one (ids are not hashed), the forged entry links to
    ``middle`` and carries its own correct hash: only the next entry's link gives it away.
    """
    connection.execute(sa.text("UPDATE audit_entry SET id = -id WHERE id > :id"), {"id": middle.id})
    connection.execute(sa.text("UPDATE audit_entry SET id = 1 - id WHERE id < 0"))
    forged = {
        "at": middle.at + timedelta(microseconds=1),
        "user_id": None,
        "username": "ghost",
        "address": None,
        "event": "delete",
        "action": None,
        "object_type": "person",
        "object_id": "1",
        "unit_path": None,
        "before": None,
        "after": None,
        "reason": None,
        "outcome": "ok",
    }
    digest = entry_hash(middle.hash, forged)
    connection.execute(
        sa.insert(AuditEntry.__table__).values(
            id=middle.id + 1, prev_hash=middle.hash, hash=digest, **forged
        )
    )
    return middle.id + 2


def _tamper_appended(connection, middle: AuditEntry) -> int:
    """A forged entry at the end whose hash does not match its content."""
    last = connection.execute(
        sa.select(AuditEntry.__table__.c.id, AuditEntry.__table__.c.hash)
        .order_by(AuditEntry.__table__.c.id.desc())
        .limit(1)
    ).one()
    connection.execute(
        sa.insert(AuditEntry.__table__).values(
            id=last.id + 1,
            at=utcnow(),
            event="login",
            username="ghost",
            outcome="ok",
            prev_hash=last.hash,
            hash="f" * 64,
        )
    )
    return last.id + 1


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_tamper_altered, "its content does not match its hash"),
        (_tamper_deleted, "its link to the previous entry is broken"),
        (_tamper_inserted, "its link to the previous entry is broken"),
        (_tamper_appended, "its content does not match its hash"),
    ],
    ids=["altered", "deleted", "inserted", "appended"],
)
def test_audit_verify_finds_a_tampered_entry(platform, settings, unit_tree, tamper, problem):
    entries = all_entries(platform)
    middle = entries[len(entries) // 2]
    assert invoke_verify(settings).exit_code == 0
    with platform.engine.begin() as connection:
        broken_at = tamper(connection, middle)
    with platform.session_factory() as session:
        report = verify_chain(session)
    assert (report.ok, report.broken_at, report.problem) == (False, broken_at, problem)
    result = invoke_verify(settings)
    assert result.exit_code == 1
    assert f"audit chain BROKEN at entry {broken_at}: {problem}" in result.output


def test_the_chain_stays_intact_under_concurrent_writers(platform, unit_tree):
    writers, commits = 8, 12
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(commits):
                with platform.session_factory() as session:
                    parent = session.get(Unit, unit_tree.township.id)
                    create_unit(
                        session, name=f"村{number}-{n}", level=UnitLevel.village, parent=parent
                    )
                    record(session, "stress", reason=f"{number}-{n}")
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    with platform.session_factory() as session:
        report = verify_chain(session)
        total = session.exec(select(func.count()).select_from(AuditEntry)).one()
        stress = session.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.event == "stress")
        ).one()
    assert stress == writers * commits
    assert total == 14 + writers * commits * 3  # each commit: unit insert, path update, event
    assert (report.ok, report.checked) == (True, total), report


# -- bulk entries ------------------------------------------------------------------------


IMPORTER = recorder.AuditActor(None, "importer", "10.0.0.9", "core.volunteer.import")


def import_volunteers(platform, unit_tree, rows: list[list[str]]) -> int:
    """Import ``rows`` (name, resident ID, team code, mobile) into the district; the batch id."""
    content = "姓名,身份证号,队伍代码,手机号\n" + "".join(",".join(row) + "\n" for row in rows)
    with platform.session_factory() as session:
        batch = import_services.create_batch(
            session,
            kind="volunteers",
            unit=session.get(Unit, unit_tree.district.id),
            name="名册.csv",
            content=content.encode(),
            by_user_id=None,
        )
        session.commit()
    assert import_services.run_batch(
        platform.session_factory, platform.keyring, platform.plugins, batch.id, actor=IMPORTER
    )
    return batch.id


def roster(count: int, phone_prefix: str = "138") -> list[list[str]]:
    teams = ["500103002001", "500103001001", "500103002"]
    return [
        [
            f"导入{n}",
            valid_id(f"50010319{70 + n}0101{n:03d}"),
            teams[n % 3],
            f"{phone_prefix}{n:08d}",
        ]
        for n in range(count)
    ]


def bulk_entries(platform) -> list[AuditEntry]:
    return [e for e in all_entries(platform) if e.event == BULK_EVENT]


def ids_in(session, model) -> set[int]:
    return set(session.exec(select(model.id)))


def test_an_import_is_recorded_by_one_chained_entry_per_chunk_listing_exactly_its_ids(
    platform, settings, unit_tree, monkeypatch
):
    monkeypatch.setattr(import_services, "CHUNK", 4)
    before = last_id(platform)
    batch_id = import_volunteers(platform, unit_tree, roster(10))
    entries = entries_after(platform, before)
    bulk = [e for e in entries if e.event == BULK_EVENT]
    assert len(bulk) == 3  # 10 rows in chunks of 4
    # no entry per row: the bulk statements were not captured one by one
    assert not {"person", "volunteer", "team_membership"} & {e.object_type for e in entries}
    # the deepest unit all of a chunk's rows lie under: the last chunk is one township's
    paths = [unit_tree.district.path, unit_tree.district.path, unit_tree.township.path]
    chunks = zip(bulk, ([2, 5], [6, 9], [10, 11]), (4, 4, 2), paths, strict=True)
    for entry, rows, count, path in chunks:
        assert (entry.username, entry.address, entry.action) == (
            "importer",
            "10.0.0.9",
            "core.volunteer.import",
        )
        assert (entry.object_type, entry.object_id) == ("import_batch", str(batch_id))
        assert entry.after["batch"] == batch_id
        assert (entry.after["rows"], entry.after["count"]) == (rows, count)
        assert entry.unit_path == path
        assert len(entry.after["digest"]) == 64
    with platform.session_factory() as session:
        listed: dict[str, list[int]] = {}
        for entry in bulk:
            for table, runs in entry.after["ids"].items():
                listed.setdefault(table, []).extend(ids_of(runs))
            # the digest pins the rows as written: recomputed from them, it is the same
            assert rows_digest(session, entry.after["ids"]) == entry.after["digest"]
        assert {table: sorted(ids) for table, ids in listed.items()} == {
            "person": sorted(ids_in(session, Person)),
            "volunteer": sorted(ids_in(session, Volunteer)),
            "team_membership": sorted(ids_in(session, TeamMembership)),
        }
        assert len(listed["volunteer"]) == 10
        # the copies the district list reads, written with the rows
        volunteer = session.exec(select(Volunteer).order_by(Volunteer.id)).first()
        person = session.get(Person, volunteer.person_id)
        assert (volunteer.district_id, volunteer.name) == (unit_tree.district.id, person.name)
        # a row changed afterwards no longer matches the digest of its import
        person.name = "改名"
        session.commit()
        assert rows_digest(session, bulk[0].after["ids"]) != bulk[0].after["digest"]
        report = verify_chain(session)
    assert (report.ok, report.checked) == (True, len(all_entries(platform)))
    result = invoke_verify(settings)
    assert result.exit_code == 0, result.output


def test_bulk_entries_keep_sensitive_values_out_of_the_trail(platform, unit_tree):
    rows = roster(3)
    import_volunteers(platform, unit_tree, rows)
    trail = raw_trail(platform)
    for _, id_number, _, phone in rows:
        assert id_number not in trail and phone not in trail


def _drop_an_id(connection, entry: AuditEntry) -> None:
    after = dict(entry.after)
    after["ids"] = {**after["ids"], "volunteer": [[entry.after["ids"]["volunteer"][0][0] + 1] * 2]}
    connection.execute(
        sa.update(AuditEntry.__table__)
        .where(AuditEntry.__table__.c.id == entry.id)
        .values(after=after)
    )


def _widen_the_index(connection, entry: AuditEntry) -> None:
    ranges = AuditObjectRange.__table__
    connection.execute(
        sa.update(ranges)
        .where(ranges.c.entry_id == entry.id, ranges.c.object_type == "volunteer")
        .values(last_id=ranges.c.last_id + 100)
    )


def _unindex(connection, entry: AuditEntry) -> None:
    ranges = AuditObjectRange.__table__
    connection.execute(sa.delete(ranges).where(ranges.c.entry_id == entry.id))


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_drop_an_id, "its content does not match its hash"),
        (_widen_the_index, "the index of the records it covers does not match it"),
        (_unindex, "the index of the records it covers does not match it"),
    ],
    ids=["entry-altered", "index-widened", "index-removed"],
)
def test_tampering_with_an_import_entry_or_its_index_is_detected(
    platform, settings, unit_tree, tamper, problem
):
    import_volunteers(platform, unit_tree, roster(3))
    (entry,) = bulk_entries(platform)
    assert invoke_verify(settings).exit_code == 0
    with platform.engine.begin() as connection:
        tamper(connection, entry)
    with platform.session_factory() as session:
        report = verify_chain(session)
    assert (report.ok, report.broken_at, report.problem) == (False, entry.id, problem)
    result = invoke_verify(settings)
    assert result.exit_code == 1
    assert f"audit chain BROKEN at entry {entry.id}: {problem}" in result.output


def test_a_reimport_updates_and_records_each_change_row_by_row(platform, unit_tree):
    import_volunteers(platform, unit_tree, roster(3))
    with platform.session_factory() as session:
        counts = [len(ids_in(session, model)) for model in (Person, Volunteer, TeamMembership)]
    before = last_id(platform)
    import_volunteers(platform, unit_tree, roster(3))  # the same file: nothing changes
    assert {(e.event, e.object_type) for e in entries_after(platform, before)} == {
        ("insert", "import_batch"),
        ("update", "import_batch"),
    }
    changed = roster(3, phone_prefix="139")
    changed[1][0] = "改名导入"
    before = last_id(platform)
    batch_id = import_volunteers(platform, unit_tree, changed)
    with platform.session_factory() as session:
        assert [len(ids_in(session, m)) for m in (Person, Volunteer, TeamMembership)] == counts
        batch = session.get(ImportBatch, batch_id)
        assert (batch.created, batch.updated) == (0, 3)
        renamed = session.exec(select(Person).where(Person.name == "改名导入")).one()
        volunteer = session.exec(select(Volunteer).where(Volunteer.person_id == renamed.id)).one()
        assert volunteer.name == "改名导入"  # the list's copy follows
    entries = entries_after(platform, before)
    assert BULK_EVENT not in {e.event for e in entries}
    people = [e for e in entries if e.object_type == "person"]
    assert len(people) == 3 and {e.username for e in people} == {"importer"}
    assert all(set(e.after) >= {"phone"} and e.after["phone"].startswith("139") for e in people)
    (rename,) = [e for e in entries if e.object_type == "volunteer"]
    assert (rename.before["name"], rename.after["name"]) == ("导入1", "改名导入")


def test_a_chunk_the_database_refuses_is_stored_again_row_by_row_and_audited_as_stored(
    platform, settings, unit_tree, monkeypatch
):
    """A person registered meanwhile makes the chunk's bulk insert fail; the chunk is stored
    again row by row, and the trail lists only what was finally written."""
    monkeypatch.setattr(import_services, "CHUNK", 10)
    rows = roster(3)
    insert_rows = bulk.insert_rows
    raced = []

    def insert_after_a_racer(session, table, new_rows):
        if table.name == "person" and not raced:
            raced.append(True)
            racer = dict(new_rows[0], name="抢先")
            insert_rows(session, table, [racer])  # rolled back with the failed chunk
        insert_rows(session, table, new_rows)

    monkeypatch.setattr(bulk, "insert_rows", insert_after_a_racer)
    batch_id = import_volunteers(platform, unit_tree, rows)
    entries = bulk_entries(platform)
    assert [e.after["rows"] for e in entries] == [[2, 2], [3, 3], [4, 4]]
    with platform.session_factory() as session:
        batch = session.get(ImportBatch, batch_id)
        assert (batch.created, batch.refused) == (3, 0)
        assert "抢先" not in {p.name for p in session.exec(select(Person))}
        assert sorted(v for e in entries for v in ids_of(e.after["ids"]["person"])) == sorted(
            ids_in(session, Person)
        )
        assert verify_chain(session).ok


async def test_the_trail_filtered_by_a_record_finds_the_import_that_wrote_it(
    client, platform, unit_tree, admin
):
    batch_id = import_volunteers(platform, unit_tree, roster(3))
    (entry,) = bulk_entries(platform)
    volunteer_id = ids_of(entry.after["ids"]["volunteer"])[1]

    async def listed(**query) -> list[dict]:
        response = await client.get("/api/v1/audit", params=query, headers=admin.headers)
        assert response.status_code == 200, response.text
        return response.json()

    found = await listed(object_type="volunteer", object_id=str(volunteer_id))
    assert [(e["id"], e["event"], e["username"]) for e in found] == [
        (entry.id, BULK_EVENT, "importer")
    ]
    assert found[0]["after"]["ids"] == entry.after["ids"]
    assert [e["id"] for e in await listed(object_type="person")] == [entry.id]
    assert [e["id"] for e in await listed(object_type="import_batch", event=BULK_EVENT)] == [
        entry.id
    ]
    assert await listed(object_type="volunteer", object_id=str(volunteer_id + 1000)) == []
    assert await listed(object_type="volunteer", object_id="not-a-number") == []
    # the page says what the entry stands for
    await sign_in(client, admin.username, admin.password)
    page = await client.get(
        "/audit/", params={"object_type": "volunteer", "object_id": str(volunteer_id)}
    )
    assert page.status_code == 200
    first, last = entry.after["ids"]["volunteer"][0]
    assert f"import_batch {batch_id}" in page.text and "批量写入 3" in page.text
    assert f"volunteer: {first}–{last}" in page.text and entry.after["digest"][:16] in page.text
    english = await client.get("/audit/", params={"event": BULK_EVENT, "lang": "en"})
    assert "Written in bulk: 3" in english.text


def test_purging_a_bulk_entry_removes_its_index_and_keeps_the_chain(
    platform, unit_tree, worker, broker, monkeypatch
):
    retention = platform.settings.audit_retention_days
    with monkeypatch.context() as patch:
        patch.setattr(recorder, "utcnow", lambda: utcnow() - timedelta(days=retention + 1))
        import_volunteers(platform, unit_tree, roster(2))
    with transaction(platform.session_factory) as session:
        enqueue(session, "core.purge_audit")
    broker.join("core", fail_fast=True)
    with platform.session_factory() as session:
        assert bulk_entries(platform) == []
        assert session.exec(select(func.count()).select_from(AuditObjectRange)).one() == 0
        assert verify_chain(session).ok


# -- reading the trail -------------------------------------------------------------------


async def _some_history(client, admin, unit_tree) -> None:
    """Entries about the district, the other district and no unit at all."""
    await create_person(client, admin, unit_tree.township, "赵六")
    await create_person(client, admin, unit_tree.other_district, "钱七")
    bad = await client.post("/api/v1/auth/token", json={"username": "mallory", "password": "guess"})
    assert bad.status_code == 401


async def test_the_audit_api_filters_by_event_username_and_object_type(
    client, platform, unit_tree, admin
):
    await _some_history(client, admin, unit_tree)

    async def listed(**query) -> list[dict]:
        response = await client.get("/api/v1/audit", params=query, headers=admin.headers)
        assert response.status_code == 200, response.text
        return response.json()

    failed = await listed(event="login_failed")
    assert [(e["event"], e["username"], e["outcome"]) for e in failed] == [
        ("login_failed", "mallory", "denied")
    ]
    by_root = await listed(username=admin.username)
    assert by_root and {e["username"] for e in by_root} == {admin.username}
    people = await listed(object_type="person")
    assert sorted(e["after"]["name"] for e in people) == ["赵六", "钱七"]
    assert {(e["event"], e["action"]) for e in people} == {("insert", "core.person.manage")}
    none = await listed(object_type="person", username="mallory")
    assert none == []
    everything = await listed(limit=500)
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert len(everything) == len(all_entries(platform))
    assert len(await listed(limit=2)) == 2


async def test_the_audit_page_filters_too(client, platform, unit_tree, admin):
    await _some_history(client, admin, unit_tree)
    await sign_in(client, admin.username, admin.password)

    async def rows(**query) -> list[tuple[str, str]]:
        response = await client.get("/audit/", params=query)
        assert response.status_code == 200
        return re.findall(
            r'<tr class="outcome-\w+"><td>[^<]*</td><td>([^<]*)<br>.*?</td>\s*<td>(\w+)<br>',
            response.text,
            re.S,
        )

    assert await rows(event="login_failed") == [("mallory", "login_failed")]
    people = await rows(object_type="person")
    assert people == [(admin.username, "insert"), (admin.username, "insert")]
    mine = await rows(username=admin.username)
    assert mine and {username for username, _ in mine} == {admin.username}
    empty = await client.get("/audit/", params={"username": "nobody"})
    assert "没有符合条件的记录" in empty.text


async def test_an_auditor_sees_only_entries_within_their_reach(
    client, platform, unit_tree, admin, accounts
):
    await _some_history(client, admin, unit_tree)
    district_auditor = accounts("auditor", unit_tree.district)
    city_auditor = accounts("auditor", unit_tree.city)
    by_id = {entry.id: entry for entry in all_entries(platform)}

    async def visible(account, **query) -> list[AuditEntry]:
        response = await client.get(
            "/api/v1/audit", params={"limit": 500, **query}, headers=account.headers
        )
        assert response.status_code == 200
        return [by_id[e["id"]] for e in response.json() if e["id"] in by_id]

    district_view = await visible(district_auditor)
    assert district_view
    assert all(
        e.unit_path is not None and e.unit_path.startswith(unit_tree.district.path)
        for e in district_view
    )
    assert [e.after["name"] for e in district_view if e.object_type == "person"] == ["赵六"]
    assert not any(e.event == "login_failed" for e in district_view)
    expected = {
        e.id
        for e in by_id.values()
        if e.unit_path and e.unit_path.startswith(unit_tree.district.path)
    }
    assert {e.id for e in district_view} == expected

    city_view = await visible(city_auditor)
    assert {e.id for e in city_view} == set(by_id)  # everything, entries without a unit too
    assert any(e.unit_path is None for e in city_view)
    assert any(e.unit_path == unit_tree.other_district.path for e in city_view)

    export = await client.get("/api/v1/audit/export", headers=district_auditor.headers)
    exported = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))[1:]
    assert {int(row[0]) for row in exported} == expected
    nobody = accounts("district_admin", unit_tree.district)
    assert (await client.get("/api/v1/audit", headers=nobody.headers)).status_code == 403


async def test_unit_creation_entries_are_visible_to_the_city_auditor(
    client, platform, unit_tree, admin
):
    """A unit's first entry is written before it has a path: no unit, not an empty one."""
    inserts = [e for e in all_entries(platform) if e.object_type == "unit" and e.event == "insert"]
    assert len(inserts) == 7 and {e.unit_path for e in inserts} == {None}
    response = await client.get(
        "/api/v1/audit",
        params={"object_type": "unit", "event": "insert", "limit": 500},
        headers=admin.headers,
    )
    assert len(response.json()) == 7


# -- export ------------------------------------------------------------------------------


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="audit.csv"'
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_the_export_escapes_formula_cells_and_is_itself_audited(
    client, platform, unit_tree, admin
):
    formula_login = "=cmd|' /c calc'!A0"
    await client.post("/api/v1/auth/token", json={"username": formula_login, "password": "x"})
    created = await client.post(
        "/api/v1/users",
        json={
            "username": "formula",
            "display_name": '=HYPERLINK("http://x")',
            "unit_id": unit_tree.district.id,
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    person = await create_person(client, admin, unit_tree.district, "孙八")
    await client.post(
        f"/api/v1/people/{person['id']}/reveal",
        json={"fields": ["phone"], "reason": "=1+2 核实身份"},
        headers=admin.headers,
    )
    count = len(all_entries(platform))

    rows = _csv(await client.get("/api/v1/audit/export", headers=admin.headers))
    assert len(rows) == count
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_STARTS), cell
    failed = next(row for row in rows if row["event"] == "login_failed")
    assert failed["username"] == "'" + formula_login.lower()
    reveal = next(row for row in rows if row["event"] == "reveal")
    assert reveal["reason"] == "'=1+2 核实身份"
    user_insert = next(
        row
        for row in rows
        if row["object_type"] == "user_account"
        and row["event"] == "insert"
        and "formula" in row["after"]
    )
    assert json.loads(user_insert["after"])["display_name"] == '=HYPERLINK("http://x")'  # JSON

    (export,) = [e for e in all_entries(platform) if e.event == "export"]
    assert (export.username, export.action, export.object_type) == (
        admin.username,
        "core.audit.export",
        "audit_entry",
    )
    assert export.after == {"filter": {}, "rows": count}

    filtered = _csv(
        await client.get("/api/v1/audit/export", params={"event": "reveal"}, headers=admin.headers)
    )
    assert [row["event"] for row in filtered] == ["reveal"]
    latest = all_entries(platform)[-1]
    assert (latest.event, latest.after) == ("export", {"filter": {"event": "reveal"}, "rows": 1})


async def test_the_export_page_is_audited_too(client, platform, unit_tree, admin):
    await sign_in(client, admin.username, admin.password)
    rows = _csv(await client.get("/audit/export", params={"event": "login"}))
    assert [row["event"] for row in rows] == ["login"]
    latest = all_entries(platform)[-1]
    assert (latest.event, latest.username, latest.after) == (
        "export",
        admin.username,
        {"filter": {"event": "login"}, "rows": 1},
    )


# -- retention ---------------------------------------------------------------------------


def test_purge_audit_deletes_entries_past_the_retention_and_keeps_the_chain(
    platform, worker, broker, monkeypatch
):
    retention = platform.settings.audit_retention_days
    for days, label in (
        (retention + 30, "ancient"),
        (retention + 1, "old"),
        (retention - 1, "kept"),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(recorder, "utcnow", lambda days=days: utcnow() - timedelta(days=days))
            for n in range(3):
                with platform.session_factory() as session:
                    record(session, label, reason=str(n))
                    session.commit()
    with platform.session_factory() as session:
        record(session, "today")
        session.commit()
    with transaction(platform.session_factory) as session:
        purge = enqueue(session, "core.purge_audit")
    broker.join("core", fail_fast=True)
    with platform.session_factory() as session:
        job = session.get(Job, purge.id)
        assert (job.status, job.result) == (JobStatus.done, 6)
        events = session.exec(select(AuditEntry.event).order_by(AuditEntry.id)).all()
        assert events == ["kept", "kept", "kept", "today", "purge"]
        last = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.after["rows"] == 6
        report = verify_chain(session)
    assert (report.ok, report.checked) == (True, 5)


def test_purge_audit_is_scheduled_daily_and_retention_is_at_least_six_months(platform, tmp_path):
    scheduler = make_scheduler(platform)
    job = next(j for j in scheduler.get_jobs() if j.id == "core.purge_audit")
    fields = {field.name: str(field) for field in job.trigger.fields}
    assert (fields["day"], fields["day_of_week"], fields["hour"]) == ("*", "*", "3")
    with pytest.raises(ValueError, match="audit_retention_days"):
        Settings(_env_file=None, var_dir=tmp_path, audit_retention_days=90)
