"""Time limits, windows and the periodic sweeps, on a controlled clock.

The plugin's clock is set to chosen days (``set_clock``); sweeps are run inline with the
context a worker gives them, twice where it matters, to show they are idempotent.
"""

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from core.notifications.models import Notification
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from plugins.mediation import jobs
from plugins.mediation.models import Dispute, Snapshot

pytestmark = pytest.mark.anyio


def inbox(platform, account) -> list[str]:
    with platform.session_factory() as session:
        return list(
            session.exec(
                select(Notification.subject)
                .where(Notification.user_id == account.user_id)
                .order_by(Notification.id)
            ).all()
        )


def run(job, context, **kwargs) -> int:
    return job.fn(context=context, **kwargs)


async def test_deadline_is_one_month_from_acceptance_with_reminder_due_and_overdue(
    flow, platform, set_clock, job_context
):
    accepted_on = date(2031, 1, 31)
    set_clock(accepted_on)
    case = await flow.in_mediation()
    assert case["due_on"] == "2031-02-28"  # one month; the shorter month's last day
    due = date(2031, 2, 28)
    mediator, director = flow.world.mediator_account, flow.world.director

    set_clock(due - timedelta(days=11))
    assert run(jobs.deadline_sweep, job_context) == 0
    set_clock(due - timedelta(days=10))
    assert run(jobs.deadline_sweep, job_context) == 1
    assert run(jobs.deadline_sweep, job_context) == 0  # the same day again: nobody told twice
    assert inbox(platform, mediator) == [f"调解期限将至：{case['case_no']}"]

    set_clock(due)
    assert run(jobs.deadline_sweep, job_context) == 2  # the mediator and the director
    overdue = await flow.ok(mediator, "GET", "/disputes?overdue=true")
    assert overdue == []  # due today is not overdue yet
    set_clock(due + timedelta(days=1))
    assert run(jobs.deadline_sweep, job_context) == 1
    assert inbox(platform, director) == [
        f"今日到期：{case['case_no']}",
        f"已超期：{case['case_no']}",
    ]
    listed = await flow.ok(mediator, "GET", "/disputes?overdue=true")
    assert [row["id"] for row in listed] == [case["id"]] and listed[0]["overdue"] is True
    detail = await flow.ok(mediator, "GET", f"/disputes/{case['id']}")
    assert detail["overdue"] is True


async def test_extension_only_with_both_parties_recorded_consent(
    flow, platform, set_clock, job_context
):
    set_clock(date(2031, 6, 1))
    case = await flow.in_mediation()
    dispute_id = case["id"]
    set_clock(date(2031, 7, 2))  # a day past the limit
    extend = f"/disputes/{dispute_id}/extension"
    body = {"until": "2031-07-20", "note": "双方同意继续调解"}
    answer = (await flow.call(flow.world.director, "POST", extend, body)).json()
    assert answer["code"] == "consent_missing" and len(answer["errors"]) == 2
    consents = f"/disputes/{dispute_id}/extension-consents"
    applicant, respondent = (p["id"] for p in case["parties"])
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        consents,
        {"party_id": applicant, "consented_on": "2031-07-01", "manner": "written"},
    )
    answer = (await flow.call(flow.world.director, "POST", extend, body)).json()
    assert answer["code"] == "consent_missing" and len(answer["errors"]) == 1
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        consents,
        {"party_id": respondent, "consented_on": "2031-07-02", "manner": "oral"},
    )
    # Only the director extends.
    response = await flow.call(flow.world.mediator_account, "POST", extend, body)
    assert response.status_code == 403
    extended = await flow.ok(flow.world.director, "POST", extend, body)
    assert extended["extended_until"] == "2031-07-20" and extended["deadline"] == "2031-07-20"
    assert extended["overdue"] is False
    assert extended["extensions"][0]["previous_deadline"] == "2031-07-01"
    assert run(jobs.deadline_sweep, job_context) == 0  # not overdue any more
    # The consents were used: a second extension needs new ones.
    again = (await flow.call(flow.world.director, "POST", extend, {"until": "2031-08-01"})).json()
    assert again["code"] == "consent_missing"
    earlier = (await flow.call(flow.world.director, "POST", extend, {"until": "2031-07-10"})).json()
    assert earlier["errors"][0]["rule"] == "not_later"


