"""The training gate: no mediator is assigned to a case before the required modules are done.

The gate asks core training (``core.training.qualifications.missing_modules``); the tests
record qualifications through core training's own ``grant``, as an office would by hand.
"""

from datetime import date, timedelta

import pytest

from core.people.models import Person
from core.training.models import QualificationSource
from core.training.qualifications import grant
from plugins.mediation import clock, gate
from plugins.mediation.settings import defaults
from plugins.mediation.tests.factories import Flow, build_world

pytestmark = pytest.mark.anyio
REQUIRED = defaults()["required_modules"]


def qualify(platform, session, person_id: int, codes, on: date) -> None:
    """Record that the person completed each module on ``on`` (a valid qualification)."""
    modules = platform.plugins.training_modules
    person = session.get(Person, person_id)
    for code in codes:
        grant(
            session,
            person,
            modules[code],
            granted_on=on,
            source=QualificationSource.manual,
            granted_by_id=None,
        )
    session.flush()


@pytest.fixture
def gated(platform, unit_tree, accounts, client):
    """The mediation world with the default training requirement in force."""
    world = build_world(platform, unit_tree, accounts, required_modules=REQUIRED)
    return Flow(client, world)


async def test_a_mediator_without_the_required_modules_is_not_assigned(gated, platform):
    flow = gated
    assert REQUIRED == [
        "mediation.law_essentials",
        "mediation.procedure",
        "mediation.agreement_writing",
        "mediation.discipline_privacy",
    ]
    case = await flow.accepted()
    path = f"/disputes/{case['id']}/assignments"
    pick = {"mediators": [{"mediator_id": flow.world.mediator.id}]}
    refused = await flow.call(flow.world.director, "POST", path, pick)
    assert refused.status_code == 409, refused.text
    error = refused.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("mediators.0.mediator_id", "training_missing")
    assert all(code in error["message"] for code in REQUIRED)

    with platform.session_factory() as session:
        qualify(platform, session, flow.world.mediator.person_id, REQUIRED[:3], clock.today())
        session.commit()
    refused = await flow.call(flow.world.director, "POST", path, pick)
    assert refused.status_code == 409
    message = refused.json()["errors"][0]["message"]
    assert "mediation.discipline_privacy" in message and "mediation.procedure" not in message

    with platform.session_factory() as session:
        qualify(platform, session, flow.world.mediator.person_id, REQUIRED[3:], clock.today())
        session.commit()
    assigned = await flow.ok(flow.world.director, "POST", path, pick)
    assert assigned["status"] == "in_mediation"


async def test_the_requirement_is_the_units_in_force_on_the_day(gated, platform, set_clock):
    flow = gated
    later = clock.today() + timedelta(days=3)
    await flow.ok(
        flow.world.officer,
        "POST",
        "/settings",
        {"valid_from": later.isoformat(), "values": {"required_modules": ["mediation.escalation"]}},
    )
    with platform.session_factory() as session:
        qualify(
            platform,
            session,
            flow.world.mediator.person_id,
            ["mediation.escalation"],
            clock.today(),
        )
        session.commit()
    case = await flow.accepted()
    pick = {"mediators": [{"mediator_id": flow.world.mediator.id}]}
    path = f"/disputes/{case['id']}/assignments"
    assert (await flow.call(flow.world.director, "POST", path, pick)).status_code == 409
    set_clock(later)
    assigned = await flow.ok(flow.world.director, "POST", path, pick)
    assert assigned["status"] == "in_mediation"


def test_no_requirement_asks_nothing(platform):
    with platform.session_factory() as session:
        assert gate.missing_modules(session, 1, [], clock.today()) == []
