"""Training: the catalogue (core's modules and plugins'), sessions, quizzes, qualifications
and their expiry, the gates (assignment, team roles, plugin roles), annual plans rolled up the
tree, statistics, reminders, and the pages."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.accounts.models import User
from core.contributions import (
    AssignmentCheck,
    Label,
    Quiz,
    QuizQuestion,
    Refusal,
    TrainingModule,
)
from core.errors import DomainError
from core.jobs.runtime import JobContext
from core.notifications.models import Notification
from core.people.models import Person
from core.plugins import flatten
from core.training import config, quizzes, sessions
from core.training.dates import LOCAL_TIME, local_today
from core.training.gates import required_for_role
from core.training.models import (
    EnrolmentChannel,
    Qualification,
    QualificationSource,
    SessionStatus,
)
from core.training.qualifications import grant, missing_modules, revoke, state_of
from core.training.records import training_hours
from core.training.reminders import send_training_reminders
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from core.volunteers.models import TeamRole
from core.volunteers.services import enroll
from tests.support.web import csrf_token, sign_in

pytestmark = [pytest.mark.anyio, pytest.mark.plugins("sample")]

CORE_MODULES = {
    "core.mission",
    "core.law",
    "core.public_order",
    "core.work_safety",
    "core.food_drug_safety",
    "core.housing_safety",
    "core.traffic_safety",
    "core.emergency_rescue",
    "core.rehabilitation_correction",
    "core.youth_psychology",
    "core.communication",
}
ETIQUETTE = "sample.notice_etiquette"
NO_QUIZ = TrainingModule(
    "core.briefing", Label("行前说明", "Briefing"), "content/mission.md", hours=1.5, valid_days=30
)


# -- helpers -------------------------------------------------------------------------------


@dataclass
class Member:
    """A volunteer made for a test, with an account when asked."""

    person_id: int
    volunteer_id: int
    number: str
    unit_id: int
    account: object | None = None


def make_volunteer(platform, unit, name: str, accounts=None, username: str | None = None):
    with platform.session_factory() as session:
        held = session.get(Unit, unit.id)
        person = Person(unit_id=held.id, unit_path=held.path, name=name)
        session.add(person)
        session.flush()
        volunteer = enroll(session, person, held)
        session.commit()
        member = Member(person.id, volunteer.id, volunteer.number, held.id)
    if accounts is not None:
        account = accounts("volunteer", unit, username=username or f"v-{member.person_id}")
        with platform.session_factory() as session:
            user = session.get(User, account.user_id)
            user.person_id = member.person_id
            session.add(user)
            session.commit()
        member.account = account
    return member


def catalogue(platform, session, unit) -> dict[str, TrainingModule]:
    return {m.code: m for m in platform.training_modules(session, unit)}


def local(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), LOCAL_TIME).astimezone(UTC)


def schedule(platform, unit, codes, *, start: datetime, hours: int = 3, capacity=30, extra=()):
    with platform.session_factory() as session:
        held = session.get(Unit, unit.id)
        modules = {**catalogue(platform, session, held), **{m.code: m for m in extra}}
        training = sessions.schedule(
            session,
            held,
            modules,
            sessions.SessionPlan(
                title="",
                department="comprehensive",
                modules=codes,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                place="社区会议室",
                capacity=capacity,
            ),
            None,
        )
        session.commit()
        return training.id


def enrol(platform, session_id: int, member: Member, channel=EnrolmentChannel.leader, now=None):
    with platform.session_factory() as session:
        from core.training.models import TrainingSession

        enrolment = sessions.enrol(
            session,
            session.get(TrainingSession, session_id),
            session.get(Person, member.person_id),
            channel=channel,
            by_user_id=None,
            now=now,
        )
        session.commit()
        return enrolment.id


def run_session(platform, session_id: int, attended: dict[int, bool], extra=()):
    """Record attendance and complete a session that has started."""
    from core.training.models import TrainingSession

    with platform.session_factory() as session:
        training = session.get(TrainingSession, session_id)
        sessions.record_attendance(session, training, attended, None)
        modules = {**platform.plugins.training_modules, **{m.code: m for m in extra}}
        granted = sessions.complete(session, training, modules, None)
        session.commit()
        return [(row.person_id, row.module_code) for row in granted]


def right_answers(quiz: Quiz, right: int) -> list[list[int]]:
    """Answers with exactly the first ``right`` questions right and the others wrong."""
    answers = []
    for index, question in enumerate(quiz.questions):
        if index < right:
            answers.append(list(question.answers))
        else:
            wrong = next(i for i in range(len(question.choices)) if i not in question.answers)
            answers.append([wrong])
    return answers


def errors(response) -> list[tuple[str, str]]:
    return [(error["field"], error["rule"]) for error in response.json()["errors"]]


@pytest.fixture
def office(accounts, unit_tree):
    return accounts("district_admin", unit_tree.district)


@pytest.fixture
def sample_on(platform, unit_tree):
    """The sample plugin on at the district, off again at its first township."""
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit_tree.district, "sample", True, changed_by="test")
        set_plugin_enabled(session, unit_tree.township, "sample", False, changed_by="test")
        session.commit()


# -- the catalogue -------------------------------------------------------------------------


def test_core_ships_the_policys_modules_with_content_and_real_quizzes(platform, unit_tree):
    with platform.session_factory() as session:
        modules = catalogue(platform, session, unit_tree.village)
    assert CORE_MODULES <= set(modules)
    folder = platform.plugins.folders("training")["core"]
    for code in CORE_MODULES:
        module = modules[code]
        assert module.quiz is not None and len(module.quiz.questions) >= 5, code
        assert module.quiz.pass_mark <= len(module.quiz.questions)
        assert module.departments and module.summary, code
        text = (folder / module.content).read_text(encoding="utf-8")
        paragraphs = [block for block in text.split("\n\n") if len(block.strip()) > 40]
        assert len(paragraphs) >= 4, code
        for question in module.quiz.questions:
            assert question.text and all(question.choices)
    # The policy's list of teaching departments is there.
    from core.training.departments import DEPARTMENTS

    assert {"police", "court", "justice", "civil_affairs", "work_safety", "food_drug"} <= set(
        DEPARTMENTS
    ) and {"construction", "emergency"} <= set(DEPARTMENTS)


async def test_plugin_module_appears_in_the_catalogue_and_disappears_where_disabled(
    client, platform, unit_tree, office, sample_on
):
    on, off = unit_tree.other_township, unit_tree.township
    listed = await client.get(f"/api/v1/units/{on.id}/training/modules", headers=office.headers)
    assert listed.status_code == 200
    codes = [module["code"] for module in listed.json()]
    assert ETIQUETTE in codes and CORE_MODULES <= set(codes)
    entry = next(module for module in listed.json() if module["code"] == ETIQUETTE)
    assert entry["owner"] == "sample" and entry["pass_mark"] == 2

    hidden = await client.get(f"/api/v1/units/{off.id}/training/modules", headers=office.headers)
    assert ETIQUETTE not in [module["code"] for module in hidden.json()]
    assert CORE_MODULES <= {module["code"] for module in hidden.json()}
    gone = await client.get(
        f"/api/v1/units/{off.id}/training/modules/{ETIQUETTE}", headers=office.headers
    )
    assert gone.status_code == 404
    shown = await client.get(
        f"/api/v1/units/{on.id}/training/modules/{ETIQUETTE}", headers=office.headers
    )
    assert shown.status_code == 200 and shown.json()["content"].startswith("# 便签礼仪")

    # A session of it cannot be scheduled where the plugin is off, and can where it is on.
    start = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = {
        "department": "comprehensive",
        "modules": [ETIQUETTE],
        "starts_at": start,
        "ends_at": (datetime.now(UTC) + timedelta(days=3, hours=2)).isoformat(),
        "place": "居委会",
        "capacity": 20,
    }
    refused = await client.post(
        f"/api/v1/units/{off.id}/training/sessions", json=body, headers=office.headers
    )
    assert refused.status_code == 400 and errors(refused) == [("modules", "unknown")]
    made = await client.post(
        f"/api/v1/units/{on.id}/training/sessions", json=body, headers=office.headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["modules"] == [ETIQUETTE] and made.json()["title"] == "便签礼仪"

    # The pages say the same.
    await sign_in(client, office.username, office.password)
    page = await client.get(f"/units/{on.id}/training/")
    assert page.status_code == 200 and "便签礼仪" in page.text
    page = await client.get(f"/units/{off.id}/training/")
    assert page.status_code == 200 and "便签礼仪" not in page.text and "应急救援知识" in page.text
    content = await client.get(f"/units/{on.id}/training/modules/{ETIQUETTE}")
    assert content.status_code == 200 and "<h2>可以张贴</h2>" in content.text
    assert (await client.get(f"/units/{off.id}/training/modules/{ETIQUETTE}")).status_code == 404


def test_a_modules_markdown_is_rendered_without_raw_html(platform, tmp_path):
    from core.training.catalogue import render_content

    (tmp_path / "x.md").write_text(
        "# 标题\n\n<script>alert(1)</script>\n\n[链接](javascript:alert(1))\n", encoding="utf-8"
    )
    html = str(render_content(tmp_path, TrainingModule("x.y", Label("甲", "A"), "x.md")))
    assert "<h1>标题</h1>" in html
    assert "<script>" not in html and 'href="javascript:' not in html
    # A template instead: rendered with the module, escaped.
    (tmp_path / "x.html").write_text("<h1>{{ module.title.zh }}</h1>", encoding="utf-8")
    module = TrainingModule("x.y", Label("<b>甲</b>", "A"), "x.html")
    assert str(render_content(tmp_path, module)) == "<h1>&lt;b&gt;甲&lt;/b&gt;</h1>"


# -- quizzes -------------------------------------------------------------------------------


def test_quiz_scoring_at_the_pass_mark_boundary():
    quiz = Quiz(
        questions=(
            QuizQuestion("一", ("甲", "乙"), (0,)),
            QuizQuestion("二", ("甲", "乙", "丙"), (0, 2)),
            QuizQuestion("三", ("甲", "乙"), (1,)),
        ),
        pass_mark=2,
    )
    assert quiz.score([[0], [0, 2], [1]]) == 3
    assert quiz.score([[0], [2, 0], [0]]) == 2 and quiz.passes(2)  # exactly the mark passes
    assert quiz.score([[0], [0], [0]]) == 1 and not quiz.passes(1)  # half a multiple is wrong
    assert quiz.score([[0], [0, 1, 2], [0]]) == 1  # one choice too many is wrong too
    with pytest.raises(ValueError):
        quiz.score([[0], [0]])  # one answer per question
    with pytest.raises(ValueError):
        Quiz(questions=quiz.questions, pass_mark=4)
    with pytest.raises(ValueError):
        QuizQuestion("四", ("甲", "乙"), (2,))


async def test_quiz_taken_through_the_api_passes_at_the_mark_and_fails_one_below(
    client, platform, unit_tree, accounts
):
    passing = make_volunteer(platform, unit_tree.village, "刚好及格", accounts)
    failing = make_volunteer(platform, unit_tree.village, "差一题", accounts)
    started = datetime.now(UTC) - timedelta(hours=1)
    session_id = schedule(platform, unit_tree.township, ["core.law"], start=started)
    ids = {m.person_id: enrol(platform, session_id, m) for m in (passing, failing)}
    run_session(platform, session_id, {ids[passing.person_id]: True, ids[failing.person_id]: True})
    quiz = platform.plugins.training_modules["core.law"].quiz

    def url(member):
        return f"/api/v1/training/me/enrolments/{ids[member.person_id]}/quiz/core.law"

    shown = await client.get(url(passing), headers=passing.account.headers)
    assert shown.status_code == 200
    assert shown.json()["pass_mark"] == quiz.pass_mark and "answers" not in shown.text
    assert [q["multiple"] for q in shown.json()["questions"]] == [
        q.multiple for q in quiz.questions
    ]

    below = await client.post(
        url(failing),
        json={"answers": right_answers(quiz, quiz.pass_mark - 1)},
        headers=failing.account.headers,
    )
    assert below.status_code == 200, below.text
    assert below.json() | {"granted": None} == {
        "score": quiz.pass_mark - 1,
        "total": len(quiz.questions),
        "pass_mark": quiz.pass_mark,
        "passed": False,
        "attempts_left": quiz.max_attempts - 1,
        "granted": None,
    }
    at_mark = await client.post(
        url(passing),
        json={"answers": right_answers(quiz, quiz.pass_mark)},
        headers=passing.account.headers,
    )
    assert at_mark.json()["passed"] is True and at_mark.json()["score"] == quiz.pass_mark
    [granted] = at_mark.json()["granted"]
    assert (granted["module_code"], granted["source"], granted["state"]) == (
        "core.law",
        "session",
        "valid",
    )
    assert granted["expires_at"] == (local_today() + timedelta(days=1095)).isoformat()
    with platform.session_factory() as session:
        assert missing_modules(session, passing.person_id, ["core.law"], local_today()) == []
        assert missing_modules(session, failing.person_id, ["core.law"], local_today()) == [
            "core.law"
        ]

    again = await client.post(
        url(passing), json={"answers": right_answers(quiz, 6)}, headers=passing.account.headers
    )
    assert again.status_code == 409 and errors(again) == [("code", "passed")]
    bad = await client.post(url(failing), json={"answers": [[0]]}, headers=failing.account.headers)
    assert bad.status_code == 400 and errors(bad) == [("answers", "count")]
    someone_elses = await client.get(url(passing), headers=failing.account.headers)
    assert someone_elses.status_code == 404
    for _ in range(quiz.max_attempts - 1):
        await client.post(
            url(failing), json={"answers": right_answers(quiz, 0)}, headers=failing.account.headers
        )
    spent = await client.post(
        url(failing), json={"answers": right_answers(quiz, 6)}, headers=failing.account.headers
    )
    assert spent.status_code == 409 and errors(spent) == [("code", "attempts")]


def test_passing_before_completion_grants_at_completion(platform, unit_tree):
    member = make_volunteer(platform, unit_tree.village, "先考后结业")
    start = datetime.now(UTC) - timedelta(hours=2)
    session_id = schedule(platform, unit_tree.village, ["core.mission"], start=start)
    enrolment_id = enrol(platform, session_id, member)
    from core.training.models import TrainingEnrolment, TrainingSession

    module = platform.plugins.training_modules["core.mission"]
    with platform.session_factory() as session:
        result = quizzes.take(
            session,
            session.get(TrainingSession, session_id),
            session.get(TrainingEnrolment, enrolment_id),
            module,
            module.code,
            right_answers(module.quiz, 6),
            platform.plugins.training_modules,
        )
        session.commit()
        assert result.attempt.passed and result.granted == []  # not completed yet
    assert run_session(platform, session_id, {enrolment_id: True}) == [
        (member.person_id, "core.mission")
    ]


# -- qualifications and expiry -------------------------------------------------------------


def test_a_qualification_counts_until_the_day_before_it_expires(platform, unit_tree):
    member = make_volunteer(platform, unit_tree.village, "到期")
    module = platform.plugins.training_modules["core.emergency_rescue"]
    granted_on = date(2024, 3, 1)
    with platform.session_factory() as session:
        row = grant(
            session,
            session.get(Person, member.person_id),
            module,
            granted_on=granted_on,
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        session.commit()
        expires = granted_on + timedelta(days=module.valid_days)
        assert row.expires_at == expires
        code = [module.code]
        assert missing_modules(session, member.person_id, code, granted_on - timedelta(1)) == code
        assert missing_modules(session, member.person_id, code, granted_on) == []
        assert missing_modules(session, member.person_id, code, expires - timedelta(1)) == []
        assert missing_modules(session, member.person_id, code, expires) == code
        assert state_of(row, expires - timedelta(days=31)) == "valid"
        assert state_of(row, expires - timedelta(days=30)) == "expiring"
        assert state_of(row, expires) == "expired"
        assert state_of(row, granted_on - timedelta(days=1)) == "pending"
        revoke(session, row, "证明材料不实", None)
        session.commit()
        assert missing_modules(session, member.person_id, code, granted_on) == code
        assert state_of(row, granted_on) == "revoked"


def test_missing_modules_keeps_the_order_given_and_names_each_once(platform, unit_tree):
    member = make_volunteer(platform, unit_tree.village, "顺序")
    with platform.session_factory() as session:
        grant(
            session,
            session.get(Person, member.person_id),
            platform.plugins.training_modules["core.law"],
            granted_on=local_today(),
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        session.commit()
        wanted = ["core.youth_psychology", "core.law", "core.mission", "core.youth_psychology"]
        assert missing_modules(session, member.person_id, wanted, local_today()) == [
            "core.youth_psychology",
            "core.mission",
        ]
        assert missing_modules(session, member.person_id, [], local_today()) == []


# -- the gates -----------------------------------------------------------------------------


def check_for(member: Member, unit, required, starts_at=None) -> AssignmentCheck:
    starts_at = starts_at or datetime.now(UTC) + timedelta(days=1)
    return AssignmentCheck(
        volunteer_id=member.volunteer_id,
        person_id=member.person_id,
        home_unit_id=member.unit_id,
        unit_id=unit.id,
        task_type="core.patrol",
        risky=False,
        required_modules=tuple(required),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=4),
    )


def test_training_gate_refuses_an_assignment_naming_each_missing_module(
    platform, unit_tree, sample_on
):
    member = make_volunteer(platform, unit_tree.other_village, "巡逻队员")
    unit = unit_tree.other_township  # sample is on here
    required = ["core.public_order", ETIQUETTE]
    with platform.session_factory() as session:
        hooks = platform.unit_hooks(session, session.get(Unit, unit.id))
        refusals = flatten(
            hooks.check_assignment(check=check_for(member, unit, required), session=session)
        )
    assert refusals == [
        Refusal(
            "training.missing_module",
            Label(
                "缺少培训：社会治安综合治理相关政策规定",
                "Missing training: Comprehensive public-order policy",
            ),
        ),
        Refusal(
            "training.missing_module",
            Label("缺少培训：便签礼仪", "Missing training: Notice etiquette"),
        ),
    ]
    assert all(refusal.blocking for refusal in refusals)
    with platform.session_factory() as session:  # the whole manager: core's gate answers too
        everyone = flatten(
            platform.plugins.pm.hook.check_assignment(
                check=check_for(member, unit, required), session=session
            )
        )
    assert everyone == refusals
    with platform.session_factory() as session:
        grant(
            session,
            session.get(Person, member.person_id),
            platform.plugins.training_modules["core.public_order"],
            granted_on=local_today(),
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        session.commit()
        hooks = platform.unit_hooks(session, session.get(Unit, unit.id))
        left = flatten(
            hooks.check_assignment(check=check_for(member, unit, required), session=session)
        )
        assert [refusal.message.zh for refusal in left] == ["缺少培训：便签礼仪"]
        assert (
            flatten(
                hooks.check_assignment(
                    check=check_for(member, unit, ["core.public_order"]), session=session
                )
            )
            == []
        )


def test_training_gate_counts_the_shifts_day_in_china(platform, unit_tree):
    member = make_volunteer(platform, unit_tree.village, "早班")
    module = platform.plugins.training_modules["core.traffic_safety"]
    granted_on = local_today() - timedelta(days=module.valid_days - 1)  # expires tomorrow
    with platform.session_factory() as session:
        grant(
            session,
            session.get(Person, member.person_id),
            module,
            granted_on=granted_on,
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        session.commit()
        tomorrow = local_today() + timedelta(days=1)
        early = local(tomorrow, 7)  # 23:00 UTC today: still "today" in UTC
        assert early.date() < tomorrow
        hooks = platform.unit_hooks(session, session.get(Unit, unit_tree.village.id))
        refused = flatten(
            hooks.check_assignment(
                check=check_for(member, unit_tree.village, [module.code], early), session=session
            )
        )
        assert [r.message.en for r in refused] == ["Missing training: Traffic safety"]


async def test_training_gate_refuses_a_captain_without_the_roles_modules(
    client, platform, unit_tree, office
):
    member = make_volunteer(platform, unit_tree.village, "准队长")
    village = unit_tree.village
    today = local_today()
    later = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/training/requirements",
        json={
            "role": "captain",
            "modules": ["core.law"],
            "valid_from": (today + timedelta(30)).isoformat(),
        },
        headers=office.headers,
    )
    assert later.status_code == 201, later.text
    appoint = {"unit_id": village.id, "role": "captain", "since": today.isoformat()}
    # Not in force yet: the appointment today needs nothing.
    with platform.session_factory() as session:
        modules = platform.training_modules(session, session.get(Unit, village.id))
        assert (
            required_for_role(session, modules, session.get(Unit, village.id), "captain", today)
            == []
        )
    now_too = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/training/requirements",
        json={
            "role": "captain",
            "modules": ["core.mission", "core.communication"],
            "valid_from": today.isoformat(),
        },
        headers=office.headers,
    )
    assert now_too.status_code == 201
    # The township adds one more; the district's still count below it.
    township = await client.post(
        f"/api/v1/units/{unit_tree.township.id}/training/requirements",
        json={"role": "captain", "modules": ["core.public_order"], "valid_from": today.isoformat()},
        headers=office.headers,
    )
    assert township.status_code == 201
    [captain] = [row for row in township.json() if row["role"] == "captain"]
    assert captain["modules"] == ["core.mission", "core.communication", "core.public_order"]

    # Nesting first: the village captain must be a township member.
    joined = await client.post(
        f"/api/v1/volunteers/{member.volunteer_id}/memberships",
        json={"unit_id": unit_tree.township.id, "role": "member", "since": today.isoformat()},
        headers=office.headers,
    )
    assert joined.status_code == 201, joined.text
    refused = await client.post(
        f"/api/v1/volunteers/{member.volunteer_id}/memberships",
        json=appoint,
        headers=office.headers,
    )
    assert refused.status_code == 400
    assert errors(refused) == [("role", "training")]
    message = refused.json()["errors"][0]["message"]
    assert message == "缺少培训：" + "、".join(
        [
            "平安建设志愿服务的宗旨、信念、目标与任务",
            "社会交流沟通知识",
            "社会治安综合治理相关政策规定",
        ]
    )
    vice = await client.post(
        f"/api/v1/volunteers/{member.volunteer_id}/memberships",
        json={**appoint, "role": "vice_captain"},
        headers=office.headers,
    )
    assert vice.status_code == 201  # only the captain was configured
    with platform.session_factory() as session:
        person = session.get(Person, member.person_id)
        for code in ("core.mission", "core.communication", "core.public_order"):
            grant(
                session,
                person,
                platform.plugins.training_modules[code],
                granted_on=today,
                source=QualificationSource.manual,
                granted_by_id=None,
            )
        session.commit()
    appointed = await client.post(
        f"/api/v1/volunteers/{member.volunteer_id}/memberships",
        json=appoint,
        headers=office.headers,
    )
    assert appointed.status_code == 201, appointed.text
    assert appointed.json()["role"] == TeamRole.captain


def test_training_gate_a_plugins_role_requires_its_modules_where_the_plugin_is_on(
    platform, unit_tree, sample_on
):
    """The path the mediation plugin takes for its mediators, with the sample's editors."""
    member = make_volunteer(platform, unit_tree.other_village, "便签编辑")
    today = local_today()
    with platform.session_factory() as session:
        on = session.get(Unit, unit_tree.other_village.id)
        off = session.get(Unit, unit_tree.village.id)
        codes = required_for_role(
            session, platform.training_modules(session, on), on, "sample.editor", today
        )
        assert codes == [ETIQUETTE]
        assert missing_modules(session, member.person_id, codes, today) == [ETIQUETTE]
        assert (
            required_for_role(
                session, platform.training_modules(session, off), off, "sample.editor", today
            )
            == []
        )


