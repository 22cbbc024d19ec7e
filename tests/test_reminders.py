"""Reminder and escalation sweeps: due ones found from the database, each sent once."""

from datetime import timedelta

import pytest
from sqlmodel import select

from core.accounts.policy import Policy
from core.jobs.outbox import enqueue
from core.notifications.models import Notification
from core.tasks import reminders
from core.tasks.models import Assignment, AssignmentStatus, Shift
from core.units.models import utcnow
from tests.support.hours_world import HoursWorld


@pytest.fixture
def world(platform, unit_tree):
    return HoursWorld(platform, unit_tree)


def inbox(platform, user_id=None):
    with platform.session_factory() as session:
        query = select(Notification).order_by(Notification.id)
        if user_id is not None:
            query = query.where(Notification.user_id == user_id)
        return list(session.exec(query).all())


def test_a_reminder_goes_24_hours_ahead_once_even_when_the_sweep_runs_twice(
    platform, world, worker, broker
):
    soon = world.member(email="soon@example.org")
    later = world.member()
    cancelled = world.member()
    now = utcnow()
    tomorrow = world.shift(now + timedelta(hours=20))
    soon_id = world.assign(tomorrow, soon)
    world.assign(tomorrow, cancelled, status=AssignmentStatus.cancelled)
    later_id = world.assign(world.shift(now + timedelta(hours=30)), later)
    for _ in range(2):  # two runs recorded before either is processed
        with platform.session_factory() as session:
            enqueue(session, reminders.REMIND_JOB)
            session.commit()
    broker.join("core", fail_fast=True)
    mine = inbox(platform, soon.account.user_id)
    assert len(mine) == 1
    assert mine[0].subject.startswith("值班提醒") and mine[0].url == "/me/shifts"
    assert "解放碑夜间巡逻" in mine[0].body
    assert inbox(platform, cancelled.account.user_id) == []
    assert inbox(platform, later.account.user_id) == []
    assert world.get(Assignment, soon_id).reminded_at is not None
    assert world.get(Assignment, later_id).reminded_at is None
    # Six hours on, the later shift is due; the first is not reminded again.
    with platform.session_factory() as session:
        assert reminders.remind(session, now + timedelta(hours=7)) == 1
        session.commit()
        assert reminders.remind(session, now + timedelta(hours=7)) == 0
        session.commit()
    assert len(inbox(platform, later.account.user_id)) == 1
    assert len(inbox(platform, soon.account.user_id)) == 1


def test_an_unfilled_shift_is_escalated_to_the_parent_unit_48_hours_ahead_once(
    platform, world, accounts, unit_tree
):
    above = accounts("township_leader", unit_tree.township)  # the village's parent
    elsewhere = accounts("township_leader", unit_tree.other_township)
    own = accounts("village_leader", unit_tree.village)
    member = world.member()
    now = utcnow()
    short = world.shift(now + timedelta(hours=40), min_headcount=2)
    world.assign(short, member)
    full = world.shift(now + timedelta(hours=41), min_headcount=1)
    world.assign(full, world.member())
    far_off = world.shift(now + timedelta(hours=60), min_headcount=3)
    policy = Policy(platform.plugins.roles, platform.plugins.actions, None)
    for _ in range(2):
        with platform.session_factory() as session:
            escalated = reminders.escalate(session, policy, now)
            session.commit()
    assert world.get(Shift, short).escalated_at is not None
    assert world.get(Shift, full).escalated_at is None
    assert world.get(Shift, far_off).escalated_at is None
    notes = inbox(platform, above.user_id)
    assert len(notes) == 1 and notes[0].subject.startswith("缺员预警")
    assert "仅有 1 人" in notes[0].body and "最低 2 人" in notes[0].body
    assert inbox(platform, elsewhere.user_id) == [] and inbox(platform, own.user_id) == []
    assert escalated == 0  # the second run found nothing left to do


def test_the_sweeps_are_scheduled(platform):
    scheduled = {schedule.job for schedule in platform.plugins.schedules}
    assert {reminders.REMIND_JOB, reminders.ESCALATE_JOB, "core.recompute_hours"} <= scheduled
