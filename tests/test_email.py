"""Notification e-mail through a local SMTP sink: after commit, once, only to addresses given."""

import email
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from core.accounts.models import User
from core.notifications.email import EMAIL_JOB, deliver_with_email, email_notifications
from core.notifications.models import Notification
from tests.support.server import free_port
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.anyio


class Sink:
    """Collects every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture
def settings(settings, smtp_sink):
    """The test settings, sending e-mail to the sink (plain SMTP, no STARTTLS)."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink[1],
            "smtp_starttls": False,
            "smtp_from": "pingan@example.org",
        }
    )


def make_user(platform, accounts, unit, name, address):
    account = accounts(None, unit, username=name)
    with platform.session_factory() as session:
        user = session.get(User, account.user_id)
        user.email = address
        session.add(user)
        session.commit()
    return account


def test_email_goes_after_commit_once_and_only_to_users_with_an_address(
    platform, worker, broker, unit_tree, accounts, smtp_sink
):
    sink, _ = smtp_sink
    with_address = make_user(platform, accounts, unit_tree.village, "has-mail", "zhang@example.org")
    without = make_user(platform, accounts, unit_tree.village, "no-mail", None)
    messages = [
        (with_address.user_id, "值班提醒", "明天 08:00 解放碑", "/me/shifts", "t:1"),
        (without.user_id, "值班提醒", "明天 08:00 解放碑", "/me/shifts", "t:2"),
    ]
    with platform.session_factory() as session:  # rolled back: nobody is e-mailed
        deliver_with_email(session, messages)
        session.rollback()
    broker.join("core", fail_fast=True)
    assert sink.messages == []
    with platform.session_factory() as session:
        assert deliver_with_email(session, messages) == 2
        session.commit()
    broker.join("core", fail_fast=True)
    assert len(sink.messages) == 1
    sender, recipients, message = sink.messages[0]
    assert sender == "pingan@example.org" and recipients == ["zhang@example.org"]
    assert message["Subject"] == "值班提醒"
    body = message.get_content()
    assert "明天 08:00 解放碑" in body and "/me/shifts" in body
    # Delivering the same keys again, or running the job again, sends nothing more.
    with platform.session_factory() as session:
        assert deliver_with_email(session, messages) == 0
        session.commit()
        ids = session.exec(select(Notification.id)).all()
    email_notifications.fn(notification_ids=list(ids), context=context_of(platform))
    broker.join("core", fail_fast=True)
    assert len(sink.messages) == 1
    with platform.session_factory() as session:
        stamped = session.exec(
            select(Notification.user_id, Notification.emailed_at).order_by(Notification.id)
        ).all()
    assert stamped[0][1] is not None and stamped[1][1] is None


def context_of(platform):
    from core.jobs.runtime import JobContext

    return JobContext(None, platform.session_factory, platform.settings, platform.plugins)


def test_without_an_smtp_host_nothing_is_sent(platform, unit_tree, accounts, smtp_sink):
    sink, _ = smtp_sink
    user = make_user(platform, accounts, unit_tree.village, "quiet", "li@example.org")
    with platform.session_factory() as session:
        deliver_with_email(session, [(user.user_id, "主题", "正文", None, "q:1")])
        session.commit()
        ids = session.exec(select(Notification.id)).all()
    from core.jobs.runtime import JobContext

    unset = platform.settings.model_copy(update={"smtp_host": None})
    result = email_notifications.fn(
        notification_ids=list(ids),
        context=JobContext(None, platform.session_factory, unset, platform.plugins),
    )
    assert result == {"sent": 0, "skipped": "no smtp host"}
    assert sink.messages == []


def test_a_failed_send_releases_the_claim_for_the_retry(platform, unit_tree, accounts):
    user = make_user(platform, accounts, unit_tree.village, "retry", "wang@example.org")
    with platform.session_factory() as session:
        deliver_with_email(session, [(user.user_id, "主题", "正文", None, "r:1")])
        session.commit()
        ids = session.exec(select(Notification.id)).all()
    from core.jobs.runtime import JobContext

    nowhere = platform.settings.model_copy(update={"smtp_port": free_port()})  # nobody listens
    with pytest.raises(OSError):
        email_notifications.fn(
            notification_ids=list(ids),
            context=JobContext(None, platform.session_factory, nowhere, platform.plugins),
        )
    with platform.session_factory() as session:
        assert session.get(Notification, ids[0]).emailed_at is None


def test_the_email_job_is_registered(platform):
    assert EMAIL_JOB in platform.plugins.jobs


async def test_a_user_sets_an_address_with_their_password(client, platform, unit_tree, accounts):
    account = accounts(None, unit_tree.village, username="sets-mail")
    await sign_in(client, account.username, account.password)
    wrong = await post_form(
        client, "/me/email", {"email": "zhao@example.org", "current_password": "nope"}
    )
    assert wrong.status_code == 400 and "current_password" in wrong.text
    bad = await post_form(
        client, "/me/email", {"email": "not an address", "current_password": account.password}
    )
    assert bad.status_code == 400 and "email" in bad.text
    saved = await post_form(
        client, "/me/email", {"email": "zhao@example.org", "current_password": account.password}
    )
    assert saved.status_code == 200 and "z***@example.org" in saved.text
    with platform.session_factory() as session:
        assert session.get(User, account.user_id).email == "zhao@example.org"
    api = await client.put(
        "/api/v1/me/email",
        json={"email": None, "current_password": account.password},
        headers=account.headers,
    )
    assert api.status_code == 200 and api.json() == {"email": None}


def test_an_assignment_reaches_the_volunteer_by_email_too(
    platform, worker, broker, unit_tree, smtp_sink
):
    from core.tasks.assignments import assign
    from core.tasks.models import Shift
    from tests.support.tasks_world import TasksWorld, at, next_monday, principal_of

    sink, _ = smtp_sink
    world = TasksWorld(platform)
    member = world.volunteer(unit_tree.village, role="volunteer", name="周巡逻")
    with platform.session_factory() as session:
        user = session.get(User, member.account.user_id)
        user.email = "zhou@example.org"
        session.add(user)
        session.commit()
    shift = world.shift(world.task(unit_tree.village), at(next_monday(), 9))
    leader = principal_of(platform, ("village_leader", unit_tree.village))
    with platform.session_factory() as session:
        assign(platform, session, leader, session.get(Shift, shift.id), member.volunteer_id)
        session.commit()
    for _ in range(2):  # the notice, then the e-mail it queues
        broker.join("core", fail_fast=True)
    (message,) = [parsed for _, to, parsed in sink.messages if to == ["zhou@example.org"]]
    assert "/me/shifts" in message.get_content()
    with platform.session_factory() as session:
        (notice,) = session.exec(
            select(Notification).where(Notification.user_id == member.account.user_id)
        ).all()
    assert notice.emailed_at is not None and notice.subject == message["Subject"]