# -- sessions ------------------------------------------------------------------------------


def test_enrolment_rules(platform, unit_tree):
    first = make_volunteer(platform, unit_tree.village, "甲")
    second = make_volunteer(platform, unit_tree.village, "乙")
    elsewhere = make_volunteer(platform, unit_tree.other_village, "丙")
    start = datetime.now(UTC) + timedelta(days=2)
    session_id = schedule(platform, unit_tree.township, ["core.law"], start=start, capacity=1)
    enrol(platform, session_id, first, EnrolmentChannel.self)

    def refused(member, channel=EnrolmentChannel.self, now=None):
        with pytest.raises(DomainError) as caught:
            enrol(platform, session_id, member, channel, now)
        return caught.value.status, [(e.field, e.rule) for e in caught.value.errors]

    assert refused(first) == (409, [("person_id", "unique")])
    assert refused(second) == (409, [("session_id", "full")])
    assert refused(elsewhere) == (400, [("person_id", "not_open")])  # another township
    assert refused(second, now=start + timedelta(minutes=1)) == (409, [("session_id", "started")])
    # The district's session is open to everyone in the district.
    district_session = schedule(platform, unit_tree.district, ["core.law"], start=start)
    for member in (first, second, elsewhere):
        enrol(platform, district_session, member)
    from core.training.models import TrainingEnrolment, TrainingSession

    with platform.session_factory() as session:
        training = session.get(TrainingSession, session_id)
        enrolment = session.exec(
            select(TrainingEnrolment).where(TrainingEnrolment.session_id == session_id)
        ).one()
        sessions.cancel_enrolment(session, training, enrolment, by_self=True)
        session.commit()
    enrol(platform, session_id, second)  # the place is free again
    with platform.session_factory() as session:
        training = session.get(TrainingSession, session_id)
        with pytest.raises(DomainError) as early:
            sessions.record_attendance(session, training, {1: True}, None)
        assert early.value.errors[0].rule == "not_started"
        sessions.cancel(session, training, "场地不可用", None)
        session.commit()
        assert training.status == SessionStatus.cancelled
    assert refused(first, EnrolmentChannel.leader) == (409, [("session_id", "cancelled")])


