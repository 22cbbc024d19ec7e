"""The dispute's state machine through the API: each transition by the role that takes it,
every other caller refused with the reason, and what each transition requires."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from plugins.mediation import clock
from plugins.mediation.jobs import casefile_check
from plugins.mediation.models import Dispute, DisputeStep, Party
from plugins.mediation.tests.factories import director_mediator_id, intake

pytestmark = pytest.mark.anyio


def refused(response, status: int, code: str | None = None) -> dict:
    """Assert a refusal in the common shape, with a message; return its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert body["message"]
    if code:
        assert body["code"] == code, body
    for error in body["errors"]:
        assert error["field"] and error["rule"] and error["message"], body
    return body


def steps_of(platform, dispute_id: int) -> list[tuple[str, str, str]]:
    with platform.session_factory() as session:
        rows = session.exec(
            select(DisputeStep).where(DisputeStep.dispute_id == dispute_id).order_by(DisputeStep.id)
        ).all()
        return [(row.transition, row.from_status, row.to_status) for row in rows]


# -- registration ----------------------------------------------------------------------------


async def test_registration_numbers_cases_per_committee_and_year_never_reused(flow, platform):
    first = await flow.registered()
    second = await flow.registered()
    assert first["status"] == "registered" and first["restricted"] is False
    year = clock.today().year
    assert first["case_no"] == f"（{year}）民族路人调字第1号"
    assert second["case_no"] == f"（{year}）民族路人调字第2号"
    # A registration refused after its number was taken gives the number back (rollback);
    # a committed number is never issued again.
    bad = await flow.call(
        flow.world.clerk,
        "POST",
        "/disputes",
        {**(await _intake(flow)), "category": "no_such_category"},
    )
    refused(bad, 400)
    third = await flow.registered()
    assert third["case_no"].endswith("第3号")
    assert steps_of(platform, first["id"]) == [("register", "new", "registered")]


async def _intake(flow) -> dict:
    return intake(flow.world.committee.id)


async def test_registration_needs_both_sides_and_valid_identity(flow):
    body = await _intake(flow)
    only_one = {**body, "parties": body["parties"][:1] + [{**body["parties"][0], "name": "甲"}]}
    refused(await flow.call(flow.world.clerk, "POST", "/disputes", only_one), 400)
    bad_id = {
        **body,
        "parties": [{**body["parties"][0], "id_no": "500103198808081230"}, body["parties"][1]],
    }
    answer = refused(await flow.call(flow.world.clerk, "POST", "/disputes", bad_id), 400)
    assert answer["errors"][0]["field"] == "parties.0.id_no"
    assert answer["errors"][0]["rule"] == "check_digit"
    # Nobody may register at a committee outside their reach, nor without the action.
    refused(await flow.call(flow.world.collector, "POST", "/disputes", body), 403)


# -- acceptance ---------------------------------------------------------------------------------


async def test_acceptance_by_the_director_after_notice_and_consent(flow, platform):
    case = await flow.registered()
    path = f"/disputes/{case['id']}/acceptance"
    # Not yet informed: refused, naming each party and the missing consent.
    answer = refused(await flow.call(flow.world.director, "POST", path, {}), 409, "precondition")
    rules = {error["rule"] for error in answer["errors"]}
    assert rules == {"not_informed", "no_consent"}
    for party in case["parties"]:
        await flow.ok(
            flow.world.clerk,
            "POST",
            f"/disputes/{case['id']}/parties/{party['id']}/notice",
            {"manner": "written", "consented": party["role"] == "applicant"},
        )
    for account in (
        flow.world.mediator_account,
        flow.world.clerk,
        flow.world.officer,
        flow.world.collector,
    ):
        refused(await flow.call(account, "POST", path, {}), 403)
    accepted = await flow.ok(flow.world.director, "POST", path, {"note": "属于受理范围"})
    assert accepted["status"] == "accepted"
    assert accepted["due_on"] == clock.add_months(clock.today(), 1).isoformat()
    # Twice: refused for the status, saying when it would be possible.
    answer = refused(await flow.call(flow.world.director, "POST", path, {}), 409, "wrong_status")
    assert "已登记" in answer["message"] or "registered" in answer["message"]


