"""Two weeks of evening patrols in 解放碑街道, so the duty pages of the demo have something on.

Each of the street's communities patrols its own point every evening from tomorrow for two
weeks (19:00–21:00, two to four people). The street's office staffs the shifts from each
community's volunteers through the platform's own assignment rules, leaving some shifts short
on purpose: the duty matrix then shows gaps to fill from its suggestions, and each volunteer
has shifts under "my shifts".
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.errors import DomainError
from core.platform import Platform
from core.tasks import services, shifts
from core.tasks.assignments import assign
from core.tasks.rules import LOCAL_TIME
from core.units.models import Unit
from core.volunteers.models import Volunteer, VolunteerStatus

DAYS = 14
EVENING = time(19, 0)
# Where each community of 解放碑街道 patrols: (point, address, latitude, longitude).
POINTS = {
    "民族路社区": ("解放碑纪念碑", "渝中区民族路", "29.5573", "106.5772"),
    "小什字社区": ("小什字轻轨站", "渝中区小什字", "29.5586", "106.5842"),
    "较场口社区": ("较场口夜市", "渝中区较场口", "29.5526", "106.5746"),
}


def patrol_street(
    platform: Platform, session: Session, street: Unit, office: Principal, today: date
) -> int:
    """Tasks, points and staffed shifts for the street's communities; the assignments made."""
    chance = random.Random(500103002)
    communities = session.exec(
        select(Unit).where(Unit.parent_id == street.id, col(Unit.name).in_(list(POINTS)))
    ).all()
    made = 0
    for community in sorted(communities, key=lambda unit: unit.code or ""):
        name, address, latitude, longitude = POINTS[community.name]
        task = services.create_task(
            platform,
            session,
            community,
            services.TaskInput(
                task_type="core.patrol",
                title=f"{community.name}夜间巡逻",
                starts_on=today + timedelta(days=1),
                ends_on=today + timedelta(days=DAYS),
                details={"route": f"{name}周边", "mode": "foot"},
            ),
            by_user_id=None,
        )
        services.transition(platform, session, task, "publish", by_user_id=None)
        point = shifts.create_point(
            session,
            community,
            shifts.PointInput(
                name=name,
                address=address,
                latitude=Decimal(latitude),
                longitude=Decimal(longitude),
                radius_m=300,
            ),
        )
        members = session.exec(
            select(Volunteer.id)
            .where(Volunteer.unit_id == community.id)
            .where(Volunteer.status == VolunteerStatus.active)
            .order_by(Volunteer.id)
        ).all()
        for offset in range(1, DAYS + 1):
            starts = datetime.combine(today + timedelta(days=offset), EVENING, LOCAL_TIME)
            shift = shifts.create_shift(
                platform,
                session,
                task,
                shifts.ShiftInput(
                    point_id=point.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    min_headcount=2,
                    max_headcount=4,
                ),
            )
            # One evening in four stays short of its minimum: a gap for the matrix to show.
            wanted = 1 if chance.random() < 0.25 else chance.randint(2, 3)
            for volunteer_id in chance.sample(list(members), min(wanted, len(members))):
                made += _staff(platform, session, office, shift, volunteer_id)
    return made


def _staff(platform: Platform, session: Session, office: Principal, shift, volunteer_id) -> int:
    """Put the volunteer on the shift as the street's office would: 1, or 0 where a rule refuses.

    The demo keeps to the rules like everyone else (a refusal comes before anything is
    written); there is no accident cover in the demo, so the office confirms that warning.
    """
    try:
        assign(platform, session, office, shift, volunteer_id, confirm_warnings=True)
    except DomainError:
        return 0
    return 1
