"""The demo organisation: a living 渝中区 with volunteers in teams and work in every queue."""

from collections import Counter

import pytest
from sqlmodel import col, func, select

from core.accounts.models import User
from core.accounts.services import principal_for
from core.certificates.services import certificate_rows
from core.coverage.services import compute_coverage
from core.demo.loader import DEMO_LOGINS, load_demo
from core.jobs.models import Job
from core.people.models import Person
from core.recruitment import services as recruitment
from core.recruitment.models import Application, ApplicationStatus
from core.units.models import Unit, UnitLevel
from core.volunteers.models import (
    KitIssue,
    SpecialTeamMembership,
    TeamMembership,
    TeamRole,
    Volunteer,
    VolunteerStatus,
)
from tests.support import databases


@pytest.fixture
def demo(platform):
    """The platform with the demo loaded."""
    assert load_demo(platform) is not None
    return platform


def _unit(session, code):
    return session.exec(select(Unit).where(Unit.code == code)).one()


def test_every_recruitment_status_has_applications(demo):
    with demo.session_factory() as session:
        counts = Counter(session.exec(select(Application.status)).all())
        assert set(counts) == set(ApplicationStatus), counts
        rejected = session.exec(
            select(Application).where(Application.status == ApplicationStatus.rejected)
        ).all()
        assert all(application.reason for application in rejected)
        channels = Counter(session.exec(select(Application.channel)).all())
        assert channels["self"] >= 1 and channels["office"] >= 1
        # Registered and certified applicants became volunteers through registration.
        for application in session.exec(
            select(Application).where(
                col(Application.status).in_(
                    [ApplicationStatus.registered, ApplicationStatus.certified]
                )
            )
        ):
            volunteer = session.get(Volunteer, application.volunteer_id)
            assert volunteer is not None
            assert bool(volunteer.certificate_number) == (
                application.status == ApplicationStatus.certified
            )
        # Each step notified through the job, recorded in the same transaction.
        notify = session.exec(select(func.count()).where(Job.name == recruitment.NOTIFY_JOB)).one()
        assert notify >= len(counts)


def test_every_office_login_has_work_waiting(demo):
    with demo.session_factory() as session:
        for username, _, role, _ in DEMO_LOGINS:
            if role == "auditor":
                continue
            user = session.exec(select(User).where(User.username == username)).one()
            principal = principal_for(session, user, demo.policy, "session")
            waiting = session.exec(recruitment.list_query(principal, waiting=True)).all()
            assert waiting, f"{username} has nothing in the queue"
            for application, _ in waiting:
                assert recruitment.allowed_steps(principal, application), username


def test_volunteers_fill_the_district_and_coverage_is_not_zero(demo):
    with demo.session_factory() as session:
        district = _unit(session, "500103")
        volunteers = session.exec(select(Volunteer)).all()
        assert 150 <= len(volunteers) <= 400
        assert all(v.unit_path.startswith(district.path) for v in volunteers)
        assert all(v.number.startswith("500103") for v in volunteers)
        statuses = Counter(v.status for v in volunteers)
        assert statuses[VolunteerStatus.suspended] and statuses[VolunteerStatus.left]
        coverage = compute_coverage(session, district)
        assert coverage.root.volunteers == statuses[VolunteerStatus.active]
        assert coverage.root.ratio and coverage.root.ratio > 0
        for level in (UnitLevel.township, UnitLevel.village):
            rows = coverage.at_level(level)
            assert rows and all(row.volunteers > 0 for row in rows), level
            assert all(row.ratio > 0 for row in rows if row.kind == "territorial"), level
        city = session.exec(select(Unit).where(Unit.level == UnitLevel.city)).one()
        assert compute_coverage(session, city).root.volunteers == coverage.root.volunteers
        # Kit, special teams, national numbers and certificates for some.
        assert session.exec(select(func.count()).select_from(KitIssue)).one() > len(volunteers)
        assert session.exec(
            select(func.count()).where(col(KitIssue.recalled_on).is_not(None))
        ).one()
        assert session.exec(select(func.count()).select_from(SpecialTeamMembership)).one()
        assert sum(1 for v in volunteers if v.national_number) > len(volunteers) // 5
        certified = certificate_rows(session, district, limit=100)
        assert 3 <= len(certified) <= 10
        assert session.exec(select(func.count()).where(Job.name == "core.render_certificate")).one()


