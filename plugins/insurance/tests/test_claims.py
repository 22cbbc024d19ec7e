"""Incidents against the service record; claims, their checklist and the insurer's clocks."""

from datetime import date, timedelta

import pytest

from core.errors import DomainError
from plugins.insurance import claims, cover, incidents
from plugins.insurance.tests.factories import china, policy, served
from plugins.insurance.vocab import ClaimStatus, ClaimType, Decision

pytestmark = pytest.mark.plugins("insurance")

SENT = china(2025, 3, 10, 9, 0)


def incident(session, world, *, member="甲", when=None, now=None, **extra):
    when = when or china(2025, 3, 1, 21)
    assignment, _ = served(session, world, member, when - timedelta(hours=1))
    return incidents.report(
        session,
        reporter_user_id=world.users["leader"],
        within=world.unit(session, "district"),
        volunteer_id=world.members[member].volunteer_id,
        occurred_at=when,
        place="解放碑步行街",
        description="巡逻中扭伤脚踝",
        injury_kind="sprain",
        assignment_id=assignment.id,
        injury_detail="右踝韧带拉伤",
        now=now or when + timedelta(hours=2),
        **extra,
    )


def ready_claim(session, world, claim_type=ClaimType.medical, claimed_fen=500_000):
    bought = policy(session, world)
    cover.enrol_list(session, bought, [world.members["甲"].volunteer_id])
    clerk = world.actor(session, "clerk")
    claim = claims.open_claim(
        session,
        clerk,
        incident(session, world),
        policy_id=bought.id,
        claim_type=claim_type,
        claimed_fen=claimed_fen,
        claimant_user_id=world.members["甲"].user_id,
        payee_account="6222021234567890123",
        medical_notes="门诊三次",
    )
    for document in claims.documents_of(session, claim):
        if document.required and document.received_at is None:
            claims.receive_document(session, clerk, claim, document.code, original=True)
    return claim


def test_an_incident_needs_the_service_record_of_its_day(platform, world):
    with platform.session_factory() as session:
        with pytest.raises(DomainError) as none:
            incidents.report(
                session,
                reporter_user_id=world.users["leader"],
                within=world.unit(session, "district"),
                volunteer_id=world.members["甲"].volunteer_id,
                occurred_at=china(2025, 3, 1, 21),
                place="x",
                description="x",
                injury_kind="sprain",
            )
        assert none.value.errors[0].rule == "no_service_record"
        assignment, entry = served(session, world, "甲", china(2025, 3, 1, 20))
        with pytest.raises(DomainError) as wrong_day:
            incidents.report(
                session,
                reporter_user_id=world.users["leader"],
                within=world.unit(session, "district"),
                volunteer_id=world.members["甲"].volunteer_id,
                occurred_at=china(2025, 3, 2, 21),
                place="x",
                description="x",
                injury_kind="sprain",
                assignment_id=assignment.id,
                now=china(2025, 3, 2, 22),
            )
        assert wrong_day.value.errors[0].rule == "not_on_record_day"
        with pytest.raises(DomainError) as someone_else:
            incidents.report(
                session,
                reporter_user_id=world.users["leader"],
                within=world.unit(session, "district"),
                volunteer_id=world.members["乙"].volunteer_id,
                occurred_at=china(2025, 3, 1, 21),
                place="x",
                description="x",
                injury_kind="sprain",
                hours_entry_id=entry.id,
            )
        assert someone_else.value.errors[0].rule == "not_volunteers"
        by_hours = incidents.report(
            session,
            reporter_user_id=world.users["leader"],
            within=world.unit(session, "district"),
            volunteer_id=world.members["甲"].volunteer_id,
            occurred_at=china(2025, 3, 1, 21),
            place="x",
            description="x",
            injury_kind="sprain",
            hours_entry_id=entry.id,
            now=china(2025, 3, 1, 23, 59),
        )
        assert by_hours.reported_same_day


def test_reporting_after_midnight_is_marked_late_and_the_limitation_counts_two_years(
    platform, world
):
    with platform.session_factory() as session:
        late = incident(session, world, when=china(2025, 3, 1, 21), now=china(2025, 3, 2, 0, 0, 1))
        assert late.reported_same_day is False
        assert late.limitation_deadline == date(2027, 3, 1)


