"""The training gate: no mediator is assigned to a case before the required modules are done.

Which modules are required is local configuration (``required_modules``; by default modules
1–3 and 6 of the domain notes). Whether a person holds a valid qualification for each is
core training's answer, asked through ``core.training.qualifications.missing_modules``.
"""

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session


def missing_modules(session: Session, person_id: int, codes: Iterable[str], on: date) -> list[str]:
    """The codes among ``codes`` for which the person holds no valid qualification on ``on``."""
    wanted = list(codes)
    if not wanted:
        return []
    from core.training.qualifications import missing_modules as core_missing_modules

    return list(core_missing_modules(session, person_id, wanted, on))