def test_completion_needs_attendance_and_grants_quizless_modules_to_attendants(platform, unit_tree):
    present = make_volunteer(platform, unit_tree.village, "出勤")
    absent = make_volunteer(platform, unit_tree.village, "缺勤")
    start = datetime.now(UTC) - timedelta(hours=1)
    session_id = schedule(
        platform, unit_tree.village, ["core.briefing", "core.law"], start=start, extra=[NO_QUIZ]
    )
    here, away = enrol(platform, session_id, present), enrol(platform, session_id, absent)
    from core.training.models import TrainingSession

    with platform.session_factory() as session:
        with pytest.raises(DomainError) as missing:
            sessions.complete(session, session.get(TrainingSession, session_id), {}, None)
        assert (missing.value.status, missing.value.errors[0].rule) == (409, "attendance_missing")
    granted = run_session(platform, session_id, {here: True, away: False}, extra=[NO_QUIZ])
    assert granted == [(present.person_id, "core.briefing")]  # core.law waits for its quiz
    with platform.session_factory() as session:
        row = session.exec(
            select(Qualification).where(Qualification.person_id == present.person_id)
        ).one()
        assert row.session_id == session_id and row.source == QualificationSource.session
        assert row.expires_at == row.granted_on + timedelta(days=30)


def test_training_hours_sum_the_attended_modules_in_the_period(platform, unit_tree):
    member = make_volunteer(platform, unit_tree.village, "学时")
    day = date(2024, 5, 20)
    both = schedule(
        platform, unit_tree.village, ["core.law", "core.food_drug_safety"], start=local(day)
    )
    skipped = schedule(
        platform, unit_tree.village, ["core.mission"], start=local(day + timedelta(1))
    )
    later = schedule(
        platform, unit_tree.village, ["core.communication"], start=local(date(2024, 7, 1), 7)
    )
    ids = {s: enrol(platform, s, member) for s in (both, skipped, later)}
    run_session(platform, both, {ids[both]: True})
    run_session(platform, skipped, {ids[skipped]: False})
    run_session(platform, later, {ids[later]: True})
    with platform.session_factory() as session:
        assert training_hours(session, member.person_id, day, day) == Decimal("4.50")
        assert training_hours(
            session, member.person_id, date(2024, 1, 1), date(2024, 12, 31)
        ) == Decimal("6.00")
        # 07:00 on 1 July in Chongqing is still 30 June in UTC: the local day counts.
        assert training_hours(
            session, member.person_id, date(2024, 7, 1), date(2024, 7, 1)
        ) == Decimal("1.50")
        assert training_hours(
            session, member.person_id, date(2024, 6, 30), date(2024, 6, 30)
        ) == Decimal("0.00")


