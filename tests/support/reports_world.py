"""Steps of the audit test for the reports and unit-settings APIs."""

from datetime import timedelta

from core.reports.models import Report, ReportStatus
from core.unitconfig.services import local_today
from core.units.models import Unit, utcnow


def reports_audit_steps(client, platform, unit_tree, admin) -> list:
    """Every write route of the reports and settings APIs, called once successfully as
    ``admin`` (the city office, which handles every report), in an order the workflow
    accepts: a report is submitted, triaged, referred, closed and its reporter revealed; a
    second, already triaged, is handled at the unit; the district's triage limit is set.
    """
    ids: dict[str, int] = {}
    with platform.session_factory() as session:
        township = session.get(Unit, unit_tree.township.id)
        triaged = Report(
            unit_id=township.id,
            unit_path=township.path,
            origin_unit_id=township.id,
            origin_unit_path=township.path,
            category="opinion",
            title="审计：已分拣",
            body="审计：已分拣的报告",
            status=ReportStatus.triaged,
            triage_due_at=utcnow() + timedelta(hours=24),
        )
        session.add(triaged)
        session.commit()
        ids["triaged"] = triaged.id

    async def submit():
        response = await client.post(
            f"/api/v1/units/{unit_tree.village.id}/reports",
            json={"category": "clue", "body": "审计：有人夜间撬锁"},
            headers=admin.headers,
        )
        if response.status_code == 201:
            ids["report"] = response.json()["id"]
        return response

    def on_report(suffix: str, body: dict, key: str = "report"):
        return lambda: client.post(
            f"/api/v1/reports/{ids[key]}{suffix}", json=body, headers=admin.headers
        )

    report = "/api/v1/reports/{report_id:int}"
    return [
        ("POST", "/api/v1/units/{unit_id:int}/reports", 201, submit),
        ("POST", report + "/triage", 200, on_report("/triage", {"note": "审计"})),
        ("POST", report + "/referral", 200, on_report("/referral", {"referred_to": "派出所"})),
        ("POST", report + "/closure", 200, on_report("/closure", {"feedback": "已办结"})),
        ("POST", report + "/reporter", 200, on_report("/reporter", {"reason": "审计核实"})),
        ("POST", report + "/handling", 200, on_report("/handling", {}, key="triaged")),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/settings/{key:str}",
            201,
            lambda: client.post(
                f"/api/v1/units/{unit_tree.district.id}/settings/reports.triage_hours",
                json={"value": 12, "valid_from": local_today().isoformat()},
                headers=admin.headers,
            ),
        ),
    ]
