"""Fixtures of the mediation plugin's tests (the shared ones come from tests/support)."""

from datetime import UTC, date, datetime, time

import pytest

from plugins.mediation import clock
from plugins.mediation.tests.factories import Flow, build_world


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


@pytest.fixture
def flow(client, world) -> Flow:
    return Flow(client, world)


@pytest.fixture
def job_context(platform):
    """What a job receives when it runs: call ``job.fn(context=job_context)`` inline."""
    from core.jobs.runtime import JobContext

    return JobContext(None, platform.session_factory, platform.settings, platform.plugins)