async def test_non_acceptance_needs_a_coded_reason(flow, platform):
    case = await flow.registered()
    path = f"/disputes/{case['id']}/non-acceptance"
    refused(await flow.call(flow.world.director, "POST", path, {"reason": "because"}), 400)
    refused(await flow.call(flow.world.director, "POST", path, {"reason": "other"}), 400)
    refused(
        await flow.call(flow.world.mediator_account, "POST", path, {"reason": "court_accepted"}),
        403,
    )
    done = await flow.ok(flow.world.director, "POST", path, {"reason": "court_accepted"})
    assert done["status"] == "not_accepted" and done["not_accepted_reason"] == "court_accepted"
    assert done["outcome"] == "not_accepted"


# -- assignment -----------------------------------------------------------------------------------


async def test_assignment_by_the_director_of_active_mediators_of_the_committee(flow, platform):
    case = await flow.accepted()
    path = f"/disputes/{case['id']}/assignments"
    pick = {"mediators": [{"mediator_id": flow.world.mediator.id}]}
    refused(await flow.call(flow.world.mediator_account, "POST", path, pick), 403)
    refused(await flow.call(flow.world.clerk, "POST", path, pick), 403)
    conflict = {
        "mediators": [
            {
                "mediator_id": flow.world.mediator.id,
                "conflict_declared": True,
                "conflict_note": "与被申请人是亲戚",
            }
        ]
    }
    answer = refused(await flow.call(flow.world.director, "POST", path, conflict), 409)
    assert answer["errors"][0]["rule"] == "conflict"
    done = await flow.ok(flow.world.director, "POST", path, pick)
    assert done["status"] == "in_mediation"
    assert [m["mediator_id"] for m in done["mediators"]] == [flow.world.mediator.id]
    again = refused(await flow.call(flow.world.director, "POST", path, pick), 409)
    assert again["errors"][0]["rule"] == "duplicate"


async def test_a_suspended_mediator_is_not_assigned(flow, platform):
    case = await flow.accepted()
    suspended = await flow.call(
        flow.world.officer,
        "POST",
        f"/mediators/{flow.world.other_mediator.id}/status",
        {"status": "suspended", "reason": "partiality", "note": "偏袒一方"},
    )
    assert suspended.status_code == 200, suspended.text
    answer = refused(
        await flow.call(
            flow.world.director,
            "POST",
            f"/disputes/{case['id']}/assignments",
            {"mediators": [{"mediator_id": flow.world.other_mediator.id}]},
        ),
        409,
    )
    assert answer["errors"][0]["rule"] == "not_active"


# -- refusal ends the mediation ----------------------------------------------------------------


async def test_a_partys_refusal_ends_the_mediation(flow, platform, job_context):
    case = await flow.in_mediation()
    respondent = case["parties"][1]["id"]
    path = f"/disputes/{case['id']}/refusal"
    body = {"party_id": respondent, "note": "被申请人明确表示不接受调解"}
    answer = refused(await flow.call(flow.world.other_mediator_account, "POST", path, body), 403)
    assert answer["code"] == "wrong_role" and "承办" in answer["message"] + "assigned"
    refused(await flow.call(flow.world.clerk, "POST", path, body), 403)
    done = await flow.ok(flow.world.mediator_account, "POST", path, body)
    assert done["status"] == "refused" and done["outcome"] == "refused"
    assert next(p for p in done["parties"] if p["id"] == respondent)["refused_at"]
    # Nothing more happens on it but the system's closing.
    refused(
        await flow.call(
            flow.world.mediator_account,
            "POST",
            f"/disputes/{case['id']}/failure",
            {"other_routes_told": True},
        ),
        409,
        "wrong_status",
    )
    casefile_check.fn(context=job_context)
    assert steps_of(platform, case["id"])[-1] == ("close_finished", "refused", "closed")


async def test_the_director_records_a_refusal_before_mediators_are_assigned(flow):
    case = await flow.accepted()
    body = {"party_id": case["parties"][0]["id"]}
    refused(
        await flow.call(
            flow.world.mediator_account, "POST", f"/disputes/{case['id']}/refusal", body
        ),
        403,
    )
    done = await flow.ok(flow.world.director, "POST", f"/disputes/{case['id']}/refusal", body)
    assert done["status"] == "refused"


# -- failure ------------------------------------------------------------------------------------


