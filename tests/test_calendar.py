"""The calendar feed: a secret address per volunteer, only their own shifts, revocable."""

from datetime import timedelta

import icalendar
import pytest
from sqlmodel import select

from core.tasks import calendar
from core.tasks.models import AssignmentStatus, CalendarToken
from core.units.models import utcnow
from tests.support.hours_world import HoursWorld
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def world(platform, unit_tree):
    return HoursWorld(platform, unit_tree)


def path_of(url: str) -> str:
    return url[url.index("/calendar/") :]


async def test_the_feed_parses_and_holds_only_my_confirmed_shifts(client, platform, world):
    me = world.member()
    other = world.member()
    now = utcnow().replace(microsecond=0)
    mine = world.shift(now + timedelta(days=1), 120)
    world.assign(mine, me, leader=True)
    world.assign(mine, other)  # a colleague on the same shift
    theirs = world.shift(now + timedelta(days=2))
    world.assign(theirs, other)
    declined = world.shift(now + timedelta(days=3))
    world.assign(declined, me, status=AssignmentStatus.declined)
    issued = await client.post("/api/v1/me/calendar", headers=me.account.headers)
    assert issued.status_code == 201
    url = issued.json()["url"]
    feed = await client.get(path_of(url))  # no sign-in
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(feed.content)
    events = [c for c in parsed.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == "解放碑夜间巡逻 · 解放碑纪念碑（带班）"
    assert event.decoded("dtstart") == now + timedelta(days=1)
    assert event.decoded("dtend") == now + timedelta(days=1, minutes=120)
    assert "民族路" in str(event["location"])
    # Nothing about the colleague: their name appears nowhere in the feed.
    from core.people.models import Person

    with platform.session_factory() as session:
        colleague = session.get(Person, other.person_id).name
    assert colleague not in feed.content.decode()
    # Only the hash is stored.
    token = path_of(url).removeprefix("/calendar/").removesuffix(".ics")
    with platform.session_factory() as session:
        stored = session.exec(select(CalendarToken.token_hash)).all()
    assert stored == [calendar.digest(token)] and token not in stored


async def test_rotating_and_revoking_the_address(client, platform, world):
    me = world.member()

    async def issue() -> str:
        response = await client.post("/api/v1/me/calendar", headers=me.account.headers)
        return path_of(response.json()["url"])

    first = await issue()
    second = await issue()
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 200
    revoked = await client.delete("/api/v1/me/calendar", headers=me.account.headers)
    assert revoked.status_code == 204
    assert (await client.get(second)).status_code == 404
    assert (await client.get("/calendar/not-a-token.ics")).status_code == 404


async def test_the_shifts_page_shows_the_address_once(client, platform, world):
    me = world.member()
    await sign_in(client, me.account.username, me.account.password)
    page = await post_form(client, "/me/calendar", {}, from_page="/me/shifts")
    assert page.status_code in (200, 201)
    link = page.text.split('class="token"><a href="', 1)[1].split('"', 1)[0]
    assert (await client.get(path_of(link))).status_code == 200
    again = await client.get("/me/shifts")
    assert path_of(link) not in again.text  # shown only when made
    await post_form(client, "/me/calendar/revoke", {}, from_page="/me/shifts")
    assert (await client.get(path_of(link))).status_code == 404
