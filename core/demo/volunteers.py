"""The demo district's volunteers: teams from the 大队 down to every 分队, with their kit.

Built through the volunteer services exactly as an office would build them (register the
person, enrol them, appoint leaders, hand out kit, join special teams, issue certificates,
suspend or record leaving), so the data keeps every rule the pages enforce: unit-coded
numbers, one captain per team, and the nesting rule — a 大队 leader is a member of the 总队,
a 中队 leader of the 大队, a 分队 leader of the 中队, and an enterprise 中队's leaders of the
district 大队 that guides it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from core.certificates.services import issue_certificate
from core.demo.identities import Identities, years_before
from core.people.services import create_person
from core.recruitment.services import CHINA
from core.security.fields import Keyring
from core.units.models import Unit
from core.volunteers.models import KitIssue, TeamRole, Volunteer, VolunteerStatus
from core.volunteers.profile import (
    add_membership,
    add_special_team,
    change_status,
    issue_kit,
    recall_kit,
    set_national_number,
)
from core.volunteers.services import enroll

SIZES = ("S", "M", "L", "XL", "XXL")
SUSPENSION_REASONS = ("外出务工，暂停服务半年", "身体原因暂停服务", "家中有事，申请暂停")
LEAVING_REASONS = ("迁居外地，本人申请退出", "工作调动，无法继续服务", "年龄原因，本人申请退出")


@dataclass
class Roster:
    """Enrols the demo's volunteers and keeps the ones later steps need."""

    session: Session
    keyring: Keyring
    people: Identities
    today: date
    special_teams: Sequence[str]
    catalogue: Sequence  # the training modules in force (Platform.training_modules)
    members: list[Volunteer] = field(default_factory=list)
    leaders: list[Volunteer] = field(default_factory=list)
    serials: int = 0

    @property
    def chance(self):
        """The demo's seeded random generator."""
        return self.people.chance

    def enlist(self, unit: Unit) -> Volunteer:
        """Register an invented resident of ``unit`` and enrol them in its team."""
        since = self.people.day_between(years_before(self.today, 4), self.today - timedelta(60))
        details = self.people.details(unit.name, today=self.today)
        person = create_person(self.session, self.keyring, unit, details)
        registered_at = datetime.combine(since, time(9, 30), tzinfo=CHINA)
        volunteer = enroll(self.session, person, unit, on=since, registered_at=registered_at)
        self._equip(volunteer, since)
        return volunteer

    def lead(self, unit: Unit, above: Unit, role: TeamRole) -> Volunteer:
        """A volunteer of ``unit``, member of the team ``above``, later appointed ``role``."""
        volunteer = self.enlist(unit)
        since = volunteer.registered_at.astimezone(CHINA).date()
        add_membership(
            self.session, volunteer, above, TeamRole.member, since, catalogue=self.catalogue
        )
        appointed = self.people.day_between(since, self.today - timedelta(30))
        add_membership(self.session, volunteer, unit, role, appointed, catalogue=self.catalogue)
        self._issue(volunteer, "badge", appointed, serial=self._serial("XZ"))
        self.leaders.append(volunteer)
        return volunteer

    def team(self, unit: Unit, above: Unit, members: int, *, vice_captains: int = 1) -> None:
        """A unit's whole team: its captain, vice-captains and ``members`` members."""
        self.lead(unit, above, TeamRole.captain)
        for _ in range(vice_captains):
            self.lead(unit, above, TeamRole.vice_captain)
        self.members += [self.enlist(unit) for _ in range(members)]

    def _serial(self, prefix: str) -> str:
        self.serials += 1
        return f"{prefix}-{self.people.district_code}-{self.serials:05d}"

    def _issue(self, volunteer: Volunteer, item: str, on: date, **extra) -> None:
        issue_kit(self.session, volunteer, item=item, issued_on=on, today=self.today, **extra)

    def _equip(self, volunteer: Volunteer, since: date) -> None:
        """The vest most get on joining; an armband or a uniform for some."""
        if self.chance.random() < 0.85:
            self._issue(volunteer, "vest", since, size=self.chance.choice(SIZES))
        if self.chance.random() < 0.3:
            self._issue(volunteer, "armband", since)
        if self.chance.random() < 0.1:
            later = self.people.day_between(since, self.today)
            self._issue(volunteer, "uniform", later, size=self.chance.choice(SIZES))

    # -- what happens to some of them afterwards ------------------------------------------

    def join_special_teams(self, share: float) -> int:
        """About ``share`` of the volunteers join one special team at their own unit."""
        joined = 0
        for volunteer in [*self.leaders, *self.members]:
            if not self.special_teams or self.chance.random() >= share:
                continue
            since = self.people.day_between(
                volunteer.registered_at.astimezone(CHINA).date(), self.today
            )
            unit = self.session.get(Unit, volunteer.unit_id)
            team = self.chance.choice(self.special_teams)
            add_special_team(self.session, volunteer, team, unit, since, list(self.special_teams))
            joined += 1
        return joined

    def record_national_numbers(self, share: float) -> None:
        """About ``share`` of the volunteers already have the national system's number."""
        for volunteer in [*self.leaders, *self.members]:
            if self.chance.random() < share:
                number = f"ZYZ{volunteer.number[-10:]}{self.chance.randrange(100):02d}"
                set_national_number(self.session, volunteer, number)

    def certify(self, volunteers: Sequence[Volunteer], city: Unit) -> list[str]:
        """Certificates (rendered by the job) and the volunteer card that goes with them."""
        numbers = []
        for volunteer in volunteers:
            numbers.append(issue_certificate(self.session, volunteer, city))
            self._issue(volunteer, "id_card", self.today, serial=self._serial("ZJ"))
        return numbers

    def suspend_and_release(self, suspended: int, left: int) -> None:
        """A few members pause their service; a few leave it and hand their kit back."""
        chosen = self.chance.sample(self.members, suspended + left)
        for volunteer in chosen[:suspended]:
            reason = self.chance.choice(SUSPENSION_REASONS)
            change_status(self.session, volunteer, VolunteerStatus.suspended, reason, on=self.today)
        for volunteer in chosen[suspended:]:
            on = self.today - timedelta(days=self.chance.randint(1, 20))
            reason = self.chance.choice(LEAVING_REASONS)
            change_status(self.session, volunteer, VolunteerStatus.left, reason, on=on)
            for kit in self._outstanding(volunteer):
                recall_kit(self.session, kit, max(on, kit.issued_on), today=self.today)
        left_ids = {volunteer.id for volunteer in chosen}
        self.members = [volunteer for volunteer in self.members if volunteer.id not in left_ids]

    def _outstanding(self, volunteer: Volunteer) -> list[KitIssue]:
        return self.session.exec(
            select(KitIssue).where(
                KitIssue.volunteer_id == volunteer.id,
                KitIssue.recalled_on == None,  # noqa: E711
            )
        ).all()