# -- plans and statistics ------------------------------------------------------------------


def independent_figures(platform, unit, year: int) -> dict[tuple[str, str | None], Decimal]:
    """The plan's metrics counted by walking every raw row in Python, not by the service."""
    with platform.engine.connect() as connection:
        trainings = {
            row.id: row for row in connection.execute(sa.text("SELECT * FROM training_session"))
        }
        modules = [
            tuple(row)
            for row in connection.execute(
                sa.text("SELECT session_id, module_code, minutes FROM training_session_module")
            )
        ]
        enrolments = list(connection.execute(sa.text("SELECT * FROM training_enrolment")))
        held = list(connection.execute(sa.text("SELECT * FROM training_qualification")))

    def moment(value):
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def in_year(training):
        return moment(training.starts_at).astimezone(LOCAL_TIME).year == year

    def completed(training):
        return training.status == "completed" and in_year(training)

    figures: dict[tuple[str, str | None], Decimal] = {}
    for module in (None, "core.law"):
        taught = {sid for sid, code, _ in modules if module in (None, code)}
        figures[("sessions", module)] = Decimal(
            sum(
                1
                for t in trainings.values()
                if completed(t) and t.unit_path.startswith(unit.path) and t.id in taught
            )
        )
        attended = [
            e
            for e in enrolments
            if e.status == "enrolled"
            and e.attended
            and e.unit_path.startswith(unit.path)
            and completed(trainings[e.session_id])
            and e.session_id in taught
        ]
        figures[("trainees", module)] = Decimal(len({e.person_id for e in attended}))
        minutes = sum(
            m
            for e in attended
            for sid, code, m in modules
            if sid == e.session_id and module in (None, code)
        )
        figures[("hours", module)] = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
        figures[("qualified", module)] = Decimal(
            sum(
                1
                for q in held
                if q.unit_path.startswith(unit.path)
                and q.revoked_at is None
                and date.fromisoformat(str(q.granted_on)).year == year
                and module in (None, q.module_code)
            )
        )
    return figures