async def test_failure_requires_telling_the_parties_of_other_routes(flow):
    case = await flow.in_mediation()
    path = f"/disputes/{case['id']}/failure"
    answer = refused(
        await flow.call(flow.world.mediator_account, "POST", path, {"other_routes_told": False}),
        400,
    )
    assert answer["errors"][0]["field"] == "other_routes_told"
    refused(
        await flow.call(flow.world.director, "POST", path, {"other_routes_told": True}),
        403,
        "wrong_role",
    )
    done = await flow.ok(flow.world.mediator_account, "POST", path, {"other_routes_told": True})
    assert done["status"] == "failed" and done["outcome"] == "failed"


# -- the agreement --------------------------------------------------------------------------------


async def test_a_written_agreement_takes_effect_only_with_every_signature_and_the_seal(flow):
    case = await flow.drawn_up(None)
    dispute_id = case["id"]
    reach = f"/disputes/{dispute_id}/agreement-reached"
    answer = refused(await flow.call(flow.world.mediator_account, "POST", reach, {}), 409)
    assert answer["code"] == "agreement_not_effective"
    missing = {error["field"] for error in answer["errors"]}
    assert missing == {
        *(f"signature.{p['id']}" for p in case["parties"]),
        "mediator_signature",
        "seal",
    }
    for party in case["parties"]:
        case = await flow.ok(
            flow.world.mediator_account,
            "POST",
            f"/disputes/{dispute_id}/agreement/signatures",
            {"party_id": party["id"], "signed_on": case["agreement"]["agreed_on"]},
        )
    # Only the director seals; only a mediator of the case signs as mediator.
    refused(
        await flow.call(
            flow.world.mediator_account, "POST", f"/disputes/{dispute_id}/agreement/seal", {}
        ),
        403,
    )
    refused(
        await flow.call(
            flow.world.other_mediator_account,
            "POST",
            f"/disputes/{dispute_id}/agreement/mediator-signature",
            {},
        ),
        403,
        "wrong_role",
    )
    case = await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{dispute_id}/agreement/mediator-signature",
        {},
    )
    assert case["agreement"]["effective_at"] is None
    assert case["agreement"]["missing_for_effect"] == ["seal"]
    case = await flow.ok(flow.world.director, "POST", f"/disputes/{dispute_id}/agreement/seal", {})
    assert case["agreement"]["effective_at"] is not None
    refused(
        await flow.call(flow.world.other_mediator_account, "POST", reach, {}), 403, "wrong_role"
    )
    refused(await flow.call(flow.world.director, "POST", reach, {}), 403, "wrong_role")
    done = await flow.ok(flow.world.mediator_account, "POST", reach, {})
    # A term still to perform: the system passes the dispute on to performance.
    assert done["status"] == "performing" and done["outcome"] == "agreement_written"
    assert [s["transition"] for s in done["history"]][-2:] == [
        "reach_agreement",
        "start_performing",
    ]
    assert done["history"][-1]["by"] is None


async def test_an_oral_agreement_is_effective_when_entered_and_performed_at_once(flow):
    case = await flow.in_mediation()
    dispute_id = case["id"]
    entry = {
        "form": "oral",
        "facts": "双方就噪音问题达成谅解",
        "content": "楼上住户晚十点后不再装修",
        "agreed_on": clock.today().isoformat(),
    }
    case = await flow.ok(
        flow.world.mediator_account, "PUT", f"/disputes/{dispute_id}/agreement", entry
    )
    assert case["agreement"]["effective_at"] is not None
    done = await flow.ok(
        flow.world.mediator_account, "POST", f"/disputes/{dispute_id}/agreement-reached", {}
    )
    assert done["status"] == "agreement_reached" and done["outcome"] == "agreement_oral"
    refused(
        await flow.call(
            flow.world.other_mediator_account, "POST", f"/disputes/{dispute_id}/performed", {}
        ),
        403,
        "wrong_role",
    )
    done = await flow.ok(
        flow.world.mediator_account, "POST", f"/disputes/{dispute_id}/performed", {}
    )
    assert done["status"] == "performed"


async def test_written_agreement_needs_terms_and_terms_name_parties_of_the_case(flow):
    case = await flow.in_mediation()
    path = f"/disputes/{case['id']}/agreement"
    base = {
        "form": "written",
        "facts": "事实",
        "content": "内容",
        "agreed_on": clock.today().isoformat(),
    }
    answer = refused(await flow.call(flow.world.mediator_account, "PUT", path, base), 400)
    assert answer["errors"][0]["field"] == "terms"
    stranger = {**base, "terms": [{"obligor_party_id": 999999, "content": "付款"}]}
    answer = refused(await flow.call(flow.world.mediator_account, "PUT", path, stranger), 400)
    assert answer["errors"][0]["field"] == "terms.0.obligor_party_id"


