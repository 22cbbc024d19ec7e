"""Property-based fuzzing of the whole OpenAPI schema with schemathesis.

Every operation of ``/schema/openapi.json`` gets generated requests, valid and invalid, sent
in-process to the ASGI app (schemathesis runs its lifespan) as three callers: a holder of
every role at the city, a district office at the district, and nobody. Path parameters are
often swapped for ids that exist, so the handlers behind the 404s run too.

Checks: no response is a 5xx, and every 4xx is JSON of exactly ``{status, code, message,
errors}`` with ``errors`` a list of ``{field, rule, message}``.

SQLite only (the ``database_url`` override below). Generation is derandomized so a run is
reproducible; set ``PINGAN_TEST_FUZZ_RANDOM=1`` to explore with fresh randomness.
"""

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from sqlmodel import select

from core.accounts.models import ApiToken, RoleGrant, User
from core.jobs.models import Job
from core.people.models import Person
from core.reports.models import Report
from core.tasks.assignments import assign
from core.tasks.models import Assignment, Point, Shift, Task
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from plugins.insurance.tests import security as insurance_records
from plugins.mediation.tests import records as mediation_records
from tests.support import databases
from tests.support.tasks_world import TasksWorld, at, next_monday, principal_of

# Cases per operation and mode; PINGAN_TEST_FUZZ_SCALE multiplies them for a deeper run.
SCALE = float(os.environ.get("PINGAN_TEST_FUZZ_SCALE", "1"))
EXAMPLES = {GenerationMode.POSITIVE: round(25 * SCALE), GenerationMode.NEGATIVE: round(12 * SCALE)}
ERROR_KEYS = {"status", "code", "message", "errors"}
FIELD_ERROR_KEYS = {"field", "rule", "message"}


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """SQLite only: the fuzzing is about the web layer, and SQLite keeps it quick."""
    return databases.copy_sqlite(sqlite_template, tmp_path / "pingan.sqlite3")


class Identities:
    """The callers, kept usable: a fuzzed request may revoke a token, disable an account,
    reset a password or take a role away; every case starts from them intact."""

    def __init__(self, platform, accounts, admin, unit_tree) -> None:
        self.platform = platform
        district = accounts("district_admin", unit_tree.district)
        self.accounts = {"admin": admin, "district_admin": district}
        with platform.session_factory() as session:
            self.grants = [
                (grant.user_id, grant.role, grant.unit_id, grant.unit_path)
                for grant in session.exec(
                    select(RoleGrant).where(
                        RoleGrant.user_id.in_([a.user_id for a in self.accounts.values()])
                    )
                )
            ]
            self.tokens = {
                name: session.exec(
                    select(ApiToken.id).where(ApiToken.user_id == account.user_id)
                ).one()
                for name, account in self.accounts.items()
            }

    def headers(self, name: str | None) -> dict[str, str]:
        return self.accounts[name].headers if name else {}

    def restore(self) -> None:
        user_ids = [account.user_id for account in self.accounts.values()]
        with self.platform.session_factory() as session:
            session.execute(
                sa.update(User)
                .where(User.id.in_(user_ids))
                .values(is_active=True, must_change_password=False)
            )
            session.execute(
                sa.update(ApiToken)
                .where(ApiToken.id.in_(list(self.tokens.values())))
                .values(revoked_at=None, expires_at=None)
            )
            held = set(session.exec(select(RoleGrant.user_id, RoleGrant.role, RoleGrant.unit_id)))
            for user_id, role, unit_id, unit_path in self.grants:
                if (user_id, role, unit_id) not in held:
                    session.add(
                        RoleGrant(user_id=user_id, role=role, unit_id=unit_id, unit_path=unit_path)
                    )
            session.commit()


def real_ids(platform, mediation: dict[str, int]) -> dict[str, list]:
    """Ids of records that exist, by the path parameter names that take them."""
    with platform.session_factory() as session:
        return {
            **{name: [value] for name, value in mediation.items()},
            "unit_id": list(session.exec(select(Unit.id))),
            "user_id": list(session.exec(select(User.id))),
            "person_id": list(session.exec(select(Person.id))),
            "grant_id": list(session.exec(select(RoleGrant.id))),
            "token_id": list(session.exec(select(ApiToken.id))),
            "job_id": list(session.exec(select(Job.id))),
            "report_id": list(session.exec(select(Report.id))),
            "photo": [0, 1],
            "key": sorted(platform.plugins.config_keys),
            "name": list(platform.plugins.names),
            "task_id": list(session.exec(select(Task.id))),
            "point_id": list(session.exec(select(Point.id))),
            "shift_id": list(session.exec(select(Shift.id))),
            "assignment_id": list(session.exec(select(Assignment.id))),
        }