async def test_judicial_confirmation_only_within_the_window(flow, platform, set_clock, job_context):
    effective = date(2031, 4, 1)
    set_clock(effective)
    first = await flow.agreed(effective + timedelta(days=60))
    second = await flow.agreed(effective + timedelta(days=60))
    assert first["agreement"]["confirmation_deadline"] == "2031-05-01"
    last_day = date(2031, 5, 1)

    set_clock(effective + timedelta(days=19))
    assert run(jobs.confirmation_window, job_context) == 0
    set_clock(effective + timedelta(days=20))
    assert run(jobs.confirmation_window, job_context) == 2  # one mediator, two disputes
    assert run(jobs.confirmation_window, job_context) == 0

    set_clock(last_day)
    path = f"/disputes/{first['id']}/confirmation"
    done = await flow.ok(
        flow.world.mediator_account,
        "POST",
        path,
        {"applied_on": last_day.isoformat(), "court": "渝中区人民法院"},
    )
    assert done["confirmation"]["result"] == "applied"
    set_clock(last_day + timedelta(days=1))
    late = await flow.call(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{second['id']}/confirmation",
        {"applied_on": (last_day + timedelta(days=1)).isoformat(), "court": "渝中区人民法院"},
    )
    assert late.status_code == 409, late.text
    assert late.json()["errors"][0]["rule"] == "outside_window"
    assert "2031-05-01" in late.json()["message"]
    early = await flow.call(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{second['id']}/confirmation",
        {"applied_on": (effective - timedelta(days=1)).isoformat(), "court": "渝中区人民法院"},
    )
    assert early.json()["errors"][0]["rule"] == "outside_window"
    assert run(jobs.confirmation_window, job_context) == 1  # the second: window closed
    ruled = await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"{path}/ruling",
        {
            "result": "valid",
            "ruled_on": (last_day + timedelta(days=1)).isoformat(),
            "court_case_no": "（2031）渝0103民特1号",
        },
    )
    assert ruled["confirmation"]["result"] == "valid"


async def test_performance_reminders_and_urging(flow, platform, set_clock, job_context):
    start = date(2031, 9, 1)
    set_clock(start)
    case = await flow.agreed(start + timedelta(days=10))
    term = case["agreement"]["terms"][0]
    set_clock(start + timedelta(days=6))
    assert run(jobs.performance_sweep, job_context) == 0
    set_clock(start + timedelta(days=7))  # three days before
    assert run(jobs.performance_sweep, job_context) == 1
    set_clock(start + timedelta(days=10))
    assert run(jobs.performance_sweep, job_context) == 0  # the same reminder, once
    set_clock(start + timedelta(days=11))  # a day after the due day, nothing performed
    assert run(jobs.performance_sweep, job_context) == 1
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{case['id']}/terms/{term['id']}/events",
        {"event": "urged", "on": (start + timedelta(days=11)).isoformat()},
    )
    set_clock(start + timedelta(days=12))
    assert run(jobs.performance_sweep, job_context) == 0  # urged: no more urge tasks
    assert inbox(platform, flow.world.mediator_account)[-2:] == [
        f"协议条款即将到期：{case['case_no']} 第1项",
        f"请督促履行：{case['case_no']} 第1项",
    ]


async def test_follow_up_is_scheduled_after_the_last_performance(
    flow, platform, set_clock, job_context
):
    start = date(2031, 10, 1)
    set_clock(start)
    case = await flow.agreed(start + timedelta(days=10))
    term = case["agreement"]["terms"][0]
    set_clock(start + timedelta(days=5))
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{case['id']}/terms/{term['id']}/events",
        {"event": "performed", "on": (start + timedelta(days=5)).isoformat()},
    )
    assert run(jobs.followup_scheduler, job_context) == 0
    with platform.session_factory() as session:
        dispute = session.get(Dispute, case["id"])
        assert dispute.followup_due_on == start + timedelta(days=35)
    set_clock(start + timedelta(days=34))
    assert run(jobs.followup_scheduler, job_context) == 0
    set_clock(start + timedelta(days=35))
    assert run(jobs.followup_scheduler, job_context) == 1
    assert run(jobs.followup_scheduler, job_context) == 0
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{case['id']}/follow-ups",
        {
            "visited_on": (start + timedelta(days=35)).isoformat(),
            "performance_ok": True,
            "satisfaction": "fair",
        },
    )
    set_clock(start + timedelta(days=40))
    assert run(jobs.followup_scheduler, job_context) == 0