# -- performance, default, follow-up, closing, archive -----------------------------------


async def test_performance_default_and_closing_of_a_defaulted_dispute(flow, platform, set_clock):
    start = date(2031, 3, 2)
    set_clock(start)
    case = await flow.agreed(start + timedelta(days=10))
    dispute_id = case["id"]
    term = case["agreement"]["terms"][0]
    events = f"/disputes/{dispute_id}/terms/{term['id']}/events"
    default = f"/disputes/{dispute_id}/default"
    # Not overdue yet: no urging, no default.
    answer = refused(
        await flow.call(
            flow.world.mediator_account, "POST", events, {"event": "urged", "on": start.isoformat()}
        ),
        409,
    )
    assert answer["errors"][0]["rule"] == "not_due"
    set_clock(start + timedelta(days=12))
    answer = refused(
        await flow.call(flow.world.mediator_account, "POST", default, {"term_id": term["id"]}), 409
    )
    assert answer["errors"][0]["rule"] == "not_urged"
    urged_on = (start + timedelta(days=11)).isoformat()
    await flow.ok(flow.world.mediator_account, "POST", events, {"event": "urged", "on": urged_on})
    refused(
        await flow.call(
            flow.world.other_mediator_account, "POST", default, {"term_id": term["id"]}
        ),
        403,
        "wrong_role",
    )
    done = await flow.ok(flow.world.mediator_account, "POST", default, {"term_id": term["id"]})
    assert done["status"] == "defaulted"
    close = f"/disputes/{dispute_id}/closure"
    answer = refused(await flow.call(flow.world.mediator_account, "POST", close, {}), 400)
    assert answer["errors"][0]["field"] == "told_may_sue"
    closed = await flow.ok(flow.world.mediator_account, "POST", close, {"remediate": True})
    assert closed["status"] == "closed"
    with platform.session_factory() as session:
        again = session.exec(select(Dispute).where(Dispute.reopened_from_id == dispute_id)).one()
        assert again.status == "registered" and again.source == "initiative"
        parties = session.exec(select(Party).where(Party.dispute_id == again.id)).all()
        assert sorted(p.name for p in parties) == ["刘被申", "陈申请"]
        assert all(p.informed_at is None for p in parties)  # told again in the new case


async def test_performed_then_follow_up_then_close_then_archive(flow, platform, set_clock):
    start = date(2031, 5, 6)
    set_clock(start)
    case = await flow.agreed(start + timedelta(days=5))
    dispute_id = case["id"]
    term = case["agreement"]["terms"][0]
    performed = await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{dispute_id}/terms/{term['id']}/events",
        {"event": "performed", "on": start.isoformat(), "amount_fen": 200000},
    )
    # The last term performed: the system marks the dispute performed.
    assert performed["status"] == "performed"
    assert performed["history"][-1]["transition"] == "complete"
    close = f"/disputes/{dispute_id}/closure"
    answer = refused(await flow.call(flow.world.mediator_account, "POST", close, {}), 409)
    assert answer["errors"][0]["field"] == "follow_up"
    await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{dispute_id}/follow-ups",
        {"visited_on": start.isoformat(), "performance_ok": True, "satisfaction": "satisfied"},
    )
    refused(await flow.call(flow.world.director, "POST", close, {}), 403, "wrong_role")
    closed = await flow.ok(flow.world.mediator_account, "POST", close, {})
    assert closed["status"] == "closed" and closed["retention_class"] == "short"

    # Archiving: the clerk, once every required document is in the file.
    archive = f"/disputes/{dispute_id}/archive"
    refused(await flow.call(flow.world.mediator_account, "POST", archive, {}), 403)
    answer = refused(
        await flow.call(flow.world.clerk, "POST", archive, {}), 409, "casefile_incomplete"
    )
    missing = {error["field"] for error in answer["errors"]}
    assert missing == {
        "case_file.intake",
        "case_file.rights_notice",
        "case_file.identity",
        "case_file.mediation_record",
        "case_file.agreement",
        "case_file.back_cover",
    }
    for document in ("intake", "rights_notice", "identity", "mediation_record", "agreement"):
        await flow.ok(
            flow.world.clerk,
            "PUT",
            f"/disputes/{dispute_id}/case-file",
            {"document": document, "pages": 2},
        )
    # One required document still missing: still refused, naming only it.
    answer = refused(
        await flow.call(flow.world.clerk, "POST", archive, {}), 409, "casefile_incomplete"
    )
    assert [error["field"] for error in answer["errors"]] == ["case_file.back_cover"]
    await flow.ok(
        flow.world.clerk, "PUT", f"/disputes/{dispute_id}/case-file", {"document": "back_cover"}
    )
    archived = await flow.ok(flow.world.clerk, "POST", archive, {})
    assert archived["status"] == "archived" and archived["archived_at"]
    # Archived: nothing changes any more.
    refused(
        await flow.call(
            flow.world.clerk, "PUT", f"/disputes/{dispute_id}/case-file", {"document": "evidence"}
        ),
        409,
        "wrong_status",
    )