def error_shape_problems(status: int, content: bytes) -> list[str]:
    """What is wrong with a 4xx body, if anything."""
    try:
        body = json.loads(content)
    except ValueError:
        return [f"not JSON: {content[:120]!r}"]
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        return [f"keys {sorted(body) if isinstance(body, dict) else type(body).__name__}"]
    problems = []
    if body["status"] != status:
        problems.append(f"status field {body['status']} for HTTP {status}")
    if not isinstance(body["code"], str) or not isinstance(body["message"], str):
        problems.append("code and message must be text")
    if not isinstance(body["errors"], list):
        return [*problems, "errors is not a list"]
    for error in body["errors"]:
        if not isinstance(error, dict) or set(error) != FIELD_ERROR_KEYS:
            problems.append(f"error item {error!r}")
    return problems


@pytest.mark.heavy
def test_openapi_operations_fuzzed(app, platform, unit_tree, accounts, admin):
    started = time.perf_counter()
    identities = Identities(platform, accounts, admin, unit_tree)
    with platform.session_factory() as session:
        city = session.get(Unit, unit_tree.city.id)
        session.add(Person(unit_id=city.id, unit_path=city.path, name="甲"))
        district = session.get(Unit, unit_tree.district.id)
        person = Person(unit_id=district.id, unit_path=district.path, name="乙")
        session.add(person)
        session.flush()
        # The mediation plugin on everywhere, with one of each of its records at the district.
        set_plugin_enabled(session, city, "mediation", True, changed_by="test")
        mediation = mediation_records.seed(session, district, person.id)
        session.add(
            Report(
                unit_id=district.id,
                unit_path=district.path,
                origin_unit_id=district.id,
                origin_unit_path=district.path,
                category="clue",
                title="模糊测试",
                body="模糊测试的报告",
                triage_due_at=datetime.now(UTC),
            )
        )
        session.commit()
    duty = TasksWorld(platform)  # a published task with a staffed shift at the district
    shift = duty.shift(duty.task(unit_tree.township), at(next_monday(), 9))
    member = duty.volunteer(unit_tree.township)
    with platform.session_factory() as session:
        assign(
            platform,
            session,
            principal_of(platform, ("district_admin", unit_tree.district)),
            session.get(Shift, shift.id),
            member.volunteer_id,
        )
        session.commit()
    # The insurance plugin on, with a record of each kind at two units, so its handlers run.
    plugin_ids = insurance_records.populate(
        platform, [unit_tree.district, unit_tree.village], city=unit_tree.city
    )
    ids = real_ids(platform, mediation)
    ids.update({name: sorted(set(by_unit.values())) for name, by_unit in plugin_ids.items()})
    callers = [None, "admin", "district_admin"]

    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]

    cases, statuses, by_operation = Counter(), Counter(), Counter()
    failures: list[str] = []
    unsatisfiable: list[str] = []

    def run_cases(operation, mode, examples, swaps):
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=not os.environ.get("PINGAN_TEST_FUZZ_RANDOM"),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=operation.as_strategy(generation_mode=mode), swap=swaps)
        def fuzz(case, swap):
            for name, value in swap.items():
                if value is not None:
                    case.path_parameters[name] = value
            cases[mode.value] += 1
            for caller in callers:
                identities.restore()
                response = case.call(headers=identities.headers(caller), timeout=120)
                status = response.status_code
                statuses[status] += 1
                by_operation[operation.label] += 1
                where = f"{operation.label} as {caller or 'nobody'} [{mode.value}]"
                if status >= 500:
                    failures.append(
                        f"{where}: {status} for {case.as_curl_command()}\n"
                        f"  {response.content[:300]!r}"
                    )
                elif status >= 400:
                    for problem in error_shape_problems(status, response.content):
                        failures.append(f"{where}: {status} {problem}")

        try:
            fuzz()
        except Unsatisfiable:
            # nothing to make invalid (no parameters, no body): no negative cases exist
            assert mode is GenerationMode.NEGATIVE, operation.label
            unsatisfiable.append(f"{operation.label} [{mode.value}]")

    try:
        for operation in operations:
            parameters = [p.name for p in operation.path_parameters]
            for mode, examples in EXAMPLES.items():
                swaps = st.fixed_dictionaries(
                    {
                        name: st.one_of(st.none(), st.sampled_from(ids[name]))
                        for name in parameters
                        if ids.get(name)
                    }
                )
                run_cases(operation, mode, examples, swaps)
    finally:
        shutdown_lifespans()
    elapsed = time.perf_counter() - started
    print(
        f"\nschemathesis: {len(operations)} operations, "
        f"{sum(cases.values())} cases ({dict(cases)}), "
        f"{sum(statuses.values())} requests as {len(callers)} callers; "
        f"statuses {dict(sorted(statuses.items()))}; {elapsed:.1f}s; "
        f"no negative cases possible for {len(unsatisfiable)}: {', '.join(unsatisfiable)}"
    )
    assert not failures, "\n".join(dict.fromkeys(failures))
    assert set(by_operation) == {op.label for op in operations}
    assert any(200 <= status < 300 for status in statuses)
