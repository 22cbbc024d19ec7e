"""The demo district's recruitment: applications at every step, some waiting, some decided.

Each application is taken through the recruitment state machine by the demo logins
themselves — the village, township, district and city offices, each step by the office
whose turn it is — so every login finds work in its queue: 民族路社区 applications waiting
for the village's preliminary review, the township's review and the district's
registration, and registered volunteers waiting for the city's certificate; applications
received by the township and the district themselves go up the same path. Some are refused
with a reason, withdrawn by the office at the applicant's request, or withdrawn by a
self-applicant with their token.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from core.accounts.principal import Principal
from core.demo.identities import Identities
from core.recruitment import services
from core.recruitment.models import Application, ApplicationStatus
from core.security.fields import Keyring
from core.units.models import Unit

S = ApplicationStatus
VILLAGE, TOWNSHIP, DISTRICT = "500103002001", "500103002", "500103"  # 民族路, 解放碑, 渝中区


@dataclass(frozen=True)
class Plan:
    """One demo application: where it is received and how far it goes.

    ``goal`` is a status, or ``self`` / ``self_withdrawn`` for a self-application left waiting
    or withdrawn by the applicant; a rejection happens once the application has reached
    ``before``, by the office whose turn it then is.
    """

    office: str
    goal: str
    reason: str | None = None
    before: ApplicationStatus = ApplicationStatus.submitted


PLANS = (
    Plan(VILLAGE, S.submitted),
    Plan(VILLAGE, S.submitted),
    Plan(VILLAGE, "self"),
    Plan(VILLAGE, S.preliminary_approved),
    Plan(VILLAGE, S.preliminary_approved),
    Plan(VILLAGE, S.reviewed),
    Plan(VILLAGE, S.reviewed),
    Plan(VILLAGE, S.registered),
    Plan(VILLAGE, S.registered),
    Plan(VILLAGE, S.certified),
    Plan(VILLAGE, S.rejected, "经电话核实，申请人长期在外地工作，无法参加本社区巡逻"),
    Plan(VILLAGE, S.withdrawn, "申请人因工作变动，到受理点要求撤回报名"),
    Plan(VILLAGE, "self_withdrawn", "已在单位志愿服务队报名，不再重复申请"),
    Plan(TOWNSHIP, S.submitted),
    Plan(TOWNSHIP, S.submitted),
    Plan(TOWNSHIP, S.preliminary_approved),
    Plan(TOWNSHIP, S.reviewed),
    Plan(TOWNSHIP, S.registered),
    Plan(
        TOWNSHIP,
        S.rejected,
        "申请人住址不在本辖区，请到居住地的受理点报名",
        before=S.preliminary_approved,
    ),
    Plan(DISTRICT, S.submitted),
    Plan(DISTRICT, S.preliminary_approved),
    Plan(DISTRICT, S.registered),
    Plan(DISTRICT, S.certified),
    Plan(
        DISTRICT,
        S.rejected,
        "身份信息与户籍信息不一致，请申请人到受理点当面核实",
        before=S.preliminary_approved,
    ),
)
ORDER = (S.submitted, S.preliminary_approved, S.reviewed, S.registered, S.certified)
DEMO_ADDRESS = "demo"  # the client address self-applications are counted under


@dataclass
class Recruitment:
    """Takes demo applications through the state machine, as the offices would."""

    session: Session
    keyring: Keyring
    people: Identities
    offices: Sequence[Principal]  # the demo logins that take the steps
    special_teams: set[str]
    today: date

    def run(self, plans: Sequence[Plan] = PLANS) -> list[Application]:
        """Submit and advance every planned application; return them."""
        return [self._one(plan) for plan in plans]

    def _one(self, plan: Plan) -> Application:
        goal, reason = plan.goal, plan.reason
        unit = self.session.exec(select(Unit).where(Unit.code == plan.office)).one()
        applicant = self._applicant(unit)
        if goal in ("self", "self_withdrawn"):
            application, token = services.self_apply(
                self.session,
                self.keyring,
                unit,
                applicant,
                DEMO_ADDRESS,
                today=self.today,
                special_teams=self.special_teams,
            )
            if goal == "self_withdrawn":
                services.withdraw_own(self.session, token, reason)
            return application
        office = self._office_for(unit.id, services.SUBMIT)
        application = services.submit(
            self.session,
            self.keyring,
            unit,
            applicant,
            by_user_id=office.user_id,
            today=self.today,
            special_teams=self.special_teams,
        )
        if goal == S.withdrawn:
            services.withdraw(self.session, office, application, reason)
        elif goal == S.rejected:
            self._advance(application, plan.before)
            needed = services.requirement(application, services.Step.reject)
            refuser = self._office_for(needed.unit_id, needed.action)
            services.reject(self.session, refuser, application, reason)
        else:
            self._advance(application, ApplicationStatus(goal))
        return application

    def _advance(self, application: Application, goal: ApplicationStatus) -> None:
        """Take the forward steps, each by the office whose turn it is, up to ``goal``."""
        while ORDER.index(ApplicationStatus(application.status)) < ORDER.index(goal):
            rule = services.FORWARD[ApplicationStatus(application.status)]
            needed = services.requirement(application, rule.step)
            office = self._office_for(needed.unit_id, needed.action)
            if rule.step == services.Step.preliminary_approve:
                services.preliminary_approve(self.session, office, application)
            elif rule.step == services.Step.approve:
                services.approve(self.session, office, application)
            elif rule.step == services.Step.register:
                services.register(
                    self.session,
                    self.keyring,
                    office,
                    application,
                    self._team_for(application),
                    today=self.today,
                )
            else:
                services.certify(self.session, office, application)

    def _office_for(self, unit_id: int, action: str) -> Principal:
        for office in self.offices:
            if services.acting_grant(office, action, unit_id) is not None:
                return office
        raise LookupError(f"no demo login takes {action} at unit {unit_id}")

    def _team_for(self, application: Application) -> Unit:
        """The platform's first suggestion (the applicant's wished team, when named)."""
        return services.suggest_teams(self.session, application, limit=1)[0].unit

    def _applicant(self, unit: Unit) -> services.Applicant:
        details = self.people.details(unit.name, today=self.today)
        chance = self.people.chance
        wished = chance.random() < 0.5
        teams = sorted(self.special_teams)
        return services.Applicant(
            name=details.name,
            id_number=details.id_number,
            phone=details.phone,
            address=details.address,
            education=details.education,
            occupation=details.occupation,
            skills=details.skills,
            team_unit_id=unit.id if wished and unit.level != "city" else None,
            special_teams=[chance.choice(teams)] if teams and chance.random() < 0.3 else None,
            note="周末和晚上有时间" if chance.random() < 0.3 else None,
        )
