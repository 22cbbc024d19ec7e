"""The API: a reimbursement from submission to payment, a volunteer's own view, reveals."""

from datetime import date

import pytest
from sqlmodel import select

from core.audit.models import AuditEntry
from plugins.insurance.tests.factories import JPEG, active_budget, china, served
from plugins.insurance.vocab import Category

pytestmark = [pytest.mark.plugins("insurance"), pytest.mark.anyio]


def api(world, unit_name="village"):
    return f"/api/v1/units/{getattr(world.tree, unit_name).id}/insurance"


async def new_claim(client, world, member="甲", invoice=("050001900111", "00001234"), fen=3_500):
    base = api(world)
    response = await client.post(
        f"{base}/my/expenses",
        json={
            "activity_date": "2025-04-12",
            "purpose": "夜间巡逻往返交通",
            "payee_account": "6217000010001234567",
            "lines": [
                {
                    "expense_type": "transport",
                    "spent_on": "2025-04-12",
                    "amount_fen": fen,
                    "invoice_code": invoice[0],
                    "invoice_no": invoice[1],
                }
            ],
        },
        headers=world.headers(member),
    )
    assert response.status_code == 201, response.text
    claim = response.json()
    line = claim["lines"][0]["id"]
    upload = await client.post(
        f"{base}/my/expenses/receipts",
        data={"expense_id": str(claim["id"]), "line_id": str(line)},
        files={"file": ("发票.jpg", JPEG, "image/jpeg")},
        headers=world.headers(member),
    )
    assert upload.status_code == 201, upload.text
    return upload.json()


