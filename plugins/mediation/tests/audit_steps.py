"""Every write route of the plugin's API, called once successfully by the platform admin, for
core's audit test (each must leave an entry naming the user and the route's action).

The admin holds every role at the city, and is also a mediator of the committee formed here
(their account's person), so the mediator's own steps are theirs to take.
"""

from datetime import timedelta

from core.accounts.models import User
from core.people.services import PersonDetails, create_person
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from plugins.mediation import clock
from plugins.mediation.tests.factories import intake, resident_id

API = "/api/v1/units/{unit_id:int}/mediation"
DISPUTE = API + "/disputes/{dispute_id:int}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def prepare(platform, admin, unit: Unit) -> dict:
    """Mediation on, five people at ``unit`` (two women), the admin's account one of them."""
    with platform.session_factory() as session:
        unit = session.get(Unit, unit.id)
        set_plugin_enabled(
            session,
            session.get(Unit, int(unit.path.split(".")[0])),
            "mediation",
            True,
            changed_by="test",
        )
        people = [
            create_person(
                session,
                platform.keyring,
                unit,
                PersonDetails(name=name, id_number=resident_id(born, sequence)),
            ).id
            for name, born, sequence in (
                ("审计主任", "19700101", "402"),
                ("审计委员", "19710101", "413"),
                ("审计委员乙", "19720101", "425"),
                ("审计调解员", "19730101", "437"),
                ("审计调解员乙", "19740101", "448"),
            )
        ]
        user = session.get(User, admin.user_id)
        user.person_id = people[3]
        session.add(user)
        session.commit()
    return {"people": people, "unit": unit.id}


