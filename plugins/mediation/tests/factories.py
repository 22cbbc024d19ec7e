"""Building a mediation world for the plugin's tests: a committee at the village, its
mediators and the accounts that act, each linked to their person."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from core.accounts.models import User
from core.accounts.principal import Principal
from core.accounts.services import principal_for
from core.people.identity import check_digit
from core.people.services import PersonDetails, create_person
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from plugins.mediation import committees
from plugins.mediation.models import Committee, MediationSetting, Mediator
from plugins.mediation.vocab import Appointment, CommitteeKind, Grade, MemberRole

PASSWORD = "correct horse battery staple"


def resident_id(born: str, sequence: str, region: str = "500103") -> str:
    """A valid resident ID (``born`` YYYYMMDD, ``sequence`` three digits)."""
    first17 = region + born + sequence
    return first17 + check_digit(first17)


@dataclass
class World:
    """What the tests act with."""

    unit: Unit  # the village where the committee sits
    committee: Committee
    mediator: Mediator  # assigned in the tests that need it
    other_mediator: Mediator  # never assigned
    director: object  # Account
    mediator_account: object
    other_mediator_account: object
    clerk: object
    collector: object
    officer: object  # at the township
    nobody: object  # an account with no mediation role


def person(session, platform, unit: Unit, name: str, born: str, sequence: str):
    """A person registered at ``unit`` (odd sequence: male, even: female)."""
    return create_person(
        session,
        platform.keyring,
        unit,
        PersonDetails(name=name, id_number=resident_id(born, sequence), phone="13900000000"),
    )


def link(platform, account, person_id: int) -> None:
    """Make the account's user that person (how a mediator's account is known)."""
    with platform.session_factory() as session:
        user = session.get(User, account.user_id)
        user.person_id = person_id
        session.add(user)
        session.commit()


def principal_of(platform, account) -> Principal:
    """The principal a request of ``account`` would carry."""
    with platform.session_factory() as session:
        user = session.get(User, account.user_id)
        return principal_for(session, user, platform.policy, "token")


def build_world(platform, unit_tree, accounts, *, required_modules=()) -> World:
    """Mediation on at the district; at the village a committee of five (two women), three
    mediators; accounts for every mediation role. ``required_modules`` is the training the
    unit requires before assignment (none unless a test is about the gate)."""
    system = principal_of(
        platform, accounts("mediation.officer", unit_tree.district, username="setup-officer")
    )
    with platform.session_factory() as session:
        district = session.get(Unit, unit_tree.district.id)
        village = session.get(Unit, unit_tree.village.id)
        set_plugin_enabled(session, district, "mediation", True, changed_by="test")
        people = [
            person(session, platform, village, "王主任", "19700101", "011"),
            person(session, platform, village, "李调解", "19750202", "022"),
            person(session, platform, village, "赵调解", "19800303", "033"),
            person(session, platform, village, "孙委员", "19650404", "044"),
            person(session, platform, village, "周委员", "19720505", "055"),
        ]
        members = [
            committees.MemberInput(
                p.id, MemberRole.director if i == 0 else MemberRole.member, "汉族"
            )
            for i, p in enumerate(people)
        ]
        committee = committees.create_committee(
            session,
            system,
            village,
            kind=CommitteeKind.residential,
            name="民族路社区人民调解委员会",
            abbreviation="民族路",
            established_on=date(2020, 1, 1),
            members=members,
        )
        made = [
            committees.appoint(
                session,
                system,
                committee,
                person_id=p.id,
                appointment=Appointment.elected,
                appointed_on=date(2024, 1, 1),
                term_end=None,
                grade=Grade.second,
                full_time=False,
                pre_service_training_on=date(2024, 1, 15),
            )
            for p in people[:3]
        ]
        # From long ago, so a test may move the clock anywhere after the year 2000.
        session.add(
            MediationSetting(
                unit_id=district.id,
                unit_path=district.path,
                valid_from=date(2000, 1, 1),
                values={"required_modules": list(required_modules)},
                note="tests",
            )
        )
        session.commit()
        person_ids = [p.id for p in people]
        committee_id, mediator_ids = committee.id, [m.id for m in made]
    director = accounts("mediation.director", unit_tree.village)
    mediator_account = accounts("mediation.mediator", unit_tree.village)
    other = accounts("mediation.mediator", unit_tree.village, username="other-mediator")
    link(platform, director, person_ids[0])
    link(platform, mediator_account, person_ids[1])
    link(platform, other, person_ids[2])
    with platform.session_factory() as session:
        committee = session.get(Committee, committee_id)
        mediator = session.get(Mediator, mediator_ids[1])
        other_mediator = session.get(Mediator, mediator_ids[2])
        village = session.get(Unit, unit_tree.village.id)
    return World(
        unit=village,
        committee=committee,
        mediator=mediator,
        other_mediator=other_mediator,
        director=director,
        mediator_account=mediator_account,
        other_mediator_account=other,
        clerk=accounts("mediation.clerk", unit_tree.village),
        collector=accounts("mediation.collector", unit_tree.village),
        officer=accounts("mediation.officer", unit_tree.township),
        nobody=accounts("volunteer", unit_tree.village),
    )


def director_mediator_id(platform, world: World) -> int:
    """The director's own mediator record (the committee's first mediator)."""
    with platform.session_factory() as session:
        return session.exec(
            select(Mediator.id)
            .where(Mediator.committee_id == world.committee.id)
            .order_by(Mediator.id)
        ).first()


APPLICANT_ID = resident_id("19880808", "123")
RESPONDENT_ID = resident_id("19900909", "234")
APPLICANT_PHONE = "13812345678"
RESPONDENT_PHONE = "15987654321"
APPLICANT_ADDRESS = "重庆市渝中区解放碑街道民族路18号3单元"


def intake(committee_id: int, **overrides) -> dict:
    """A registration body with an applicant and a respondent."""
    body = {
        "committee_id": committee_id,
        "source": "application",
        "category": "neighbour",
        "summary": "楼上漏水损坏楼下天花板，双方就赔偿发生争执",
        "claims": "赔偿维修费用",
        "amount_involved_fen": 350000,
        "people_involved": 2,
        "risk_level": "yellow",
        "parties": [
            {
                "role": "applicant",
                "name": "陈申请",
                "id_no": APPLICANT_ID,
                "phone": APPLICANT_PHONE,
                "address": APPLICANT_ADDRESS,
            },
            {
                "role": "respondent",
                "name": "刘被申",
                "id_no": RESPONDENT_ID,
                "phone": RESPONDENT_PHONE,
                "address": "重庆市渝中区解放碑街道民族路18号4单元",
            },
        ],
    }
    body.update(overrides)
    return body


#: Every clear personal value the tests register: none may appear where it should not.
SECRETS = [
    "陈申请",
    "刘被申",
    APPLICANT_ID,
    RESPONDENT_ID,
    APPLICANT_PHONE,
    RESPONDENT_PHONE,
    APPLICANT_ADDRESS,
    "楼上漏水",
]


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