async def test_a_reimbursement_from_submission_to_payment_through_the_api(client, platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=1_000_000)
        served(session, world, "甲", china(2025, 4, 12, 19))
        session.commit()
    claim = await new_claim(client, world)
    assert claim["payee_account"] == "**** 4567"  # masked even for its owner
    base = api(world)
    submitted = await client.post(
        f"{base}/my/expenses/submission",
        json={"expense_id": claim["id"]},
        headers=world.headers("甲"),
    )
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    district = api(world, "district")
    for name, step in (("leader", "confirm"), ("finance", "review"), ("approver", "approve")):
        where = (
            api(world, "village")
            if name == "leader"
            else (api(world, "township") if name == "approver" else district)
        )
        response = await client.post(
            f"{where}/expenses/{claim['id']}/steps",
            json={"step": step},
            headers=world.headers(name),
        )
        assert response.status_code == 200, (name, response.text)
    # the account is revealed only at the payment step, to the cashier, with a reason
    revealed = await client.post(
        f"{district}/expenses/{claim['id']}/reveal",
        json={"reason": "办理银行转账"},
        headers=world.headers("cashier"),
    )
    assert revealed.status_code == 200 and revealed.json()["values"] == {
        "payee_account": "6217000010001234567"
    }
    paid = await client.post(
        f"{district}/expenses/{claim['id']}/payment",
        json={"method": "bank", "bank_ref": "B-1"},
        headers=world.headers("cashier"),
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["amount_fen"] == 3_500 and paid.json()["payee_account"] == "**** 4567"
    again = await client.post(
        f"{district}/expenses/{claim['id']}/reveal",
        json={"reason": "再看一次"},
        headers=world.headers("cashier"),
    )
    assert again.status_code == 409 and again.json()["errors"][0]["rule"] == "not_payment_step"
    with platform.session_factory() as session:
        reveals = session.exec(select(AuditEntry).where(AuditEntry.event == "reveal")).all()
    assert [(e.object_type, e.reason) for e in reveals] == [("insurance_expense", "办理银行转账")]
    sod = await client.get(f"{api(world, 'city')}/reports/sod", headers=world.headers("auditor"))
    assert sod.status_code == 200 and sod.json() == []
    trial = await client.get(f"{district}/ledger/trial-balance", headers=world.headers("auditor"))
    assert sum(row["balance_fen"] for row in trial.json()) == 0


async def test_a_volunteer_sees_only_their_own_claims_and_expenses(client, platform, world):
    mine = await new_claim(client, world, "甲")
    theirs = await new_claim(client, world, "乙", invoice=("1", "2"))
    base = api(world)
    listed = await client.get(f"{base}/my/expenses", headers=world.headers("甲"))
    assert [row["id"] for row in listed.json()] == [mine["id"]]
    for path, body in (
        ("/my/expenses/submission", {"expense_id": theirs["id"]}),
        ("/my/expenses/cancellation", {"expense_id": theirs["id"]}),
        (
            "/my/expenses/lines",
            {
                "expense_id": theirs["id"],
                "expense_type": "meals",
                "spent_on": "2025-04-12",
                "amount_fen": 100,
            },
        ),
        (
            "/my/expenses/lines/removal",
            {"expense_id": theirs["id"], "line_id": theirs["lines"][0]["id"]},
        ),
    ):
        response = await client.post(base + path, json=body, headers=world.headers("甲"))
        assert response.status_code == 404, (path, response.text)
    receipt = theirs["lines"][0]["receipt_file_ids"][0]
    response = await client.get(
        f"{base}/my/receipts",
        params={"expense_id": theirs["id"], "file_id": receipt},
        headers=world.headers("甲"),
    )
    assert response.status_code == 404
    own_receipt = mine["lines"][0]["receipt_file_ids"][0]
    response = await client.get(
        f"{base}/my/receipts",
        params={"expense_id": mine["id"], "file_id": own_receipt},
        headers=world.headers("甲"),
    )
    assert response.status_code == 200 and response.content == JPEG
    # the staff lists are not theirs to read
    for path in ("/expenses", "/claims", "/incidents", "/budgets", f"/expenses/{theirs['id']}"):
        response = await client.get(base + path, headers=world.headers("甲"))
        assert response.status_code == 403, path
    # nor are drafts visible to staff: a draft is the claimant's own
    draft = await client.get(
        f"{api(world, 'district')}/expenses/{mine['id']}", headers=world.headers("finance")
    )
    assert draft.status_code == 404
    queue = await client.get(f"{api(world, 'district')}/expenses", headers=world.headers("finance"))
    assert queue.json() == []


async def test_a_duplicate_invoice_is_refused_in_another_unit_through_the_api(
    client, platform, world
):
    first = await new_claim(client, world, "甲", invoice=("3100", "777"))
    response = await client.post(
        f"{api(world)}/my/expenses/submission",
        json={"expense_id": first["id"]},
        headers=world.headers("甲"),
    )
    assert response.status_code == 200
    far = f"/api/v1/units/{world.members['丙'].unit_id}/insurance"
    created = await client.post(
        f"{far}/my/expenses",
        json={
            "activity_date": "2025-04-13",
            "purpose": "同一张发票",
            "lines": [
                {
                    "expense_type": "transport",
                    "spent_on": "2025-04-13",
                    "amount_fen": 3_500,
                    "invoice_code": "3100",
                    "invoice_no": "777",
                }
            ],
        },
        headers=world.headers("丙"),
    )
    claim = created.json()
    await client.post(
        f"{far}/my/expenses/receipts",
        data={"expense_id": str(claim["id"]), "line_id": str(claim["lines"][0]["id"])},
        files={"file": ("r.pdf", b"%PDF-1.7", "application/pdf")},
        headers=world.headers("丙"),
    )
    refused = await client.post(
        f"{far}/my/expenses/submission",
        json={"expense_id": claim["id"]},
        headers=world.headers("丙"),
    )
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "duplicate_invoice"
    assert body["errors"] == [
        {
            "field": "lines.0.invoice_no",
            "rule": "duplicate_invoice",
            "message": body["errors"][0]["message"],
        }
    ]
    mine = await client.get(f"{far}/my/expenses", headers=world.headers("丙"))
    assert mine.json()[0]["lines"][0]["duplicate_flag"] is True


async def test_the_leader_sees_that_an_incident_exists_not_its_detail(client, platform, world):
    with platform.session_factory() as session:
        assignment, _ = served(session, world, "甲", china(2025, 3, 1, 19))
        session.commit()
    reported = await client.post(
        f"{api(world)}/incidents",
        json={
            "volunteer_id": world.members["甲"].volunteer_id,
            "occurred_at": "2025-03-01T21:00:00+08:00",
            "place": "解放碑",
            "description": "巡逻中摔伤",
            "injury_kind": "fracture",
            "assignment_id": assignment.id,
            "injury_detail": "左腕骨折",
            "witnesses": "张三 13800001111",
        },
        headers=world.headers("leader"),
    )
    assert reported.status_code == 201, reported.text
    listed = await client.get(f"{api(world)}/incidents", headers=world.headers("leader"))
    assert set(listed.json()[0]) == {
        "id",
        "unit_id",
        "volunteer_id",
        "occurred_at",
        "reported_same_day",
        "claim_status",
    }
    detail = await client.get(
        f"{api(world)}/incidents/{reported.json()['id']}", headers=world.headers("leader")
    )
    assert detail.status_code == 403
    clerk = await client.get(
        f"{api(world, 'district')}/incidents/{reported.json()['id']}",
        headers=world.headers("clerk"),
    )
    assert clerk.json()["injury_detail"] == "******" and "13800001111" not in clerk.text


async def test_reports_as_json_and_as_an_audited_workbook(client, platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reward, amount_fen=100_000)
        session.commit()
    district = api(world, "district")
    rows = await client.get(
        f"{district}/reports/budget-execution",
        params={"year": 2025},
        headers=world.headers("finance"),
    )
    assert rows.status_code == 200 and rows.json()[0]["budget_fen"] == 100_000
    book = await client.get(
        f"{district}/reports/budget-execution",
        params={"year": 2025, "format": "xlsx"},
        headers=world.headers("finance"),
    )
    assert book.status_code == 200 and book.content[:2] == b"PK"
    refused = await client.get(
        f"{district}/reports/budget-execution",
        params={"format": "xlsx"},
        headers=world.headers("approver_district"),
    )
    assert refused.status_code == 403  # reading is not exporting
    with platform.session_factory() as session:
        exports = session.exec(select(AuditEntry).where(AuditEntry.event == "export")).all()
    assert [e.object_id for e in exports] == ["budget-execution"]
    assert (
        await client.get(f"{district}/reports/nothing", headers=world.headers("finance"))
    ).status_code == 404
    assert date  # years are plain integers in the query