def steps(client, platform, admin, unit: Unit) -> list[tuple]:
    """``(method, route path, status, call)`` for every write route of the plugin's API."""
    ids = prepare(platform, admin, unit)
    base = f"/api/v1/units/{unit.id}/mediation"
    today = clock.today()
    people = ids["people"]

    async def call(method, path, json=None, **kwargs):
        response = await client.request(
            method, base + path, json=json, headers=admin.headers, **kwargs
        )
        assert response.status_code < 300, (path, response.text)
        return response

    def member(person_id, role="member"):
        return {"person_id": person_id, "role": role}

    async def committee():
        response = await call(
            "POST",
            "/committees",
            {
                "kind": "residential",
                "name": "审计调委会",
                "abbreviation": "审计",
                "members": [member(people[0], "director"), member(people[1]), member(people[2])],
            },
        )
        ids["committee"] = response.json()["id"]
        return response

    async def mediators():
        for key, person in (("mediator_b", people[4]), ("mediator", people[3])):
            response = await call(
                "POST",
                "/mediators",
                {
                    "committee_id": ids["committee"],
                    "person_id": person,
                    "appointment": "engaged",
                    "appointed_on": today.isoformat(),
                },
            )
            ids[key] = response.json()["id"]
        return response

    async def disputes():
        for key in ("d2", "d3", "d4", "d5", "d1"):
            response = await call("POST", "/disputes", intake(ids["committee"]))
            ids[key] = response.json()["id"]
            ids[f"{key}_parties"] = [p["id"] for p in response.json()["parties"]]
        return response

    async def each(method, suffix, keys, body):
        for key in keys:
            response = await call(method, f"/disputes/{ids[key]}{suffix}", body(key))
        return response

    async def notices():
        for key in ("d1", "d3", "d4", "d5"):
            for party in ids[f"{key}_parties"]:
                response = await call(
                    "POST",
                    f"/disputes/{ids[key]}/parties/{party}/notice",
                    {"manner": "written", "consented": True},
                )
        return response

    async def assignments():
        response = await each(
            "POST",
            "/assignments",
            ("d3", "d4", "d5", "d1"),
            lambda key: {
                "mediators": [{"mediator_id": ids["mediator"]}]
                + ([{"mediator_id": ids["mediator_b"]}] if key == "d1" else [])
            },
        )
        ids["due_on"] = response.json()["due_on"]
        ids["assignment_b"] = next(
            m["id"] for m in response.json()["mediators"] if m["mediator_id"] == ids["mediator_b"]
        )
        return response

    async def consents():
        for party in ids["d1_parties"][:2]:
            response = await call(
                "POST",
                f"/disputes/{ids['d1']}/extension-consents",
                {"party_id": party, "consented_on": today.isoformat(), "manner": "written"},
            )
        return response

    async def upload():
        response = await call(
            "POST",
            f"/disputes/{ids['d1']}/attachments",
            None,
            files={"file": ("收据.png", PNG, "image/png")},
            data={"purpose": "evidence"},
        )
        ids["attachment"] = response.json()["attachments"][0]["id"]
        return response

    async def agreements():
        await call(
            "PUT",
            f"/disputes/{ids['d5']}/agreement",
            {
                "form": "oral",
                "facts": "口头",
                "content": "互相谅解",
                "agreed_on": today.isoformat(),
            },
        )
        applicant, respondent = ids["d1_parties"][:2]
        response = await call(
            "PUT",
            f"/disputes/{ids['d1']}/agreement",
            {
                "form": "written",
                "facts": "事实",
                "content": "赔偿",
                "agreed_on": (today - timedelta(days=10)).isoformat(),
                "terms": [
                    {
                        "obligor_party_id": respondent,
                        "obligee_party_id": applicant,
                        "content": "先付一半",
                        "amount_fen": 100000,
                        "due_on": (today - timedelta(days=5)).isoformat(),
                    },
                    {
                        "obligor_party_id": respondent,
                        "content": "再付一半",
                        "due_on": (today + timedelta(days=5)).isoformat(),
                    },
                ],
            },
        )
        ids["term"] = response.json()["agreement"]["terms"][0]["id"]
        return response

    async def signatures():
        for party in ids["d1_parties"][:2]:
            response = await call(
                "POST",
                f"/disputes/{ids['d1']}/agreement/signatures",
                {"party_id": party, "signed_on": today.isoformat()},
            )
        return response

    async def case_file():
        for document in (
            "intake",
            "rights_notice",
            "identity",
            "mediation_record",
            "oral_register",
            "back_cover",
        ):
            response = await call(
                "PUT", f"/disputes/{ids['d5']}/case-file", {"document": document, "pages": 1}
            )
        return response

    async def leads():
        for key in ("lead2", "lead1"):
            response = await call("POST", "/leads", {"place": "某小区", "description": "争吵"})
            ids[key] = response.json()["id"]
        return response

    d = lambda key, suffix="": f"/disputes/{ids[key]}{suffix}"  # noqa: E731
    plan = [
        (
            "POST",
            API + "/settings",
            201,
            lambda: call(
                "POST",
                "/settings",
                {"valid_from": today.isoformat(), "values": {"required_modules": []}},
            ),
        ),
        ("POST", API + "/committees", 201, committee),
        (
            "PUT",
            API + "/committees/{committee_id:int}/members",
            200,
            lambda: call(
                "PUT",
                f"/committees/{ids['committee']}/members",
                {"members": [member(people[0], "director"), *(member(p) for p in people[1:4])]},
            ),
        ),
        ("POST", API + "/mediators", 201, mediators),
        (
            "PATCH",
            API + "/mediators/{mediator_id:int}",
            200,
            lambda: call("PATCH", f"/mediators/{ids['mediator_b']}", {"grade": "first"}),
        ),
        ("POST", API + "/disputes", 201, disputes),
        ("PATCH", DISPUTE, 200, lambda: call("PATCH", d("d1"), {"urgent": True})),
        (
            "POST",
            DISPUTE + "/parties",
            201,
            lambda: call(
                "POST",
                d("d1", "/parties"),
                {"role": "agent", "name": "代理人", "represents_id": ids["d1_parties"][0]},
            ),
        ),
        ("POST", DISPUTE + "/parties/{party_id:int}/notice", 200, notices),
        (
            "POST",
            DISPUTE + "/parties/{party_id:int}/reveal",
            200,
            lambda: call(
                "POST",
                d("d1", f"/parties/{ids['d1_parties'][0]}/reveal"),
                {"fields": ["id_no"], "reason": "核实申请人身份"},
            ),
        ),
        (
            "POST",
            DISPUTE + "/non-acceptance",
            200,
            lambda: call("POST", d("d2", "/non-acceptance"), {"reason": "court_accepted"}),
        ),
        (
            "POST",
            DISPUTE + "/acceptance",
            200,
            lambda: each("POST", "/acceptance", ("d3", "d4", "d5", "d1"), lambda key: {}),
        ),
        ("POST", DISPUTE + "/assignments", 200, assignments),
        (
            "POST",
            DISPUTE + "/assignments/{assignment_id:int}/end",
            200,
            lambda: call(
                "POST", d("d1", f"/assignments/{ids['assignment_b']}/end"), {"note": "回避"}
            ),
        ),
        ("POST", DISPUTE + "/extension-consents", 200, consents),
        (
            "POST",
            DISPUTE + "/extension",
            200,
            lambda: call(
                "POST",
                d("d1", "/extension"),
                {"until": (clock.today() + timedelta(days=60)).isoformat()},
            ),
        ),
        (
            "POST",
            DISPUTE + "/sessions",
            200,
            lambda: call(
                "POST",
                d("d1", "/sessions"),
                {"held_at": clock.now().isoformat(), "place": "调解室", "summary": "调解"},
            ),
        ),
        (
            "POST",
            DISPUTE + "/investigations",
            200,
            lambda: call(
                "POST",
                d("d1", "/investigations"),
                {"conducted_on": today.isoformat(), "findings": "查明"},
            ),
        ),
        ("POST", DISPUTE + "/attachments", 201, upload),
        (
            "POST",
            DISPUTE + "/evidence",
            200,
            lambda: call(
                "POST",
                d("d1", "/evidence"),
                {
                    "description": "收据",
                    "source": "申请人",
                    "collected_on": today.isoformat(),
                    "attachment_id": ids["attachment"],
                },
            ),
        ),
        ("PUT", DISPUTE + "/agreement", 200, agreements),
        ("POST", DISPUTE + "/agreement/signatures", 200, signatures),
        (
            "POST",
            DISPUTE + "/agreement/mediator-signature",
            200,
            lambda: call("POST", d("d1", "/agreement/mediator-signature"), {}),
        ),
        (
            "POST",
            DISPUTE + "/agreement/seal",
            200,
            lambda: call("POST", d("d1", "/agreement/seal"), {}),
        ),
        (
            "POST",
            DISPUTE + "/agreement-reached",
            200,
            lambda: each("POST", "/agreement-reached", ("d5", "d1"), lambda key: {}),
        ),
        ("POST", DISPUTE + "/performed", 200, lambda: call("POST", d("d5", "/performed"), {})),
        (
            "POST",
            DISPUTE + "/confirmation",
            200,
            lambda: call(
                "POST",
                d("d1", "/confirmation"),
                {"applied_on": today.isoformat(), "court": "渝中区人民法院"},
            ),
        ),
        (
            "POST",
            DISPUTE + "/confirmation/ruling",
            200,
            lambda: call(
                "POST",
                d("d1", "/confirmation/ruling"),
                {"result": "valid", "ruled_on": today.isoformat()},
            ),
        ),
        (
            "POST",
            DISPUTE + "/terms/{term_id:int}/events",
            200,
            lambda: call(
                "POST",
                d("d1", f"/terms/{ids['term']}/events"),
                {"event": "urged", "on": today.isoformat()},
            ),
        ),
        (
            "POST",
            DISPUTE + "/default",
            200,
            lambda: call("POST", d("d1", "/default"), {"term_id": ids["term"]}),
        ),
        (
            "POST",
            DISPUTE + "/follow-ups",
            200,
            lambda: call(
                "POST",
                d("d5", "/follow-ups"),
                {
                    "visited_on": today.isoformat(),
                    "performance_ok": True,
                    "satisfaction": "satisfied",
                },
            ),
        ),
        (
            "POST",
            DISPUTE + "/closure",
            200,
            lambda: each(
                "POST", "/closure", ("d5", "d1"), lambda key: {"told_may_sue": key == "d1"}
            ),
        ),
        (
            "POST",
            DISPUTE + "/refusal",
            200,
            lambda: call("POST", d("d3", "/refusal"), {"party_id": ids["d3_parties"][1]}),
        ),
        (
            "POST",
            DISPUTE + "/escalations",
            200,
            lambda: call(
                "POST", d("d4", "/escalations"), {"reported_to": "police", "agency": "解放碑派出所"}
            ),
        ),
        (
            "POST",
            DISPUTE + "/failure",
            200,
            lambda: call("POST", d("d4", "/failure"), {"other_routes_told": True}),
        ),
        ("PUT", DISPUTE + "/case-file", 200, case_file),
        ("POST", DISPUTE + "/archive", 200, lambda: call("POST", d("d5", "/archive"), {})),
        (
            "POST",
            DISPUTE + "/documents",
            200,
            lambda: call(
                "POST", d("d1", "/documents"), {"kind": "agreement", "reason": "交当事人"}
            ),
        ),
        ("POST", API + "/leads", 201, leads),
        (
            "POST",
            API + "/leads/zero-reports",
            201,
            lambda: call(
                "POST",
                "/leads/zero-reports",
                {"period_start": today.isoformat(), "period_end": today.isoformat()},
            ),
        ),
        (
            "POST",
            API + "/leads/{lead_id:int}/conversion",
            201,
            lambda: call("POST", f"/leads/{ids['lead1']}/conversion", intake(ids["committee"])),
        ),
        (
            "POST",
            API + "/leads/{lead_id:int}/dismissal",
            200,
            lambda: call("POST", f"/leads/{ids['lead2']}/dismissal", {"note": "已和解"}),
        ),
        (
            "POST",
            API + "/mediators/{mediator_id:int}/status",
            200,
            lambda: call(
                "POST",
                f"/mediators/{ids['mediator_b']}/status",
                {"status": "suspended", "reason": "other", "note": "外出务工"},
            ),
        ),
    ]
    return plan