def test_submitting_needs_the_checklist_of_the_type_with_originals(platform, world):
    with platform.session_factory() as session:
        bought = policy(session, world)
        cover.enrol_list(session, bought, [world.members["甲"].volunteer_id])
        clerk = world.actor(session, "clerk")
        claim = claims.open_claim(
            session,
            clerk,
            incident(session, world),
            policy_id=bought.id,
            claim_type=ClaimType.death,
            claimed_fen=20_000_000,
            beneficiary_name="志愿者甲之父",
            beneficiary_relation="父子",
        )
        codes = {d.code for d in claims.documents_of(session, claim)}
        assert {"death_certificate", "household_deregistration", "beneficiary_relation"} <= codes
        assert "activity_record" not in claims.missing_documents(
            session, claim
        )  # the platform's own
        with pytest.raises(DomainError) as incomplete:
            claims.submit(session, clerk, claim)
        assert {e.field for e in incomplete.value.errors} >= {"documents.death_certificate"}
        for code in claims.missing_documents(session, claim):
            claims.receive_document(session, clerk, claim, code, original=False)  # copies only
        with pytest.raises(DomainError) as copies:
            claims.submit(session, clerk, claim)
        assert {e.field for e in copies.value.errors} == {
            "documents.death_certificate",
            "documents.household_deregistration",
        }
        claims.receive_document(session, clerk, claim, "death_certificate", original=True)
        claims.receive_document(session, clerk, claim, "household_deregistration", original=True)
        assert claims.submit(session, clerk, claim).status == ClaimStatus.submitted


def test_a_claim_needs_a_policy_that_covered_the_day(platform, world):
    with platform.session_factory() as session:
        bought = policy(session, world)  # named list, 甲 not enrolled
        with pytest.raises(DomainError) as uncovered:
            claims.open_claim(
                session,
                world.actor(session, "clerk"),
                incident(session, world),
                policy_id=bought.id,
                claim_type=ClaimType.medical,
                claimed_fen=100,
            )
        assert uncovered.value.errors[0].rule == "not_covered"


def test_decision_clock_boundaries_with_supplement_pauses(platform, world):
    with platform.session_factory() as session:
        clerk = world.actor(session, "clerk")
        claim = ready_claim(session, world)
        claims.submit(session, clerk, claim)
        claims.send_to_insurer(session, clerk, claim, at=SENT)
        # exactly 30 days: due, not yet overdue; one second more: overdue
        assert claims.clock(session, claim, SENT + timedelta(days=30)).decision_overdue is False
        assert (
            claims.clock(session, claim, SENT + timedelta(days=30, seconds=1)).decision_overdue
            is True
        )
        # a 5-day supplement period on day 10 moves the deadline by 5 days
        claims.request_supplement(
            session, clerk, claim, "补充住院病历", at=SENT + timedelta(days=10)
        )
        during = claims.clock(session, claim, SENT + timedelta(days=40))
        assert during.paused and not during.decision_overdue  # the clock is stopped
        claims.supplement_provided(session, clerk, claim, at=SENT + timedelta(days=15))
        due = SENT + timedelta(days=35)
        assert claims.clock(session, claim, due).decision_due == due
        assert claims.clock(session, claim, due).decision_overdue is False
        assert claims.clock(session, claim, due + timedelta(seconds=1)).decision_overdue is True
        assert claims.clock(session, claim, due).insurer_days_used == timedelta(days=30)
        # a second pause of two days
        claims.request_supplement(
            session, clerk, claim, "补充发票原件", at=SENT + timedelta(days=20)
        )
        claims.supplement_provided(session, clerk, claim, at=SENT + timedelta(days=22))
        later = SENT + timedelta(days=37)
        assert claims.clock(session, claim, later).decision_due == later
        assert not claims.clock(session, claim, later).decision_overdue
        assert claims.clock(session, claim, later + timedelta(seconds=1)).decision_overdue


def test_decision_days_are_configuration(platform, world):
    from plugins.insurance import config

    with platform.session_factory() as session:
        config.set_setting(
            session,
            world.unit(session, "city"),
            "claim.decision_days",
            15,
            date(2025, 1, 1),
            user_id=world.users["finance"],
        )
        clerk = world.actor(session, "clerk")
        claim = ready_claim(session, world)
        claims.submit(session, clerk, claim)
        claims.send_to_insurer(session, clerk, claim, at=SENT)
        assert claims.clock(session, claim, SENT + timedelta(days=15, seconds=1)).decision_overdue


