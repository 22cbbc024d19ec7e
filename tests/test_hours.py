"""Hour rules at their boundaries, the append-only ledger, corrections, totals and stars."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.accounts.models import User
from core.accounts.services import principal_for
from core.errors import DomainError
from core.hours import ledger
from core.hours.models import (
    CorrectionStatus,
    EntryKind,
    HoursCorrection,
    HoursEntry,
    VolunteerHours,
)
from core.hours.rules import (
    ROUNDING,
    STAR_THRESHOLDS,
    VALIDITY_PERCENT,
    HoursRule,
    credit,
    round_minutes,
    star_level,
)
from core.hours.totals import recompute, unit_totals, volunteer_total
from core.tasks.models import Assignment, CheckMethod
from core.unitconfig.services import set_setting
from core.units.models import Unit, utcnow
from core.units.moves import move_unit
from core.volunteers.models import Volunteer
from tests.support.hours_world import HoursWorld

DEFAULT_RULE = HoursRule(ROUNDING.default, VALIDITY_PERCENT.default, {})


def principal(session, platform, account):
    """The account's principal, read in the test's session (SQLite allows one writer)."""
    return principal_for(session, session.get(User, account.user_id), platform.policy, "token")


# -- rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [
        (0, "0"),
        (14, "0"),
        (15, "0"),
        (16, "0.5"),
        (44, "0.5"),
        (45, "0.5"),
        (46, "1"),
        (59, "1"),
        (60, "1"),
        (61, "1"),
        (75, "1"),
        (76, "1.5"),
        (105, "1.5"),
        (106, "2"),
        (134, "2"),
        (135, "2"),
        (136, "2.5"),
    ],
)
def test_rounding_follows_the_bands_on_the_minutes_past_whole_hours(minutes, hours):
    assert round_minutes(minutes, ROUNDING.default) == Decimal(hours)


@pytest.mark.parametrize(
    ("present", "slot", "valid"),
    [(36, 60, True), (35, 60, False), (72, 120, True), (71, 120, False), (120, 120, True)],
)
def test_validity_is_at_least_sixty_percent_of_the_slot_and_exactly_sixty_counts(
    present, slot, valid
):
    result = credit(present, slot, DEFAULT_RULE)
    assert result.valid is valid
    if valid:
        assert result.hours == round_minutes(present, ROUNDING.default)
        assert result.reason is None
    else:
        assert result.hours == 0
        assert str(present) in result.reason and "60%" in result.reason


def test_star_levels_at_the_default_thresholds():
    thresholds = STAR_THRESHOLDS.default
    assert [star_level(Decimal(h), thresholds) for h in (0, 99.5, 100, 299, 300, 1500, 9999)] == [
        0,
        0,
        1,
        1,
        2,
        5,
        5,
    ]


def test_rule_settings_are_validated():
    with pytest.raises(DomainError) as refused:
        ROUNDING.parse({"bands": [{"up_to": 30, "hours": 0.5}]})  # does not reach 60
    assert refused.value.errors[0].field == "value"
    with pytest.raises(DomainError):
        STAR_THRESHOLDS.parse({"hours": [300, 100]})
    with pytest.raises(DomainError):
        VALIDITY_PERCENT.parse(101)


# -- a world with checked-out assignments ---------------------------------------------------


@pytest.fixture
def world(platform, unit_tree):
    return HoursWorld(platform, unit_tree)


def checked_out(world, member, *, present_minutes, slot_minutes=60, days_ago=1, **assign):
    """An assignment of ``member`` present ``present_minutes`` of a slot, checked out."""
    start = (utcnow() - timedelta(days=days_ago)).replace(microsecond=0)
    shift_id = world.shift(start, slot_minutes)
    return world.assign(
        shift_id,
        member,
        checked_in_at=start,
        check_in_method=CheckMethod.self_service,
        checked_out_at=start + timedelta(minutes=present_minutes),
        check_out_method=CheckMethod.self_service,
        **assign,
    ), shift_id


def confirmed(platform, leader, assignment_id: int) -> int:
    """Confirm the assignment's hours as ``leader``; the ledger entry's id."""
    with platform.session_factory() as session:
        entry = ledger.confirm(
            session, principal(session, platform, leader), session.get(Assignment, assignment_id)
        )
        session.commit()
        return entry.id


@pytest.mark.parametrize(
    ("present", "slot", "hours"),
    [
        (14, 20, "0"),
        (16, 20, "0.5"),
        (45, 60, "0.5"),
        (46, 60, "1"),
        (36, 60, "0.5"),
        (35, 60, "0"),
    ],
)
def test_confirming_writes_the_rule_of_the_day_into_the_entry(
    platform, world, accounts, unit_tree, present, slot, hours
):
    member = world.member()
    leader = accounts("village_leader", unit_tree.village)
    assignment_id, _ = checked_out(world, member, present_minutes=present, slot_minutes=slot)
    with platform.session_factory() as session:
        entry = ledger.confirm(
            session, principal(session, platform, leader), session.get(Assignment, assignment_id)
        )
        session.commit()
    assert entry.hours == Decimal(hours)
    assert entry.minutes_present == present
    assert entry.rule["validity_percent"] == 60
    assert entry.rule["rounding"]["bands"][0] == {"up_to": 15, "hours": "0"}
    assert entry.rule["slot_minutes"] == slot
    assert entry.rule["sources"]["hours.rounding"] == "default"
    valid = present * 100 >= 60 * slot
    assert entry.rule["valid"] is valid
    assert (entry.reason is None) is valid
    assert entry.unit_path == unit_tree.village.path and entry.home_unit_path


def test_a_units_own_rule_from_its_valid_from_date_applies(platform, world, accounts, unit_tree):
    leader = accounts("village_leader", unit_tree.village)
    member = world.member()
    with platform.session_factory() as session:
        district = session.get(Unit, unit_tree.district.id)
        set_setting(session, district, VALIDITY_PERCENT, 80, date(2000, 1, 1), user_id=None)
        set_setting(  # from tomorrow on: not yet in force for yesterday's shift
            session,
            district,
            VALIDITY_PERCENT,
            10,
            utcnow().date() + timedelta(days=1),
            user_id=None,
        )
        session.commit()
    assignment_id, _ = checked_out(world, member, present_minutes=45, slot_minutes=60)
    with platform.session_factory() as session:
        entry = ledger.confirm(
            session, principal(session, platform, leader), session.get(Assignment, assignment_id)
        )
    assert entry.hours == 0 and entry.rule["validity_percent"] == 80
    assert entry.rule["sources"]["hours.validity_percent"]["unit_id"] == unit_tree.district.id


def test_confirmation_is_refused_twice_for_oneself_and_before_check_out(
    platform, world, accounts, unit_tree
):
    leader = accounts("village_leader", unit_tree.village)
    member = world.member()
    assignment_id, _ = checked_out(world, member, present_minutes=60)
    with platform.session_factory() as session:
        ledger.confirm(
            session, principal(session, platform, leader), session.get(Assignment, assignment_id)
        )
        session.commit()
        with pytest.raises(DomainError) as twice:
            ledger.confirm(
                session,
                principal(session, platform, leader),
                session.get(Assignment, assignment_id),
            )
        assert twice.value.code == "already_confirmed"
        with pytest.raises(DomainError) as own:
            ledger.confirm(
                session,
                principal(session, platform, member.account),
                session.get(Assignment, assignment_id),
            )
        assert own.value.status == 403
    open_shift = world.shift(utcnow() - timedelta(minutes=10))
    not_out = world.assign(open_shift, member, checked_in_at=utcnow() - timedelta(minutes=10))
    with platform.session_factory() as session, pytest.raises(DomainError) as early:
        ledger.confirm(
            session, principal(session, platform, leader), session.get(Assignment, not_out)
        )
    assert early.value.code == "not_checked_out"
    assert early.value.errors[0].field == "checked_out_at"


def test_the_ledger_refuses_updates_and_deletes(platform, world, accounts, unit_tree):
    leader = accounts("village_leader", unit_tree.village)
    member = world.member()
    assignment_id, _ = checked_out(world, member, present_minutes=60)
    entry_id = confirmed(platform, leader, assignment_id)
    with platform.session_factory() as session:
        entry = session.get(HoursEntry, entry_id)
        entry.hours = Decimal("9")
        session.add(entry)
        with pytest.raises(ledger.LedgerIsAppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.get(HoursEntry, entry_id))
        with pytest.raises(ledger.LedgerIsAppendOnly):
            session.flush()
        session.rollback()
        with pytest.raises(ledger.LedgerIsAppendOnly):
            session.execute(sa.update(HoursEntry).values(hours=9))
        with pytest.raises(ledger.LedgerIsAppendOnly):
            session.execute(sa.update(HoursEntry).values(hours=9, unit_path="1."))
        with pytest.raises(ledger.LedgerIsAppendOnly):
            session.execute(sa.delete(HoursEntry.__table__))
        session.rollback()
        # Where the entry is held may change with its unit (a move re-scopes every record).
        session.execute(
            sa.update(HoursEntry.__table__)
            .where(HoursEntry.id == entry_id)
            .values(unit_path=HoursEntry.unit_path)
        )
        session.rollback()
    assert world.get(HoursEntry, entry_id).hours == Decimal("1")


def test_a_correction_is_a_new_entry_and_the_original_stays(platform, world, accounts, unit_tree):
    requester = accounts("village_leader", unit_tree.village)
    approver = accounts("township_leader", unit_tree.township)
    member = world.member()
    assignment_id, _ = checked_out(world, member, present_minutes=30, slot_minutes=60)
    with platform.session_factory() as session:
        original = ledger.confirm(
            session, principal(session, platform, requester), session.get(Assignment, assignment_id)
        )
        session.commit()
        assert original.hours == 0  # 30 of 60 minutes: below the threshold
        correction = ledger.request_correction(
            session,
            principal(session, platform, requester),
            original,
            Decimal("1"),
            "签退时手机没电，带班证明在岗一小时",
        )
        session.commit()
        # Neither the requester nor the volunteer may decide it.
        for who in (requester, member.account):
            with pytest.raises(DomainError) as refused:
                ledger.decide_correction(
                    session, principal(session, platform, who), correction, True
                )
            assert refused.value.status == 403
        with pytest.raises(DomainError) as pending:
            ledger.request_correction(
                session, principal(session, platform, requester), original, Decimal("2"), "再次更正"
            )
        assert pending.value.code == "conflict"
        decision = ledger.decide_correction(
            session, principal(session, platform, approver), correction, True, "核实无误"
        )
        session.commit()
    entries = world_entries(platform, member.volunteer_id)
    assert [(e.kind, e.hours, e.corrects_id) for e in entries] == [
        (EntryKind.service, Decimal("0"), None),
        (EntryKind.correction, Decimal("1"), original.id),
    ]
    assert entries[0].id == original.id and entries[0].reason == original.reason
    stored = world.get(HoursCorrection, correction.id)
    assert stored.status == CorrectionStatus.approved
    assert stored.result_entry_id == decision.entry.id
    assert stored.decided_by_user_id == approver.user_id
    # A second correction adjusts from the corrected figure; a rejection writes nothing.
    with platform.session_factory() as session:
        second = ledger.request_correction(
            session,
            principal(session, platform, member.account),  # the volunteer may ask too
            session.get(HoursEntry, decision.entry.id),  # a correction points to its original
            Decimal("0.5"),
            "多记了",
        )
        session.commit()
        assert second.entry_id == original.id
        with pytest.raises(DomainError):
            ledger.decide_correction(session, principal(session, platform, approver), second, False)
        ledger.decide_correction(
            session, principal(session, platform, approver), second, False, "不符"
        )
        session.commit()
    assert len(world_entries(platform, member.volunteer_id)) == 2
    with platform.session_factory() as session:
        assert volunteer_total(session, session.get(Volunteer, member.volunteer_id)).total == 1
        assert session.get(VolunteerHours, member.volunteer_id).total_hours == Decimal("1")


def world_entries(platform, volunteer_id):
    with platform.session_factory() as session:
        return list(
            session.exec(
                select(HoursEntry)
                .where(HoursEntry.volunteer_id == volunteer_id)
                .order_by(HoursEntry.id)
            ).all()
        )


def add_entry(session, volunteer, hours, unit, home):
    session.add(
        HoursEntry(
            volunteer_id=volunteer.id,
            unit_id=unit.id,
            unit_path=unit.path,
            home_unit_id=home.id,
            home_unit_path=home.path,
            service_date=date(2026, 1, 1),
            hours=Decimal(hours),
        )
    )


def test_recompute_writes_totals_and_per_unit_star_levels_for_everyone(platform, world, unit_tree):
    here = world.member()  # village (under township, district)
    there = world.member(unit_tree.other_village)
    idle = world.member(unit_tree.other_village)
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        other_village = session.get(Unit, unit_tree.other_village.id)
        for _ in range(3):
            add_entry(session, session.get(Volunteer, here.volunteer_id), "50", village, village)
            add_entry(
                session, session.get(Volunteer, there.volunteer_id), "50", village, other_village
            )
        # The other township counts stars from 20 hours on; the district keeps the default.
        township = session.get(Unit, unit_tree.other_township.id)
        set_setting(
            session,
            township,
            STAR_THRESHOLDS,
            {"hours": [20, 100, 1000]},
            date(2000, 1, 1),
            user_id=None,
        )
        session.commit()
        assert recompute(session) == 2
        session.commit()
        rows = {
            row.volunteer_id: (row.total_hours, row.star_level)
            for row in session.exec(select(VolunteerHours)).all()
        }
        assert rows[here.volunteer_id] == (Decimal("150"), 1)
        assert rows[there.volunteer_id] == (Decimal("150"), 2)
        assert idle.volunteer_id not in rows  # no entries: no row, 0 hours and no star
        assert recompute(session) == 0  # nothing changed, nothing rewritten
        # Dispatched hours count for the volunteer's home unit and for the receiving unit.
        totals = {
            t.unit.id: t for t in unit_totals(session, session.get(Unit, unit_tree.district.id))
        }
        assert totals[unit_tree.district.id].home_hours == 300
        assert totals[unit_tree.township.id].served_hours == 300
        assert totals[unit_tree.township.id].home_hours == 150
        assert totals[unit_tree.other_township.id].home_hours == 150
        assert totals[unit_tree.other_township.id].served_hours == 0


def test_moving_the_home_unit_moves_the_home_path_of_its_duty_and_hours(
    platform, world, unit_tree, accounts
):
    """A volunteer of 金汤街社区 served at 民族路社区; when 金汤街社区 moves to another township,
    the home path on the assignment and on the ledger entry follows it (the receiving unit's
    path stays), so the new township's offices count those hours as their volunteers'."""
    member = world.member(unit_tree.other_village)
    assignment_id, _ = checked_out(world, member, present_minutes=120, slot_minutes=120)
    leader = accounts("village_leader", unit_tree.village)
    entry_id = confirmed(platform, leader, assignment_id)
    with platform.session_factory() as session:
        moved = move_unit(
            session,
            session.get(Unit, unit_tree.other_village.id),
            session.get(Unit, unit_tree.township.id),
            models=platform.plugins.models,
            by_user_id=None,
        )
        session.commit()
    assert moved.rows["assignment.home_unit_path"] == 1
    assert moved.rows["hours_entry.home_unit_path"] == 1
    assignment, entry = world.get(Assignment, assignment_id), world.get(HoursEntry, entry_id)
    assert assignment.home_unit_path == entry.home_unit_path == moved.new_path
    assert moved.new_path.startswith(unit_tree.township.path)
    assert assignment.unit_path == entry.unit_path == unit_tree.village.path