# -- escalation --------------------------------------------------------------------------------


async def test_red_risk_forces_a_report_before_the_dispute_moves_on(flow, platform):
    case = await flow.informed(risk_level="red")
    dispute_id = case["id"]
    answer = refused(
        await flow.call(flow.world.director, "POST", f"/disputes/{dispute_id}/acceptance", {}),
        409,
        "escalation_required",
    )
    assert answer["errors"][0]["field"] == "risk_level"
    report = {"reported_to": "police", "agency": "解放碑派出所", "note": "双方扬言动手"}
    path = f"/disputes/{dispute_id}/escalations"
    refused(
        await flow.call(flow.world.other_mediator_account, "POST", path, report), 403, "wrong_role"
    )
    refused(await flow.call(flow.world.clerk, "POST", path, report), 403)
    reported = await flow.ok(flow.world.director, "POST", path, report)
    assert reported["escalation_reported_at"]
    assert reported["escalations"][0]["agency"] == "解放碑派出所"
    accepted = await flow.ok(flow.world.director, "POST", f"/disputes/{dispute_id}/acceptance", {})
    assert accepted["status"] == "accepted"


async def test_raising_the_risk_to_red_blocks_until_reported(flow, platform):
    case = await flow.in_mediation()
    dispute_id = case["id"]
    raised = await flow.ok(
        flow.world.mediator_account, "PATCH", f"/disputes/{dispute_id}", {"risk_level": "red"}
    )
    assert raised["risk_level"] == "red"
    await flow.ok(
        flow.world.mediator_account,
        "PUT",
        f"/disputes/{dispute_id}/agreement",
        {"form": "oral", "facts": "f", "content": "c", "agreed_on": clock.today().isoformat()},
    )
    refused(
        await flow.call(
            flow.world.mediator_account, "POST", f"/disputes/{dispute_id}/agreement-reached", {}
        ),
        409,
        "escalation_required",
    )
    # Ending the mediation stays possible without the report.
    done = await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{dispute_id}/failure",
        {"other_routes_told": True},
    )
    assert done["status"] == "failed"


# -- the director as a mediator -----------------------------------------------------------------


async def test_a_director_assigned_as_mediator_takes_mediator_steps(flow, platform):
    case = await flow.accepted()
    own = director_mediator_id(platform, flow.world)
    await flow.ok(
        flow.world.director,
        "POST",
        f"/disputes/{case['id']}/assignments",
        {"mediators": [{"mediator_id": own}]},
    )
    done = await flow.ok(
        flow.world.director,
        "POST",
        f"/disputes/{case['id']}/failure",
        {"other_routes_told": True},
    )
    assert done["status"] == "failed"


async def test_a_session_time_without_offset_is_chinas_and_sessions_are_private(flow, set_clock):
    set_clock(date(2033, 6, 1), hour=12)
    case = await flow.in_mediation()
    path = f"/disputes/{case['id']}/sessions"
    body = {"held_at": "2033-06-01T09:00:00", "place": "调解室", "summary": "首次调解"}
    done = await flow.ok(flow.world.mediator_account, "POST", path, body)
    session = done["sessions"][0]
    assert session["held_at"].startswith("2033-06-01T01:00:00") and session["public"] is False
    future = await flow.call(
        flow.world.mediator_account, "POST", path, {**body, "held_at": "2033-06-01T13:00:00"}
    )
    assert future.status_code == 400
    # Public only with both confirmations, and never over a party's objection.
    public = {**body, "public": True, "no_party_objects": True}
    refused(await flow.call(flow.world.mediator_account, "POST", path, public), 409)
    public["no_secret_involved"] = True
    assert (await flow.ok(flow.world.mediator_account, "POST", path, public))["sessions"]