async def test_plan_progress_equals_an_independent_count(client, platform, unit_tree, office):
    year = local_today().year - 1
    tree = unit_tree
    a = make_volunteer(platform, tree.village, "甲")
    b = make_volunteer(platform, tree.village, "乙")
    c = make_volunteer(platform, tree.other_village, "丙")
    d = make_volunteer(platform, tree.other_district, "丁")
    e = make_volunteer(platform, tree.township, "戊")
    law = platform.plugins.training_modules["core.law"]

    def held(start, unit, codes, people, attended, passed=()):
        session_id = schedule(platform, unit, codes, start=start)
        ids = {m.person_id: enrol(platform, session_id, m) for m in people}
        run_session(platform, session_id, {ids[m.person_id]: m in attended for m in people})
        from core.training.models import TrainingEnrolment, TrainingSession

        with platform.session_factory() as session:
            for member in passed:
                quizzes.take(
                    session,
                    session.get(TrainingSession, session_id),
                    session.get(TrainingEnrolment, ids[member.person_id]),
                    law,
                    law.code,
                    right_answers(law.quiz, 6),
                    platform.plugins.training_modules,
                )
            session.commit()
        return session_id

    held(
        local(date(year, 3, 2)),
        tree.district,
        ["core.law", "core.mission"],
        [a, c, e],
        [a, c],
        [a, c],
    )
    held(local(date(year, 4, 9)), tree.township, ["core.law"], [a, b], [a, b], [b])
    held(local(date(year, 5, 1)), tree.other_township, ["core.emergency_rescue"], [c], [c])
    held(local(date(year, 6, 1)), tree.other_district, ["core.law"], [d], [d], [d])
    # At the turn of the year the local day decides: 23:00 on 31 December is the year before,
    # 07:00 on 1 January (still 31 December in UTC) is this year.
    held(local(date(year - 1, 12, 31), 23), tree.township, ["core.law"], [b], [b])
    held(local(date(year, 1, 1), 7), tree.township, ["core.mission"], [e], [e])
    cancelled = schedule(platform, tree.district, ["core.law"], start=local(date(year, 7, 1)))
    with platform.session_factory() as session:
        from core.training.models import TrainingSession

        sessions.cancel(session, session.get(TrainingSession, cancelled), "暴雨", None)
        person = session.get(Person, e.person_id)
        manual = grant(
            session,
            person,
            law,
            granted_on=date(year, 8, 8),
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        revoked = grant(
            session,
            session.get(Person, b.person_id),
            platform.plugins.training_modules["core.mission"],
            granted_on=date(year, 8, 9),
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        revoke(session, revoked, "重复认定", None)
        assert manual.id
        session.commit()

    targets = [
        {"metric": metric, "module_code": module, "target": 3}
        for metric in ("sessions", "trainees", "qualified", "hours")
        for module in (None, "core.law")
    ]
    for unit in (tree.district, tree.township):
        saved = await client.put(
            f"/api/v1/units/{unit.id}/training/plan",
            params={"year": year},
            json={"targets": targets, "note": "全年培训"},
            headers=office.headers,
        )
        assert saved.status_code == 200, saved.text
    plan = (
        await client.get(
            f"/api/v1/units/{tree.district.id}/training/plan",
            params={"year": year},
            headers=office.headers,
        )
    ).json()
    expected = independent_figures(platform, tree.district, year)
    got = {(t["metric"], t["module_code"]): Decimal(str(t["actual"])) for t in plan["targets"]}
    assert got == expected
    assert expected[("sessions", None)] == 4 and expected[("trainees", "core.law")] == 3
    assert expected[("qualified", "core.law")] == 4  # a, c, b by quiz and e by hand
    for child in plan["children"]:
        unit = next(u for u in (tree.township, tree.other_township) if u.id == child["unit_id"])
        mine = independent_figures(platform, unit, year)
        assert {
            (t["metric"], t["module_code"]): Decimal(str(t["actual"])) for t in child["targets"]
        } == mine, unit.name
        assert child["has_plan"] == (unit.id == tree.township.id)
    target = next(
        t for t in plan["targets"] if (t["metric"], t["module_code"]) == ("sessions", None)
    )
    assert target["children_target"] == 3 and target["percent"] == 133.3 and target["met"]

    # The statistics read the same figures.
    stats = (
        await client.get(
            f"/api/v1/units/{tree.district.id}/training/statistics",
            params={"year": year},
            headers=office.headers,
        )
    ).json()
    whole = stats["units"][0]
    assert (whole["unit_id"], whole["trainees"], whole["qualified"]) == (
        tree.district.id,
        int(expected[("trainees", None)]),
        int(expected[("qualified", None)]),
    )
    assert Decimal(str(whole["hours"])) == expected[("hours", None)]
    assert whole["volunteers"] == 4  # a, b, c, e: the other district's d is not here
    law_row = next(m for m in stats["modules"] if m["code"] == "core.law")
    assert (law_row["sessions"], law_row["trainees"], law_row["qualified"]) == (
        int(expected[("sessions", "core.law")]),
        int(expected[("trainees", "core.law")]),
        int(expected[("qualified", "core.law")]),
    )

    bad = await client.put(
        f"/api/v1/units/{tree.district.id}/training/plan",
        json={"targets": [{"metric": "smiles", "target": 1}]},
        headers=office.headers,
    )
    assert bad.status_code == 400 and errors(bad) == [("targets[0].metric", "choice")]


# -- grants by hand, imports, revocation ---------------------------------------------------


async def test_manual_grant_import_and_revocation(client, platform, unit_tree, office, accounts):
    member = make_volunteer(platform, unit_tree.village, "补录")
    other = make_volunteer(platform, unit_tree.other_district, "外区")
    base = f"/api/v1/units/{unit_tree.district.id}/training/qualifications"
    granted = await client.post(
        base,
        json={"person_id": member.person_id, "module_code": "core.law", "reason": "司法局培训证明"},
        headers=office.headers,
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["source"] == "manual" and granted.json()["note"] == "司法局培训证明"
    outside = await client.post(
        base,
        json={"person_id": other.person_id, "module_code": "core.law", "reason": "越权"},
        headers=office.headers,
    )
    assert outside.status_code == 404

    rows = [
        {
            "volunteer_number": member.number,
            "module_code": "core.mission",
            "granted_on": "2023-05-01",
        },
        {
            "volunteer_number": other.number,
            "module_code": "core.mission",
            "granted_on": "2023-05-01",
        },
        {
            "volunteer_number": member.number,
            "module_code": "no.such",
            "granted_on": "2023-05-01",
            "expires_at": "2023-04-01",
        },
    ]
    refused = await client.post(
        base + "/import", json={"rows": rows, "reason": "纸质台账"}, headers=office.headers
    )
    assert refused.status_code == 400
    assert errors(refused) == [
        ("rows[1].volunteer_number", "unknown"),
        ("rows[2].module_code", "unknown"),
        ("rows[2].expires_at", "after_granted"),
    ]
    imported = await client.post(
        base + "/import", json={"rows": rows[:1], "reason": "纸质台账"}, headers=office.headers
    )
    assert imported.status_code == 201 and imported.json() == {"imported": 1}
    listed = await client.get(base, headers=office.headers)
    assert sorted((q["module_code"], q["source"]) for q in listed.json()) == [
        ("core.law", "manual"),
        ("core.mission", "import"),
    ]

    leader = accounts("village_leader", unit_tree.village)
    forbidden = await client.post(
        f"/api/v1/training/qualifications/{granted.json()['id']}/revocation",
        json={"reason": "无权"},
        headers=leader.headers,
    )
    assert forbidden.status_code == 403
    revoked = await client.post(
        f"/api/v1/training/qualifications/{granted.json()['id']}/revocation",
        json={"reason": "证明系伪造"},
        headers=office.headers,
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    twice = await client.post(
        f"/api/v1/training/qualifications/{granted.json()['id']}/revocation",
        json={"reason": "证明系伪造"},
        headers=office.headers,
    )
    assert twice.status_code == 409
    record = await client.get(f"/api/v1/people/{member.person_id}/training", headers=office.headers)
    assert record.status_code == 200
    assert {q["module_code"]: q["state"] for q in record.json()["qualifications"]} == {
        "core.law": "revoked",
        "core.mission": "valid",
    }
    far = accounts("district_admin", unit_tree.other_district)
    assert (
        await client.get(f"/api/v1/people/{member.person_id}/training", headers=far.headers)
    ).status_code == 404


# -- reminders -----------------------------------------------------------------------------


def test_reminders_tell_about_expiry_and_tomorrows_session_once(platform, unit_tree, accounts):
    soon = make_volunteer(platform, unit_tree.village, "快到期", accounts)
    later = make_volunteer(platform, unit_tree.other_village, "晚到期", accounts)
    renewed = make_volunteer(platform, unit_tree.village, "已续期", accounts)
    today = local_today()
    module = platform.plugins.training_modules["core.law"]

    def held(member, expires_in, granted_days_ago=1):
        with platform.session_factory() as session:
            grant(
                session,
                session.get(Person, member.person_id),
                module,
                granted_on=today - timedelta(days=granted_days_ago),
                source=QualificationSource.manual,
                granted_by_id=None,
                expires_at=today + timedelta(days=expires_in),
            )
            session.commit()

    held(soon, 10)
    held(later, 40)
    held(renewed, 5)
    held(renewed, 700)
    tomorrow = schedule(
        platform, unit_tree.township, ["core.mission"], start=local(today + timedelta(1), 14)
    )
    enrol(platform, tomorrow, soon)
    context = JobContext(None, platform.session_factory, platform.settings, platform.plugins)

    def inbox(member):
        with platform.session_factory() as session:
            return sorted(
                n.subject
                for n in session.exec(
                    select(Notification).where(Notification.user_id == member.account.user_id)
                )
            )

    assert send_training_reminders(context=context) == 2
    assert inbox(soon) == [
        "培训资格即将到期：平安建设志愿服务涉及的相关法律",
        "明天培训：平安建设志愿服务的宗旨、信念、目标与任务",
    ]
    assert inbox(later) == [] and inbox(renewed) == []
    assert send_training_reminders(context=context) == 0  # idempotent
    # The other township gives 45 days' notice from today: its volunteer is told now.
    with platform.session_factory() as session:
        config.set_value(
            session,
            session.get(Unit, unit_tree.other_township.id),
            config.EXPIRY_DAYS,
            {"days": 45},
            today,
            None,
        )
        session.commit()
    assert send_training_reminders(context=context) == 1
    assert inbox(later) == ["培训资格即将到期：平安建设志愿服务涉及的相关法律"]


def test_reminders_are_scheduled_daily(platform):
    assert any(s.job == "core.training_reminders" and s.cron for s in platform.plugins.schedules)
    assert "core.training_reminders" in platform.jobs.actors


# -- the volunteer's own pages and API -----------------------------------------------------


async def test_a_volunteer_enrols_and_cancels_on_their_own_page(
    client, platform, unit_tree, accounts
):
    member = make_volunteer(
        platform, unit_tree.village, "自助报名", accounts, username="self-service"
    )
    start = datetime.now(UTC) + timedelta(days=5)
    open_id = schedule(platform, unit_tree.township, ["core.youth_psychology"], start=start)
    closed = schedule(platform, unit_tree.other_township, ["core.law"], start=start)
    mine = await client.get("/api/v1/training/me", headers=member.account.headers)
    assert mine.status_code == 200
    assert [s["id"] for s in mine.json()["open_sessions"]] == [open_id]
    assert closed not in [s["id"] for s in mine.json()["open_sessions"]]

    await sign_in(client, "self-service", member.account.password)
    page = await client.get("/training/my/")
    assert page.status_code == 200 and "青少年心理知识" in page.text
    enrolled = await client.post(
        "/training/my/enrolments",
        data={"session_id": str(open_id), "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert enrolled.status_code in (302, 303)
    page = await client.get("/training/my/")
    assert re.search(r'id="enrolments".*青少年心理知识', page.text, flags=re.DOTALL)
    refused = await client.post(
        "/training/my/enrolments",
        data={"session_id": str(closed), "_csrf_token": csrf_token(page.text)},
    )
    assert refused.status_code == 400 and "只面向举办单位" in refused.text
    record = (await client.get("/api/v1/training/me", headers=member.account.headers)).json()
    [enrolment] = record["enrolments"]
    cancelled = await client.post(
        f"/api/v1/training/me/enrolments/{enrolment['id']}/cancellation",
        headers=member.account.headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["enrolled"] == 0
    # A quiz opens when the session starts.
    early = await client.get(
        f"/api/v1/training/me/enrolments/{enrolment['id']}/quiz/core.youth_psychology",
        headers=member.account.headers,
    )
    assert early.status_code == 409


async def test_staff_without_a_volunteer_record_see_an_empty_training_page(client, office):
    await sign_in(client, office.username, office.password)
    page = await client.get("/training/my/")
    assert page.status_code == 200 and "未关联志愿者档案" in page.text
    api = await client.get("/api/v1/training/me", headers=office.headers)
    assert api.status_code == 404 and set(api.json()) == {"status", "code", "message", "errors"}


# -- the unit pages ------------------------------------------------------------------------


async def test_unit_pages_run_a_session_in_chinese_and_english(client, platform, unit_tree, office):
    member = make_volunteer(platform, unit_tree.village, "页面学员")
    await sign_in(client, office.username, office.password)
    base = f"/units/{unit_tree.township.id}/training"
    calendar = await client.get(base + "/sessions")
    assert calendar.status_code == 200 and "安排培训场次" in calendar.text
    start = datetime.now(LOCAL_TIME) - timedelta(hours=1)
    made = await client.post(
        base + "/sessions",
        data={
            "_csrf_token": csrf_token(calendar.text),
            "title": "",
            "department": "police",
            "module.core.law": "1",
            "module.core.traffic_safety": "1",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "place": "派出所会议室",
            "capacity": "40",
        },
        follow_redirects=False,
    )
    assert made.status_code in (302, 303), made.text[:2000]
    detail_url = made.headers["location"]
    calendar = await client.get(base + "/sessions?show=past")
    enrolled = await client.post(
        f"/units/{unit_tree.village.id}/training/enrolments",
        data={
            "_csrf_token": csrf_token(calendar.text),
            "session_id": detail_url.rsplit("/", 1)[-1],
            "volunteer_number": member.number,
        },
        follow_redirects=False,
    )
    assert enrolled.status_code in (302, 303), enrolled.text[:2000]
    detail = await client.get(detail_url)
    assert detail.status_code == 200 and "页面学员" in detail.text
    enrolment = re.search(r'name="enrolment\.(\d+)"', detail.text).group(1)
    marked = await client.post(
        detail_url + "/attendance",
        data={
            "_csrf_token": csrf_token(detail.text),
            f"enrolment.{enrolment}": "1",
            f"attended.{enrolment}": "1",
        },
        follow_redirects=False,
    )
    assert marked.status_code in (302, 303)
    done = await client.post(
        detail_url + "/completion",
        data={"_csrf_token": csrf_token(detail.text)},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303)
    detail = await client.get(detail_url)
    assert "已结业" in detail.text

    wrong = await client.post(
        base + "/sessions",
        data={
            "_csrf_token": csrf_token(calendar.text),
            "department": "comprehensive",
            "module.core.mission": "1",
            "starts_at": "2030-01-01T09:00",
            "ends_at": "2030-01-01T08:00",
            "place": "x",
            "capacity": "5",
        },
    )
    assert wrong.status_code == 400 and 'role="alert"' in wrong.text
    assert "结束时间须晚于开始时间" in wrong.text

    for path in (
        "/",
        "/sessions",
        "/qualifications",
        "/plan",
        "/statistics",
        "/requirements",
        "/modules/core.law",
    ):
        chinese = await client.get(base + path)
        english = await client.get(base + path + "?lang=en")
        assert chinese.status_code == english.status_code == 200, path
        assert '<html lang="en">' in english.text
    assert "Annual plan" in (await client.get(base + "/plan?lang=en")).text
    assert "Qualifications" in (await client.get(base + "/qualifications?lang=en")).text
    assert "Completed" in (await client.get(detail_url + "?lang=en")).text


async def test_training_routes_are_scoped_to_the_callers_subtree(
    client, platform, unit_tree, accounts
):
    leader = accounts("village_leader", unit_tree.village)
    start = datetime.now(UTC) + timedelta(days=1)
    inside = schedule(platform, unit_tree.village, ["core.law"], start=start)
    sibling = schedule(platform, unit_tree.other_village, ["core.law"], start=start)
    assert (
        await client.get(f"/api/v1/training/sessions/{inside}", headers=leader.headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/training/sessions/{sibling}", headers=leader.headers)
    ).status_code == 404
    # A village leader enrols but does not run sessions.
    attendance = await client.post(
        f"/api/v1/training/sessions/{inside}/completion", headers=leader.headers
    )
    assert attendance.status_code == 403
    made = await client.post(
        f"/api/v1/units/{unit_tree.village.id}/training/sessions", json={}, headers=leader.headers
    )
    assert made.status_code == 403
    volunteer = accounts("volunteer", unit_tree.village)
    assert (
        await client.get(
            f"/api/v1/units/{unit_tree.village.id}/training/modules", headers=volunteer.headers
        )
    ).status_code == 403
