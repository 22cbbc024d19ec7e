"""The in-app inbox: delivered once per dedupe key, one's own only, marked read by API and page."""

import pytest
from sqlmodel import select

from core.notifications import services
from core.notifications.models import Notification
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.anyio


def deliver(platform, user_id: int, *keys: str) -> int:
    with platform.session_factory() as session:
        written = services.deliver(
            session,
            [
                (user_id, f"主题 {key}", f"正文 {key}", f"/applications/{n}", key)
                for n, key in enumerate(keys, start=1)
            ],
        )
        session.commit()
        return written


def test_deliver_writes_each_dedupe_key_once(platform, unit_tree, accounts):
    user = accounts(None, unit_tree.village)
    assert deliver(platform, user.user_id, "a", "b") == 2
    assert deliver(platform, user.user_id, "b", "c") == 1  # b is there already
    assert deliver(platform, user.user_id, "a", "b", "c") == 0
    with platform.session_factory() as session:
        keys = session.exec(select(Notification.dedupe_key).order_by(Notification.id)).all()
    assert keys == ["a", "b", "c"]


async def test_the_api_lists_only_my_notifications_and_marks_them_read(
    client, platform, unit_tree, accounts
):
    me = accounts("village_leader", unit_tree.village)
    other = accounts("village_leader", unit_tree.other_village)
    deliver(platform, me.user_id, "mine-1", "mine-2")
    deliver(platform, other.user_id, "theirs")
    response = await client.get("/api/v1/notifications", headers=me.headers)
    assert response.status_code == 200
    rows = response.json()
    assert [row["subject"] for row in rows] == ["主题 mine-2", "主题 mine-1"]  # newest first
    assert all(row["read_at"] is None for row in rows)
    with platform.session_factory() as session:
        theirs = session.exec(
            select(Notification.id).where(Notification.user_id == other.user_id)
        ).one()
    refused = await client.post(f"/api/v1/notifications/{theirs}/read", headers=me.headers)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    marked = await client.post(f"/api/v1/notifications/{rows[0]['id']}/read", headers=me.headers)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    unread = await client.get("/api/v1/notifications", params={"unread": True}, headers=me.headers)
    assert [row["id"] for row in unread.json()] == [rows[1]["id"]]
    everything = await client.post("/api/v1/notifications/read", headers=me.headers)
    assert everything.json() == {"marked": 1}
    unread = await client.get("/api/v1/notifications", params={"unread": True}, headers=me.headers)
    assert unread.json() == []
    # The other user's notification is untouched.
    theirs_now = await client.get("/api/v1/notifications", headers=other.headers)
    assert theirs_now.json()[0]["read_at"] is None


async def test_the_inbox_needs_signing_in(client):
    assert (await client.get("/api/v1/notifications")).status_code == 401
    page = await client.get("/inbox/", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"].startswith("/login")


async def test_the_inbox_page_shows_and_marks_read(client, platform, unit_tree, accounts):
    me = accounts("township_leader", unit_tree.township)
    deliver(platform, me.user_id, "one", "two")
    await sign_in(client, me.username, me.password)
    page = await client.get("/inbox/")
    assert page.status_code == 200
    assert "主题 one" in page.text and "主题 two" in page.text
    assert 'href="/applications/1"' in page.text
    with platform.session_factory() as session:
        first = session.exec(select(Notification).where(Notification.dedupe_key == "one")).one()
    response = await post_form(client, f"/inbox/{first.id}/read", {}, from_page="/inbox/")
    assert response.status_code == 200  # followed back to the inbox
    with platform.session_factory() as session:
        assert session.get(Notification, first.id).read_at is not None
    unread = await client.get("/inbox/?unread=true")
    assert "主题 one" not in unread.text and "主题 two" in unread.text
    response = await post_form(client, "/inbox/read", {}, from_page="/inbox/")
    assert response.status_code == 200
    with platform.session_factory() as session:
        left = session.exec(select(Notification).where(Notification.read_at.is_(None))).all()
    assert left == []
    english = await client.get("/inbox/?lang=en")
    assert "Inbox" in english.text and "Mark all read" not in english.text