async def test_risk_escalation_tells_at_once_for_red_and_after_the_hours_for_orange(
    flow, platform, set_clock, job_context
):
    set_clock(date(2031, 11, 2), hour=9)
    red = await flow.registered(risk_level="red")
    orange = await flow.registered(risk_level="orange")
    # Registering them recorded the job for each; the app's worker runs it at once: for the
    # red one the director and the supervising offices (the officers above the village) are
    # told, for the orange one nobody yet.
    platform.jobs.broker.join("mediation", fail_fast=True)
    red_message = f"红色风险纠纷待报告：{red['case_no']}"
    assert inbox(platform, flow.world.officer) == [red_message]
    assert inbox(platform, flow.world.director) == [red_message]
    assert run(jobs.risk_escalation, job_context, dispute_id=red["id"]) == 0  # told once
    assert run(jobs.risk_escalation, job_context, dispute_id=orange["id"]) == 0
    set_clock(date(2031, 11, 3), hour=8)  # 23 hours later
    assert run(jobs.risk_escalation, job_context) == 0
    set_clock(date(2031, 11, 3), hour=9)  # 24 hours: orange not acknowledged
    assert run(jobs.risk_escalation, job_context) == 3  # director and two officers above
    assert inbox(platform, flow.world.officer)[-1] == f"橙色风险纠纷待报告：{orange['case_no']}"
    await flow.ok(
        flow.world.director,
        "POST",
        f"/disputes/{orange['id']}/escalations",
        {"reported_to": "judicial_office", "agency": "解放碑司法所"},
    )
    set_clock(date(2031, 11, 4))
    assert run(jobs.risk_escalation, job_context) == 0


async def test_casefile_check_closes_finished_disputes_and_lists_incomplete_files(
    flow, platform, set_clock, job_context
):
    start = date(2031, 12, 1)
    set_clock(start)
    case = await flow.in_mediation()
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{case['id']}/failure",
        {"other_routes_told": True},
    )
    assert run(jobs.casefile_check, job_context) == 1  # closed by the system
    assert run(jobs.casefile_check, job_context) == 0
    set_clock(start + timedelta(days=14))
    assert run(jobs.casefile_check, job_context) == 0
    set_clock(start + timedelta(days=15))
    assert run(jobs.casefile_check, job_context) == 2  # the clerk and the director, once
    assert run(jobs.casefile_check, job_context) == 0
    assert inbox(platform, flow.world.clerk) == [f"卷宗待补齐：{case['case_no']}"]


async def test_monthly_snapshot_is_replaced_not_duplicated(flow, platform, set_clock, job_context):
    set_clock(date(2032, 1, 10))
    await flow.registered()
    await flow.accepted()
    set_clock(date(2032, 2, 1))
    assert run(jobs.monthly_snapshot, job_context) == 1
    assert run(jobs.monthly_snapshot, job_context) == 1
    with platform.session_factory() as session:
        rows = session.exec(select(Snapshot)).all()
        assert len(rows) == 1 and rows[0].period == "2032-01"
        assert rows[0].figures["registered"] == 2 and rows[0].figures["accepted"] == 1


async def test_mediator_compliance_lists_terms_ending_and_missing_training(
    flow, platform, set_clock, job_context
):
    set_clock(date(2032, 3, 1))
    await flow.ok(
        flow.world.officer,
        "PATCH",
        f"/mediators/{flow.world.other_mediator.id}",
        {"term_end": "2032-04-15"},
    )
    # Those who manage mediators above the committee: the director and two officers.
    assert run(jobs.mediator_compliance, job_context) == 3
    assert run(jobs.mediator_compliance, job_context) == 0
    assert inbox(platform, flow.world.director) == [
        f"调解员任期将于 2032-04-15 届满（编号 {flow.world.other_mediator.id}）"
    ]


async def test_sweeps_leave_units_where_the_plugin_is_off_alone(
    flow, platform, set_clock, job_context
):
    set_clock(date(2032, 5, 2))
    case = await flow.in_mediation()
    with platform.session_factory() as session:
        set_plugin_enabled(
            session, session.get(Unit, flow.world.unit.id), "mediation", False, changed_by="test"
        )
        session.commit()
    set_clock(date(2032, 7, 1))
    for job in (jobs.deadline_sweep, jobs.casefile_check, jobs.risk_escalation):
        assert run(job, job_context) == 0
    with platform.session_factory() as session:
        assert session.exec(select(func.count()).select_from(Dispute)).one() == 1
        assert session.get(Dispute, case["id"]).status == "in_mediation"


def test_jobs_and_schedules_are_registered(platform):
    names = {name for name in platform.plugins.jobs if name.startswith("mediation.")}
    assert names == {
        "mediation.deadline_sweep",
        "mediation.performance_sweep",
        "mediation.followup_scheduler",
        "mediation.confirmation_window",
        "mediation.risk_escalation",
        "mediation.casefile_check",
        "mediation.monthly_snapshot",
        "mediation.mediator_compliance",
    }
    scheduled = {s.job for s in platform.plugins.schedules if s.job.startswith("mediation.")}
    assert scheduled == names