def test_every_team_has_one_captain_and_leaders_are_members_of_the_team_above(demo):
    with demo.session_factory() as session:
        current = session.exec(
            select(TeamMembership, Unit)
            .join(Unit, Unit.id == TeamMembership.unit_id)
            .where(col(TeamMembership.until).is_(None))
        ).all()
        held = {(m.volunteer_id, m.unit_id) for m, _ in current}
        captains = Counter(unit.id for m, unit in current if m.role == TeamRole.captain)
        teams = session.exec(select(Unit).where(Unit.level != UnitLevel.city)).all()
        in_district = [
            unit for unit in teams if unit.path.startswith(_unit(session, "500103").path)
        ]
        assert all(captains[unit.id] == 1 for unit in in_district), "one captain per team"
        leaders = [(m, unit) for m, unit in current if m.role != TeamRole.member]
        assert len(leaders) >= 2 * len(in_district)
        for membership, unit in leaders:
            assert (membership.volunteer_id, unit.parent_id) in held, unit.name
        # A volunteer is held by the unit of a team they belong to.
        for volunteer in session.exec(
            select(Volunteer).where(Volunteer.status != VolunteerStatus.left)
        ):
            assert (volunteer.id, volunteer.unit_id) in held


def test_the_demo_is_the_same_every_time(tmp_path, sqlite_template, test_keys, pm):
    """Seeded: two loads give the same people, numbers and teams (SQLite, twice)."""
    from core.platform import build_platform
    from core.settings import Settings

    def people_of(url):
        settings = Settings(_env_file=None, var_dir=tmp_path / "var", database_url=url, **test_keys)
        built = build_platform(settings, pm)
        try:
            assert load_demo(built) is not None
            with built.session_factory() as session:
                return session.exec(
                    select(Person.name, Volunteer.number, Volunteer.unit_id)
                    .join(Volunteer, Volunteer.person_id == Person.id, isouter=True)
                    .order_by(Person.id)
                ).all()
        finally:
            built.engine.dispose()

    first = people_of(databases.copy_sqlite(sqlite_template, tmp_path / "one.sqlite3"))
    second = people_of(databases.copy_sqlite(sqlite_template, tmp_path / "two.sqlite3"))
    assert first == second and len(first) > 150


def test_a_street_patrols_for_two_weeks_with_gaps_left_to_fill(demo):
    from datetime import timedelta

    from core.tasks.matrix import duty_matrix
    from core.tasks.models import Assignment, AssignmentStatus, Shift
    from core.tasks.rules import local_date

    with demo.session_factory() as session:
        street = _unit(session, "500103002")  # 解放碑街道, the jiefangbei login's unit
        shifts = session.exec(select(Shift)).all()
        assert len(shifts) == 3 * 14 and {s.unit_path[: len(street.path)] for s in shifts} == {
            street.path
        }
        held = Counter(
            session.exec(
                select(Assignment.shift_id).where(Assignment.status == AssignmentStatus.confirmed)
            ).all()
        )
        assert all(1 <= held[s.id] <= s.max_headcount for s in shifts)
        short = [s for s in shifts if held[s.id] < s.min_headcount]
        assert 0 < len(short) < len(shifts) // 2  # some gaps, most shifts staffed
        # The street's matrix, week by week, shows every shift and every gap.
        first = min(local_date(s.starts_at) for s in shifts)
        weeks = [duty_matrix(session, street, first + timedelta(days=7 * n)) for n in range(3)]
        cells = [cell for week in weeks for found in week.cells.values() for cell in found]
        assert len(cells) == len(shifts) and sum(week.gaps for week in weeks) == len(short)
        assert {name for week in weeks for _, name in week.points} == {
            "解放碑纪念碑",
            "小什字轻轨站",
            "较场口夜市",
        }
