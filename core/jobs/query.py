"""Which jobs a principal may see."""

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.access import scope_predicate
from core.accounts.principal import Principal
from core.jobs.models import Job
from core.units.models import Unit

ACTION = "core.job.read"


def jobs_in_reach(principal: Principal) -> SelectOfScalar[Job]:
    """Jobs about units in reach; jobs about no unit (housekeeping) only from the top unit."""
    at_root = any(path.count(".") == 1 for path in principal.reach(ACTION))
    visible = scope_predicate(Unit.path, principal, ACTION)
    if at_root:
        visible = sa.or_(visible, col(Job.unit_id).is_(None))
    return select(Job).outerjoin(Unit, Unit.id == Job.unit_id).where(visible)
