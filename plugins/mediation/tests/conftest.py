"""Fixtures of the mediation plugin's tests (the shared ones come from tests/support)."""

from datetime import UTC, date, datetime, time

import pytest

from plugins.mediation import clock
from plugins.mediation.tests.factories import build_world, intake


@pytest.fixture
def set_clock(monkeypatch):
    """Put the plugin's clock at a day in China (10:00 unless told), for every thread."""

    def set_to(day: date, hour: int = 10) -> datetime:
        moment = datetime.combine(day, time(hour), clock.CHINA).astimezone(UTC)
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment

    return set_to


@pytest.fixture
def world(platform, unit_tree, accounts):
    """A committee at the village with its mediators, and an account for every role."""
    return build_world(platform, unit_tree, accounts)


class Flow:
    """Taking a dispute through its steps through the API, as the right people."""

    def __init__(self, client, world) -> None:
        self.client, self.world = client, world
        self.base = f"/api/v1/units/{world.unit.id}/mediation"

    async def call(self, account, method: str, path: str, json=None):
        """A request to the plugin's API as ``account``."""
        return await self.client.request(
            method, self.base + path, json=json, headers=account.headers
        )

    async def ok(self, account, method: str, path: str, json=None) -> dict:
        response = await self.call(account, method, path, json)
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()

    async def registered(self, **overrides) -> dict:
        return await self.ok(
            self.world.clerk, "POST", "/disputes", intake(self.world.committee.id, **overrides)
        )

    async def informed(self, **overrides) -> dict:
        case = await self.registered(**overrides)
        for party in case["parties"]:
            case = await self.ok(
                self.world.clerk,
                "POST",
                f"/disputes/{case['id']}/parties/{party['id']}/notice",
                {"manner": "written", "consented": True},
            )
        return case

    async def accepted(self, **overrides) -> dict:
        case = await self.informed(**overrides)
        return await self.ok(self.world.director, "POST", f"/disputes/{case['id']}/acceptance", {})

    async def in_mediation(self, **overrides) -> dict:
        case = await self.accepted(**overrides)
        return await self.ok(
            self.world.director,
            "POST",
            f"/disputes/{case['id']}/assignments",
            {"mediators": [{"mediator_id": self.world.mediator.id}]},
        )

    async def drawn_up(self, due_on: date | None, **overrides) -> dict:
        case = await self.in_mediation(**overrides)
        applicant, respondent = case["parties"][0]["id"], case["parties"][1]["id"]
        term = {
            "obligor_party_id": respondent,
            "obligee_party_id": applicant,
            "content": "支付维修费",
            "amount_fen": 200000,
            "method": "银行转账",
            "place": "民族路社区调委会",
        }
        if due_on is not None:
            term["due_on"] = due_on.isoformat()
        return await self.ok(
            self.world.mediator_account,
            "PUT",
            f"/disputes/{case['id']}/agreement",
            {
                "form": "written",
                "facts": "漏水系楼上水管老化所致，楼上住户承担主要责任",
                "content": "楼上住户赔偿楼下住户维修费",
                "agreed_on": case["registered_at"][:10],
                "terms": [term],
            },
        )

    async def signed(self, due_on: date | None, **overrides) -> dict:
        case = await self.drawn_up(due_on, **overrides)
        for party in case["parties"]:
            case = await self.ok(
                self.world.mediator_account,
                "POST",
                f"/disputes/{case['id']}/agreement/signatures",
                {"party_id": party["id"], "signed_on": case["agreement"]["agreed_on"]},
            )
        case = await self.ok(
            self.world.mediator_account,
            "POST",
            f"/disputes/{case['id']}/agreement/mediator-signature",
            {},
        )
        return await self.ok(
            self.world.director, "POST", f"/disputes/{case['id']}/agreement/seal", {}
        )

    async def agreed(self, due_on: date | None, **overrides) -> dict:
        case = await self.signed(due_on, **overrides)
        return await self.ok(
            self.world.mediator_account, "POST", f"/disputes/{case['id']}/agreement-reached", {}
        )


@pytest.fixture
def flow(client, world) -> Flow:
    return Flow(client, world)


@pytest.fixture
def job_context(platform):
    """What a job receives when it runs: call ``job.fn(context=job_context)`` inline."""
    from core.jobs.runtime import JobContext

    return JobContext(None, platform.session_factory, platform.settings, platform.plugins)