def test_payment_clock_ten_days_after_agreement_and_four_eyes_on_payment(platform, world):
    with platform.session_factory() as session:
        clerk = world.actor(session, "clerk")
        claim = ready_claim(session, world)
        claims.submit(session, clerk, claim)
        claims.send_to_insurer(session, clerk, claim, at=SENT)
        with pytest.raises(DomainError):
            claims.decide(
                session,
                clerk,
                claim,
                Decision.approved,
                approved_fen=600_000,
                at=SENT + timedelta(days=20),
            )
        claims.decide(
            session,
            clerk,
            claim,
            Decision.approved,
            approved_fen=450_000,
            at=SENT + timedelta(days=20),
        )
        assert claim.decision == Decision.partial
        agreed_at = SENT + timedelta(days=22)
        with pytest.raises(DomainError):
            claims.agree(session, clerk, claim, claimant_confirmed=False, at=agreed_at)
        claims.agree(session, clerk, claim, claimant_confirmed=True, at=agreed_at)
        assert claims.clock(session, claim, agreed_at + timedelta(days=10)).payment_overdue is False
        assert (
            claims.clock(session, claim, agreed_at + timedelta(days=10, seconds=1)).payment_overdue
            is True
        )
        with pytest.raises(DomainError) as same_hand:  # whoever agreed does not record payment
            claims.record_payment(session, clerk, claim, paid_fen=450_000, bank_ref="X1")
        assert same_hand.value.code == "four_eyes"
        with pytest.raises(DomainError) as own:
            claims.record_payment(
                session, world.actor(session, "甲"), claim, paid_fen=450_000, bank_ref="X1"
            )
        assert own.value.code == "four_eyes"
        claims.record_payment(
            session, world.actor(session, "finance"), claim, paid_fen=450_000, bank_ref="PICC-778"
        )
        assert claim.status == ClaimStatus.paid and claim.paid_fen == 450_000
        claims.close(session, clerk, claim)
        assert claim.status == ClaimStatus.closed


def test_rejection_needs_a_reason_and_a_denial_notice_within_three_days(platform, world):
    with platform.session_factory() as session:
        clerk = world.actor(session, "clerk")
        claim = ready_claim(session, world)
        claims.submit(session, clerk, claim)
        claims.send_to_insurer(session, clerk, claim, at=SENT)
        with pytest.raises(DomainError) as no_reason:
            claims.decide(session, clerk, claim, Decision.rejected, at=SENT + timedelta(days=5))
        assert no_reason.value.errors[0].field == "reason"
        decided = SENT + timedelta(days=5)
        claims.decide(session, clerk, claim, Decision.rejected, reason="非保险责任范围", at=decided)
        assert (
            claims.clock(session, claim, decided + timedelta(days=3)).denial_notice_overdue is False
        )
        assert (
            claims.clock(
                session, claim, decided + timedelta(days=3, seconds=1)
            ).denial_notice_overdue
            is True
        )
        with pytest.raises(DomainError):
            claims.close(session, clerk, claim)  # not before the notice is recorded
        claims.dispute(session, world.actor(session, "clerk"), claim, "申请人认为属于保险责任")
        claims.resubmit(session, clerk, claim, at=SENT + timedelta(days=8))
        assert claim.status == ClaimStatus.with_insurer and claim.decision is None
        assert claims.clock(session, claim, SENT + timedelta(days=38)).decision_overdue is False


def test_nobody_handles_their_own_claim_and_a_claim_may_be_withdrawn(platform, world):
    from core.accounts import services as accounts
    from core.accounts.models import User
    from core.units.models import Unit

    with platform.session_factory() as session:
        claim = ready_claim(session, world)
        member = session.get(User, world.members["甲"].user_id)
        accounts.grant_role(
            session,
            platform.policy,
            None,
            member,
            "insurance.clerk",
            session.get(Unit, world.tree.township.id),
        )
        with pytest.raises(DomainError) as own:
            claims.submit(session, world.actor(session, "甲"), claim)
        assert own.value.code == "four_eyes"
        with pytest.raises(DomainError):
            claims.withdraw(session, world.actor(session, "clerk"), claim, "")
        claims.withdraw(session, world.actor(session, "clerk"), claim, "申请人放弃")
        assert claim.status == ClaimStatus.withdrawn
