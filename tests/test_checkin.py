"""Check-in and check-out: windows, location, one at a time, QR code, on a leader's behalf."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from core.accounts.models import User
from core.accounts.services import principal_for
from core.errors import DomainError
from core.tasks import checkin
from core.tasks.models import Assignment, CheckMethod, Shift
from core.units.models import utcnow
from tests.support.hours_world import POINT_LAT, POINT_LON, HoursWorld
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.anyio

HERE = checkin.Location(float(POINT_LAT), float(POINT_LON))
#: About 1.1 km north of the point.
FAR = checkin.Location(float(POINT_LAT) + 0.01, float(POINT_LON))


@pytest.fixture
def world(platform, unit_tree):
    return HoursWorld(platform, unit_tree)


def principal(session, platform, account):
    return principal_for(session, session.get(User, account.user_id), platform.policy, "token")


def refusal(platform, run) -> DomainError:
    with platform.session_factory() as session, pytest.raises(DomainError) as refused:
        run(session)
    return refused.value


def test_haversine_matches_a_known_distance():
    # One hundredth of a degree of latitude is about 1.11 km anywhere.
    assert 1105 < checkin.haversine_m(29.5573, 106.5772, 29.5673, 106.5772) < 1115
    assert checkin.haversine_m(29.5573, 106.5772, 29.5573, 106.5772) == 0


def test_check_in_opens_before_the_start_and_closes_at_the_end(platform, world):
    member = world.member()
    start = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    assignment_id = world.assign(world.shift(start, 60), member)

    def at(moment):
        def run(session):
            checkin.check_in(
                session,
                session.get(Assignment, assignment_id),
                CheckMethod.self_service,
                member.account.user_id,
                location=HERE,
                now=moment,
            )

        return run

    early = refusal(platform, at(start - timedelta(minutes=31)))
    assert early.code == "too_early" and early.errors[0].rule == "window"
    late = refusal(platform, at(start + timedelta(minutes=60)))
    assert late.code == "too_late"
    with platform.session_factory() as session:
        at(start - timedelta(minutes=30))(session)
        session.commit()
    stored = world.get(Assignment, assignment_id)
    assert stored.checked_in_at == start - timedelta(minutes=30)
    assert stored.check_in_method == CheckMethod.self_service
    assert stored.check_in_distance_m == 0
    again = refusal(platform, at(start))
    assert again.code == "already_checked_in"


def test_the_phone_must_be_within_the_points_radius(platform, world):
    member = world.member()
    assignment_id = world.assign(world.shift(utcnow() - timedelta(minutes=5)), member)

    def with_location(location):
        def run(session):
            checkin.check_in(
                session,
                session.get(Assignment, assignment_id),
                CheckMethod.self_service,
                member.account.user_id,
                location=location,
            )

        return run

    missing = refusal(platform, with_location(None))
    assert (missing.status, missing.code, missing.errors[0].field) == (
        400,
        "location_required",
        "latitude",
    )
    far = refusal(platform, with_location(FAR))
    assert far.code == "too_far" and "200" in far.message
    assert "111" in far.message  # the distance is named (about 1112 m)
    with platform.session_factory() as session:
        with_location(checkin.Location(HERE.latitude + 0.001, HERE.longitude))(session)
        session.commit()
    assert 100 < world.get(Assignment, assignment_id).check_in_distance_m < 120


def test_no_check_out_before_check_in_and_only_once(platform, world):
    member = world.member()
    assignment_id = world.assign(world.shift(utcnow() - timedelta(minutes=5)), member)

    def out(session):
        checkin.check_out(
            session,
            session.get(Assignment, assignment_id),
            CheckMethod.self_service,
            member.account.user_id,
            location=HERE,
        )

    assert refusal(platform, out).code == "not_checked_in"
    with platform.session_factory() as session:
        checkin.check_in(
            session,
            session.get(Assignment, assignment_id),
            CheckMethod.self_service,
            member.account.user_id,
            location=HERE,
        )
        session.commit()
    with platform.session_factory() as session:
        out(session)
        session.commit()
    assert refusal(platform, out).code == "already_checked_out"


def test_a_volunteer_cannot_be_checked_in_to_two_shifts_at_once(platform, world):
    member = world.member()
    now = utcnow()
    first = world.assign(world.shift(now - timedelta(minutes=5)), member)
    second = world.assign(world.shift(now - timedelta(minutes=3)), member)
    for assignment_id, expect in ((first, None), (second, "checked_in_elsewhere")):
        with platform.session_factory() as session:
            try:
                checkin.check_in(
                    session,
                    session.get(Assignment, assignment_id),
                    CheckMethod.self_service,
                    member.account.user_id,
                    location=HERE,
                )
                session.commit()
                assert expect is None
            except DomainError as error:
                assert error.code == expect


def test_concurrent_check_ins_to_two_shifts_let_exactly_one_through(platform, world, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers anyway")
    member = world.member()
    now = utcnow()
    ids = [world.assign(world.shift(now - timedelta(minutes=m)), member) for m in (5, 4)]
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(assignment_id):
        with platform.session_factory() as session:
            assignment = session.get(Assignment, assignment_id)
            barrier.wait()
            try:
                checkin.check_in(
                    session,
                    assignment,
                    CheckMethod.self_service,
                    member.account.user_id,
                    location=HERE,
                )
                session.commit()
                outcomes.append("ok")
            except DomainError as error:
                session.rollback()
                outcomes.append(error.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["checked_in_elsewhere", "ok"]


def test_the_qr_code_checks_in_then_out_and_a_wrong_secret_is_not_found(platform, world):
    member = world.member()
    stranger = world.member()
    shift_id = world.shift(utcnow() - timedelta(minutes=5))
    assignment_id = world.assign(shift_id, member)
    secret = world.get(Shift, shift_id).checkin_secret
    wrong = refusal(
        platform,
        lambda s: checkin.by_qr(s, principal(s, platform, member.account), shift_id, "x" * 32),
    )
    assert wrong.status == 404
    not_mine = refusal(
        platform,
        lambda s: checkin.by_qr(s, principal(s, platform, stranger.account), shift_id, secret),
    )
    assert not_mine.status == 403 and not_mine.code == "not_assigned"
    for expected in ("in", "out"):
        with platform.session_factory() as session:
            _, done = checkin.by_qr(
                session, principal(session, platform, member.account), shift_id, secret
            )
            session.commit()
        assert done == expected
    stored = world.get(Assignment, assignment_id)
    assert stored.check_in_method == stored.check_out_method == CheckMethod.qr
    assert stored.check_in_distance_m is None  # the code proves presence; no location asked


def test_the_shifts_leader_checks_in_on_behalf_recorded_as_such(platform, world):
    leader = world.member()
    member = world.member()
    other = world.member()
    shift_id = world.shift(utcnow() - timedelta(minutes=5))
    leader_assignment = world.assign(shift_id, leader, leader=True)
    assignment_id = world.assign(shift_id, member)
    world.assign(shift_id, other)

    def behalf(account, target):
        def run(session):
            checkin.on_behalf(
                session,
                principal(session, platform, account),
                session.get(Assignment, target),
                "in",
            )

        return run

    assert refusal(platform, behalf(other.account, assignment_id)).status == 403
    own = refusal(platform, behalf(leader.account, leader_assignment))
    assert own.status == 403 and own.errors[0].rule == "own"
    with platform.session_factory() as session:
        behalf(leader.account, assignment_id)(session)
        session.commit()
    stored = world.get(Assignment, assignment_id)
    assert stored.check_in_method == CheckMethod.leader
    assert stored.checked_in_by_user_id == leader.account.user_id


async def test_the_api_checks_in_my_own_assignment_only(client, platform, world):
    member = world.member()
    stranger = world.member()
    assignment_id = world.assign(world.shift(utcnow() - timedelta(minutes=5)), member)
    path = f"/api/v1/me/assignments/{assignment_id}/check-in"
    theirs = await client.post(path, json={}, headers=stranger.account.headers)
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
    far = await client.post(
        path,
        json={"latitude": FAR.latitude, "longitude": FAR.longitude},
        headers=member.account.headers,
    )
    assert far.status_code == 409
    body = far.json()
    assert body["code"] == "too_far" and body["errors"][0]["field"] == "latitude"
    done = await client.post(
        path,
        json={"latitude": HERE.latitude, "longitude": HERE.longitude},
        headers=member.account.headers,
    )
    assert done.status_code == 200 and done.json()["state"] == "checked_in"
    mine = await client.get("/api/v1/me/shifts", headers=member.account.headers)
    assert [row["assignment_id"] for row in mine.json()] == [assignment_id]
    assert (await client.get("/api/v1/me/shifts", headers=stranger.account.headers)).json() == []


async def test_the_phone_page_checks_in_and_names_the_distance_when_refused(
    client, platform, world
):
    member = world.member()
    assignment_id = world.assign(world.shift(utcnow() - timedelta(minutes=5)), member)
    await sign_in(client, member.account.username, member.account.password)
    page = await client.get("/me/shifts")
    assert page.status_code == 200
    assert f'action="/me/shifts/{assignment_id}/check-in"' in page.text
    assert "big-button" in page.text and "checkin.js" in page.text
    far = await post_form(
        client,
        f"/me/shifts/{assignment_id}/check-in",
        {"latitude": str(FAR.latitude), "longitude": str(FAR.longitude)},
        from_page="/me/shifts",
    )
    assert far.status_code == 409 and "超出 200 米" in far.text
    done = await post_form(
        client,
        f"/me/shifts/{assignment_id}/check-in",
        {"latitude": str(HERE.latitude), "longitude": str(HERE.longitude)},
        from_page="/me/shifts",
    )
    assert done.status_code in (200, 302, 303)
    assert world.get(Assignment, assignment_id).checked_in_at is not None
    english = await client.get("/me/shifts?lang=en")
    assert "Check out" in english.text


async def test_the_qr_page_checks_in_after_signing_in(client, platform, world):
    member = world.member()
    shift_id = world.shift(utcnow() - timedelta(minutes=5))
    assignment_id = world.assign(shift_id, member)
    secret = world.get(Shift, shift_id).checkin_secret
    path = f"/me/checkin/{shift_id}/{secret}"
    bounced = await client.get(path, follow_redirects=False)
    assert bounced.status_code == 302 and path.replace("/", "%2F") in bounced.headers[
        "location"
    ].replace("/", "%2F")
    await sign_in(client, member.account.username, member.account.password)
    assert (await client.get(f"/me/checkin/{shift_id}/{'y' * 30}")).status_code == 404
    page = await client.get(path)
    assert page.status_code == 200 and "签到" in page.text
    await post_form(client, path, {})
    assert world.get(Assignment, assignment_id).check_in_method == CheckMethod.qr


async def test_a_unit_leader_checks_in_and_confirms_on_the_roster_page(
    client, platform, world, accounts, unit_tree
):
    leader = accounts("village_leader", unit_tree.village)
    member = world.member()
    start = (utcnow() - timedelta(minutes=50)).replace(microsecond=0)
    shift_id = world.shift(start, 60)
    assignment_id = world.assign(shift_id, member)
    await sign_in(client, leader.username, leader.password)
    roster = await client.get(f"/hours/shifts/{shift_id}")
    assert roster.status_code == 200
    assert "data:image/svg+xml" in roster.text and member_name(platform, member) in roster.text
    base = f"/hours/shifts/{shift_id}/assignments/{assignment_id}"
    await post_form(client, f"{base}/check-in", {}, from_page=f"/hours/shifts/{shift_id}")
    await post_form(client, f"{base}/check-out", {}, from_page=f"/hours/shifts/{shift_id}")
    stored = world.get(Assignment, assignment_id)
    assert stored.check_in_method == stored.check_out_method == CheckMethod.leader
    confirmed = await post_form(
        client, f"/hours/shifts/{shift_id}/confirmation", {}, from_page=f"/hours/shifts/{shift_id}"
    )
    assert confirmed.status_code in (200, 302, 303)
    from core.hours.models import HoursEntry

    with platform.session_factory() as session:
        entry = session.exec(
            select(HoursEntry).where(HoursEntry.assignment_id == assignment_id)
        ).one()
    assert entry.recorded_by_user_id == leader.user_id


def member_name(platform, member) -> str:
    from core.people.models import Person

    with platform.session_factory() as session:
        return session.get(Person, member.person_id).name


async def test_the_shifts_own_leader_runs_the_roster_page_others_do_not_see_it(
    client, platform, world
):
    leader = world.member()
    member = world.member()
    start = (utcnow() - timedelta(minutes=30)).replace(microsecond=0)
    shift_id = world.shift(start, 60)
    world.assign(shift_id, leader, leader=True)
    assignment_id = world.assign(shift_id, member)
    await sign_in(client, member.account.username, member.account.password)
    assert (await client.get(f"/me/lead/{shift_id}")).status_code == 404
    client.cookies.clear()
    await sign_in(client, leader.account.username, leader.account.password)
    shifts = await client.get("/me/shifts")
    assert f'href="/me/lead/{shift_id}"' in shifts.text
    roster = await client.get(f"/me/lead/{shift_id}")
    assert roster.status_code == 200 and "data:image/svg+xml" in roster.text
    base = f"/me/lead/{shift_id}/assignments/{assignment_id}"
    await post_form(client, f"{base}/check-in", {}, from_page=f"/me/lead/{shift_id}")
    await post_form(client, f"{base}/check-out", {}, from_page=f"/me/lead/{shift_id}")
    await post_form(
        client, f"/me/lead/{shift_id}/confirmation", {}, from_page=f"/me/lead/{shift_id}"
    )
    from core.hours.models import HoursEntry

    with platform.session_factory() as session:
        entry = session.exec(
            select(HoursEntry).where(HoursEntry.assignment_id == assignment_id)
        ).one()
    assert entry.recorded_by_user_id == leader.account.user_id
    stored = world.get(Assignment, assignment_id)
    assert stored.checked_in_by_user_id == leader.account.user_id
