"""Records the route-generated security tests need for the insurance plugin's routes.

``tests/test_authorization_matrix.py``, ``tests/test_privacy_scan.py`` and
``tests/test_schemathesis.py`` fill every path parameter with a record that exists at the
target unit; this module makes one of each kind at the units given and says which id fills
which parameter. ``audit_steps`` is the insurance part of ``tests/test_audit.py``: one
successful call of every write route of the plugin's API, as the test's ``admin``.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from core.files.models import StoredFile
from core.hours.models import HoursEntry
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import ID_PURPOSE
from core.tasks.models import Assignment, AssignmentStatus, Point, Shift, Task
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from core.volunteers.models import Volunteer
from plugins.insurance.clock import CHINA
from plugins.insurance.models import (
    Attachment,
    Budget,
    ClaimDocument,
    CompensationCase,
    Disclosure,
    DonorQuery,
    ExpenseClaim,
    ExpenseLine,
    FundingSource,
    Incident,
    InsuranceClaim,
    InsurancePolicy,
    Payment,
    Reward,
)

#: Path parameters of the plugin's routes, in the order records are made.
PARAMETERS = (
    "source_id",
    "query_id",
    "disclosure_id",
    "budget_id",
    "policy_id",
    "incident_id",
    "claim_id",
    "file_id",
    "case_id",
    "reward_id",
    "expense_id",
    "payment_id",
    "report_name",
)
PDF = b"%PDF-1.4 security test"
#: Sensitive values the records hold in clear at rest (the privacy scan looks for them).
CLEAR = {
    "bank_account": "6222600011112222333",
    "payee_account": "6217000012345678901",
    "donor_name": "捐赠人甲某",
    "beneficiary_name": "受益人乙某",
}


def enable(session: Session, city: Unit) -> None:
    """Switch the plugin on at the top unit (its whole tree)."""
    set_plugin_enabled(
        session, session.get(Unit, city.id), "insurance", True, changed_by="security test"
    )


def populate(platform, units: list[Unit], *, city: Unit) -> dict[str, dict[int, object]]:
    """One record of every kind at each unit; parameter → unit id → the id that fills it."""
    ids: dict[str, dict[int, object]] = {name: {} for name in PARAMETERS}
    with platform.session_factory() as session:
        enable(session, city)
        for index, held in enumerate(units):
            unit = session.get(Unit, held.id)
            made = _records(session, platform.keyring, unit, index)
            for name, value in made.items():
                ids[name][unit.id] = value
        session.commit()
    return ids


def _records(session: Session, keyring, unit: Unit, index: int) -> dict[str, object]:
    at = datetime(2025, 3, 1, 9, tzinfo=CHINA)
    where = {"unit_id": unit.id, "unit_path": unit.path}
    first17 = f"500106199001{index + 1:02d}{unit.id % 1000:03d}"
    id_number = first17 + check_digit(first17)
    person = Person(
        **where,
        name=f"参保人{index}",
        id_number=id_number,
        id_number_index=keyring.blind_index(id_number, ID_PURPOSE),
    )
    session.add(person)
    session.flush()
    volunteer = Volunteer(person_id=person.id, **where, number=f"INS-SEC-{unit.id}-{index}")
    source = FundingSource(
        **where,
        kind="donation",
        name=f"捐赠{index}",
        donor_name=CLEAR["donor_name"],
        received_on=date(2025, 1, 2),
        amount_fen=100_000,
        bank_account=CLEAR["bank_account"],
    )
    point = Point(**where, name="岗亭")
    task = Task(
        **where, task_type="core.patrol", title="巡逻", starts_on=at.date(), ends_on=at.date()
    )
    session.add_all([volunteer, source, point, task])
    session.flush()
    shift = Shift(
        task_id=task.id,
        **where,
        point_id=point.id,
        starts_at=at,
        ends_at=at + timedelta(hours=3),
        checkin_secret="x" * 32,
    )
    session.add(shift)
    session.flush()
    assignment = Assignment(
        shift_id=shift.id,
        volunteer_id=volunteer.id,
        person_id=person.id,
        **where,
        home_unit_id=unit.id,
        home_unit_path=unit.path,
        starts_at=at,
        ends_at=at + timedelta(hours=3),
        status=AssignmentStatus.confirmed,
    )
    session.add(assignment)
    session.flush()
    session.add(
        HoursEntry(
            volunteer_id=volunteer.id,
            assignment_id=assignment.id,
            **where,
            home_unit_id=unit.id,
            home_unit_path=unit.path,
            service_date=at.date(),
            hours=Decimal(3),
        )
    )
    query = DonorQuery(
        source_id=source.id, unit_path=unit.path, received_on=date(2025, 2, 1), question="用途？"
    )
    disclosure = Disclosure(**where, year=2024 - index)
    budget = Budget(**where, fiscal_year=2025, category="other", amount_fen=10_000, status="draft")
    policy = InsurancePolicy(
        **where,
        insurer="安全测试保险",
        policy_no=f"SEC-{unit.id}",
        period_from=date(2025, 1, 1),
        period_to=date(2025, 12, 31),
        premium_fen=1_000,
    )
    session.add_all([query, disclosure, budget, policy])
    session.flush()
    budget.lineage_id = budget.id
    incident = Incident(
        **where,
        volunteer_id=volunteer.id,
        person_id=person.id,
        assignment_id=assignment.id,
        occurred_at=at + timedelta(hours=1),
        place="路口",
        description="扭伤",
        injury_kind="sprain",
        injury_detail="踝关节扭伤",
        reported_at=at + timedelta(hours=2),
        knowledge_date=at.date(),
        limitation_deadline=date(2027, 3, 1),
    )
    session.add(incident)
    session.flush()
    claim = InsuranceClaim(
        number=f"LP-SEC-{unit.id}",
        incident_id=incident.id,
        policy_id=policy.id,
        **where,
        claim_type="medical",
        claimant_person_id=person.id,
        beneficiary_name=CLEAR["beneficiary_name"],
        payee_account=CLEAR["payee_account"],
        medical_notes="门诊",
        claimed_fen=5_000,
        limitation_deadline=date(2027, 3, 1),
    )
    scan = StoredFile(
        name="scan.pdf",
        media_type="application/pdf",
        content=PDF,
        size=len(PDF),
        unit_path=unit.path,
    )
    session.add_all([claim, scan])
    session.flush()
    session.add(
        ClaimDocument(
            claim_id=claim.id, code="claim_form", received_at=at, original=True, file_id=scan.id
        )
    )
    case = CompensationCase(
        **where, person_id=person.id, basis="condolence", competent_dept="民政局", summary="慰问"
    )
    reward = Reward(
        **where,
        recipient_person_id=person.id,
        kind="commendation",
        basis_ref="表彰",
        amount_fen=1_000,
        payee_account=CLEAR["payee_account"],
    )
    expense = ExpenseClaim(
        number=f"BX-SEC-{unit.id}",
        **where,
        claimant_person_id=person.id,
        volunteer_id=volunteer.id,
        activity_date=at.date(),
        purpose="交通",
        payee_account=CLEAR["payee_account"],
        status="submitted",
        claimed_fen=1_000,
        submitted_at=at,
    )
    session.add_all([case, reward, expense])
    session.flush()
    line = ExpenseLine(
        expense_id=expense.id,
        expense_type="transport",
        spent_on=at.date(),
        amount_claimed_fen=1_000,
    )
    session.add(line)
    session.flush()
    session.add(
        Attachment(
            subject_type="expense_line", subject_id=line.id, file_id=scan.id, unit_path=unit.path
        )
    )
    payment = Payment(
        **where,
        doc_type="reward",
        doc_id=reward.id,
        payee_account=CLEAR["payee_account"],
        amount_fen=1_000,
        method="cash",
        voucher_no=f"PZ-SEC-{unit.id}",
    )
    session.add(payment)
    session.flush()
    return {
        "source_id": source.id,
        "query_id": query.id,
        "disclosure_id": disclosure.id,
        "budget_id": budget.id,
        "policy_id": policy.id,
        "incident_id": incident.id,
        "claim_id": claim.id,
        "file_id": scan.id,
        "case_id": case.id,
        "reward_id": reward.id,
        "expense_id": expense.id,
        "payment_id": payment.id,
        "report_name": "claims",
    }


# -- the audit test's steps ------------------------------------------------------------------


def audit_steps(client, platform, admin, tree) -> list[tuple]:
    """Every write route of the plugin's API called once, successfully, as ``admin``.

    Documents a step needs are brought to the right state by other people first (four eyes:
    ``admin`` takes one step on each), so each call succeeds and is audited under admin's name.
    """
    from core.accounts import services as accounts
    from core.accounts.models import User
    from plugins.insurance import claims, cover, expenses, rewards
    from plugins.insurance.tests.factories import (
        JPEG,
        active_budget,
        build_world,
        china,
        expense_claim,
        fund,
        policy,
        served,
    )
    from plugins.insurance.vocab import (
        Category,
        ClaimType,
        CompensationBasis,
        Decision,
        PaymentMethod,
        RewardKind,
    )

    world = build_world(platform, tree)
    ready: dict[str, int] = {}
    with platform.session_factory() as session:
        village = session.get(Unit, tree.village.id)
        me = session.get(User, admin.user_id)
        person = Person(unit_id=village.id, unit_path=village.path, name="审计管理员")
        session.add(person)
        session.flush()
        me.person_id = person.id
        session.add(me)
        for role in ("insurance.insured", "insurance.leader"):
            accounts.grant_role(session, platform.policy, None, me, role, village)
        for category in ("reward", "reimbursement", "premium", "compensation"):
            active_budget(session, world, category=Category(category), amount_fen=10_000_000)
        clerk, finance = world.actor(session, "clerk"), world.actor(session, "finance")
        covering = policy(session, world, number="AUDIT-COVER")
        cover.enrol_list(session, covering, [world.members["甲"].volunteer_id])
        ready["covering"] = covering.id
        assignment, _ = served(session, world, "甲", china(2025, 6, 1, 9))
        ready["assignment"] = assignment.id
        from plugins.insurance import incidents

        def incident():
            return incidents.report(
                session,
                reporter_user_id=world.users["leader"],
                within=world.unit(session, "district"),
                volunteer_id=world.members["甲"].volunteer_id,
                occurred_at=china(2025, 6, 1, 10),
                place="街口",
                description="扭伤",
                injury_kind="sprain",
                assignment_id=assignment.id,
                now=china(2025, 6, 1, 12),
            )

        ready["incident"] = incident().id
        agreed = claims.open_claim(
            session,
            clerk,
            incident(),
            policy_id=covering.id,
            claim_type=ClaimType.medical,
            claimed_fen=20_000,
            payee_account=CLEAR["payee_account"],
        )
        for document in claims.documents_of(session, agreed):
            claims.receive_document(session, clerk, agreed, document.code, original=True)
        claims.submit(session, clerk, agreed)
        claims.send_to_insurer(session, clerk, agreed, at=china(2025, 6, 2))
        claims.decide(
            session, clerk, agreed, Decision.approved, approved_fen=20_000, at=china(2025, 6, 10)
        )
        claims.agree(session, clerk, agreed, claimant_confirmed=True, at=china(2025, 6, 11))
        ready["agreed_claim"] = agreed.id
        district = world.unit(session, "district")
        june = china(2025, 6, 5)
        proposed = rewards.propose(
            session,
            finance,
            district,
            recipient_person_id=world.members["甲"].person_id,
            kind=RewardKind.clue,
            amount_fen=3_000,
            basis_ref="线索 1",
            now=june,
        )
        ready["proposed_reward"] = proposed.id
        approved = rewards.propose(
            session,
            finance,
            district,
            recipient_person_id=world.members["乙"].person_id,
            kind=RewardKind.commendation,
            amount_fen=5_000,
            basis_ref="表彰 1",
            now=june,
        )
        rewards.review(session, world.actor(session, "finance2"), approved)
        rewards.approve(session, world.actor(session, "approver_district"), approved)
        ready["approved_reward"] = approved.id
        paid = rewards.propose(
            session,
            finance,
            district,
            recipient_person_id=world.members["乙"].person_id,
            kind=RewardKind.commendation,
            amount_fen=4_000,
            basis_ref="表彰 2",
            now=june,
        )
        rewards.review(session, world.actor(session, "finance2"), paid)
        rewards.approve(session, world.actor(session, "approver_district"), paid)
        ready["payment"] = rewards.pay_reward(
            session, world.actor(session, "cashier"), paid, method=PaymentMethod.cash
        ).id
        case = rewards.refer(
            session,
            clerk,
            district,
            person_id=world.members["甲"].person_id,
            basis=CompensationBasis.condolence,
            competent_dept="区民政局",
            summary="受伤慰问",
            now=june,
        )
        rewards.record_decision(
            session, clerk, case, dept="区民政局", doc_no="民〔2025〕1号", amount_fen=0
        )
        rewards.approve_platform_aid(
            session,
            world.actor(session, "approver_district"),
            case,
            amount_fen=2_000,
            payee_account=CLEAR["payee_account"],
        )
        ready["approved_case"] = case.id
        reviewable = expense_claim(
            session, world, "甲", date(2025, 6, 3), [("transport", 1_200, None, None)]
        )
        expenses.submit(session, world.actor(session, "甲"), reviewable)
        expenses.confirm_activity(session, world.actor(session, "leader"), reviewable)
        ready["reviewable_expense"] = reviewable.id
        payable = expense_claim(
            session, world, "乙", date(2025, 6, 4), [("transport", 1_500, None, None)]
        )
        expenses.submit(session, world.actor(session, "乙"), payable)
        expenses.confirm_activity(session, world.actor(session, "leader"), payable)
        expenses.review(session, finance, payable)
        expenses.approve(session, world.actor(session, "approver"), payable)
        ready["payable_expense"] = payable.id
        ready["fund"] = fund(session, world, amount_fen=100_000).id
        ready["active_budget"] = active_budget(
            session, world, category=Category.training, amount_fen=5_000
        ).id
        session.commit()

    headers = admin.headers
    city = f"/api/v1/units/{tree.city.id}/insurance"
    district = f"/api/v1/units/{tree.district.id}/insurance"
    village = f"/api/v1/units/{tree.village.id}/insurance"
    base = "/api/v1/units/{unit_id:int}/insurance"
    made: dict[str, int] = {}

    def post(url, keep=None, **kwargs):
        async def call():
            values = {key: value() if callable(value) else value for key, value in kwargs.items()}
            response = await client.post(url() if callable(url) else url, headers=headers, **values)
            if keep and response.status_code < 300:
                body = response.json()
                made[keep] = body["id"]
                for index, line in enumerate(body.get("lines") or []):
                    if "id" in line:  # an expense's lines (a policy's have none)
                        made[f"{keep}_line{index}"] = line["id"]
            return response

        return call

    def later(template):
        return lambda: template.format(**made, **ready)

    return [
        (
            "POST",
            f"{base}/settings",
            201,
            post(
                f"{city}/settings",
                json={"key": "budget.warn_percent", "value": 85, "valid_from": "2030-01-01"},
            ),
        ),
        (
            "POST",
            f"{base}/rates",
            201,
            post(
                f"{city}/rates",
                json={"expense_type": "meals", "amount_fen": 3_000, "valid_from": "2030-01-01"},
            ),
        ),
        (
            "POST",
            f"{base}/sources",
            201,
            post(
                f"{district}/sources",
                keep="source",
                json={
                    "kind": "donation",
                    "name": "审计捐赠",
                    "amount_fen": 50_000,
                    "received_on": "2025-02-01",
                    "donor_name": "捐赠人丙",
                },
            ),
        ),
        (
            "POST",
            f"{base}/sources/{{source_id:int}}/receipt",
            200,
            post(later(district + "/sources/{source}/receipt"), json={"receipt_no": "JZ2025-0001"}),
        ),
        (
            "POST",
            f"{base}/sources/{{source_id:int}}/reveal",
            200,
            post(
                later(district + "/sources/{source}/reveal"),
                json={"fields": ["donor_name"], "reason": "开具捐赠票据"},
            ),
        ),
        (
            "POST",
            f"{base}/sources/{{source_id:int}}/queries",
            201,
            post(
                later(district + "/sources/{source}/queries"),
                keep="query",
                json={"question": "善款用途？", "received_on": "2025-03-01"},
            ),
        ),
        (
            "POST",
            f"{base}/donor-queries/{{query_id:int}}/answer",
            200,
            post(
                later(district + "/donor-queries/{query}/answer"), json={"answer": "用于志愿者保险"}
            ),
        ),
        (
            "POST",
            f"{base}/disclosures",
            201,
            post(
                f"{district}/disclosures",
                keep="disclosure",
                json={"year": 2025, "remainder_plan": "结转下年"},
            ),
        ),
        (
            "POST",
            f"{base}/disclosures/{{disclosure_id:int}}/publish",
            200,
            post(later(district + "/disclosures/{disclosure}/publish")),
        ),
        (
            "POST",
            f"{base}/budgets",
            201,
            post(
                f"{district}/budgets",
                keep="budget",
                json={
                    "fiscal_year": 2030,
                    "category": "training",
                    "allocations": [{"source_id": ready["fund"], "amount_fen": 1_000}],
                },
            ),
        ),
        (
            "POST",
            f"{base}/budgets/{{budget_id:int}}/steps",
            200,
            post(later(district + "/budgets/{budget}/steps"), json={"step": "submit"}),
        ),
        (
            "POST",
            f"{base}/budgets/{{budget_id:int}}/revisions",
            201,
            post(
                later(district + "/budgets/{active_budget}/revisions"),
                json={"allocations": [{"source_id": ready["fund"], "amount_fen": 6_000}]},
            ),
        ),
        (
            "POST",
            f"{base}/budget-exceptions",
            201,
            post(
                f"{district}/budget-exceptions",
                json={
                    "doc_type": "reward",
                    "doc_id": ready["proposed_reward"],
                    "amount_fen": 3_000,
                    "reason": "超出预算的线索奖励",
                },
            ),
        ),
        (
            "POST",
            f"{base}/payments/{{payment_id:int}}/reversal",
            200,
            post(later(district + "/payments/{payment}/reversal"), json={"reason": "退汇"}),
        ),
        (
            "POST",
            f"{base}/policies",
            201,
            post(
                f"{district}/policies",
                keep="policy",
                json={
                    "insurer": "审计保险",
                    "policy_no": "AUDIT-1",
                    "period_from": "2025-01-01",
                    "period_to": "2025-12-31",
                    "premium_fen": 10_000,
                    "scope_rule": "named_list",
                    "lines": [{"kind": "death", "limit_fen": 100_000}],
                },
            ),
        ),
        (
            "POST",
            f"{base}/policies/{{policy_id:int}}/enrolments",
            201,
            post(
                later(district + "/policies/{policy}/enrolments"),
                json={"volunteer_ids": [world.members["甲"].volunteer_id]},
            ),
        ),
        (
            "POST",
            f"{base}/policies/{{policy_id:int}}/premium",
            200,
            post(later(district + "/policies/{policy}/premium"), json={"step": "approve"}),
        ),
        (
            "POST",
            f"{base}/incidents",
            201,
            post(
                f"{village}/incidents",
                json={
                    "volunteer_id": world.members["甲"].volunteer_id,
                    "occurred_at": "2025-06-01T11:00:00+08:00",
                    "place": "街口",
                    "description": "划伤",
                    "injury_kind": "cut",
                    "assignment_id": ready["assignment"],
                },
            ),
        ),
        (
            "POST",
            f"{base}/claims",
            201,
            post(
                f"{district}/claims",
                keep="claim",
                json={
                    "incident_id": ready["incident"],
                    "policy_id": ready["covering"],
                    "claim_type": "medical",
                    "claimed_fen": 8_000,
                    "claimant_user_id": world.members["甲"].user_id,
                },
            ),
        ),
        (
            "POST",
            f"{base}/claims/{{claim_id:int}}/documents",
            200,
            post(
                later(district + "/claims/{claim}/documents"),
                json={"code": "claim_form", "original": True},
            ),
        ),
        (
            "POST",
            f"{base}/claims/{{claim_id:int}}/scans",
            201,
            post(
                later(district + "/claims/{claim}/scans"),
                data={"code": "diagnosis", "original": "true"},
                files={"file": ("诊断.jpg", JPEG, "image/jpeg")},
            ),
        ),
        (
            "POST",
            f"{base}/claims/{{claim_id:int}}/reveal",
            200,
            post(
                later(district + "/claims/{agreed_claim}/reveal"),
                json={"fields": ["payee_account"], "reason": "核对收款账户"},
            ),
        ),
        (
            "POST",
            f"{base}/claims/{{claim_id:int}}/steps",
            200,
            post(
                later(district + "/claims/{claim}/steps"),
                json={"step": "withdraw", "reason": "申请人放弃"},
            ),
        ),
        (
            "POST",
            f"{base}/claims/{{claim_id:int}}/payment",
            200,
            post(
                later(district + "/claims/{agreed_claim}/payment"),
                json={"paid_fen": 20_000, "bank_ref": "PICC-1"},
            ),
        ),
        (
            "POST",
            f"{base}/compensations",
            201,
            post(
                f"{district}/compensations",
                keep="case",
                json={
                    "person_id": world.members["乙"].person_id,
                    "basis": "fire_50",
                    "competent_dept": "区应急局",
                    "summary": "救火受伤",
                },
            ),
        ),
        (
            "POST",
            f"{base}/compensations/{{case_id:int}}/steps",
            200,
            post(
                later(district + "/compensations/{case}/steps"),
                json={
                    "step": "decision",
                    "dept": "区应急局",
                    "doc_no": "应急〔2025〕2号",
                    "amount_fen": 50_000,
                },
            ),
        ),
        (
            "POST",
            f"{base}/compensations/{{case_id:int}}/payment",
            200,
            post(
                later(district + "/compensations/{approved_case}/payment"), json={"method": "cash"}
            ),
        ),
        (
            "POST",
            f"{base}/rewards",
            201,
            post(
                f"{district}/rewards",
                keep="reward",
                json={
                    "recipient_person_id": world.members["乙"].person_id,
                    "kind": "clue",
                    "amount_fen": 2_000,
                    "basis_ref": "线索 9",
                },
            ),
        ),
        (
            "POST",
            f"{base}/rewards/{{reward_id:int}}/steps",
            200,
            post(later(district + "/rewards/{reward}/steps"), json={"step": "review"}),
        ),
        (
            "POST",
            f"{base}/rewards/{{reward_id:int}}/payment",
            200,
            post(later(district + "/rewards/{approved_reward}/payment"), json={"method": "cash"}),
        ),
        (
            "POST",
            f"{base}/expenses/{{expense_id:int}}/steps",
            200,
            post(later(district + "/expenses/{reviewable_expense}/steps"), json={"step": "review"}),
        ),
        (
            "POST",
            f"{base}/expenses/{{expense_id:int}}/reveal",
            200,
            post(
                later(district + "/expenses/{payable_expense}/reveal"), json={"reason": "银行转账"}
            ),
        ),
        (
            "POST",
            f"{base}/expenses/{{expense_id:int}}/payment",
            200,
            post(later(district + "/expenses/{payable_expense}/payment"), json={"method": "bank"}),
        ),
        (
            "POST",
            f"{base}/my/expenses",
            201,
            post(
                f"{village}/my/expenses",
                keep="mine",
                json={
                    "activity_date": "2025-06-01",
                    "purpose": "审计交通",
                    "lines": [
                        {"expense_type": "transport", "spent_on": "2025-06-01", "amount_fen": 900}
                    ],
                },
            ),
        ),
        (
            "POST",
            f"{base}/my/expenses/lines",
            201,
            post(
                village + "/my/expenses/lines",
                keep="mine",
                json=lambda: {
                    "expense_id": made["mine"],
                    "expense_type": "meals",
                    "spent_on": "2025-06-01",
                    "amount_fen": 500,
                },
            ),
        ),
        (
            "POST",
            f"{base}/my/expenses/lines/removal",
            200,
            post(
                village + "/my/expenses/lines/removal",
                json=lambda: {"expense_id": made["mine"], "line_id": made["mine_line1"]},
            ),
        ),
        (
            "POST",
            f"{base}/my/expenses/receipts",
            201,
            post(
                village + "/my/expenses/receipts",
                data=lambda: {"expense_id": str(made["mine"]), "line_id": str(made["mine_line0"])},
                files={"file": ("票.jpg", JPEG, "image/jpeg")},
            ),
        ),
        (
            "POST",
            f"{base}/my/expenses/submission",
            200,
            post(village + "/my/expenses/submission", json=lambda: {"expense_id": made["mine"]}),
        ),
        (
            "POST",
            f"{base}/my/expenses/cancellation",
            200,
            post(village + "/my/expenses/cancellation", json=lambda: {"expense_id": made["mine"]}),
        ),
    ]
