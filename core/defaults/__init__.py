"""Core's own hook implementations, registered explicitly and never blockable."""

from core.certificates import hooks as certificates
from core.coverage import hooks as coverage
from core.defaults import jobs, menu, models, permissions
from core.hours import hooks as hours
from core.imports import hooks as imports
from core.recruitment import hooks as recruitment
from core.reports import hooks as reports
from core.tasks import hooks as tasks
from core.training import hooks as training
from core.unitconfig import hooks as unitconfig
from core.units import hooks as units
from core.volunteers import hooks as volunteers

DEFAULT_PLUGINS = [
    models,
    permissions,
    jobs,
    menu,
    units,
    volunteers,
    recruitment,
    imports,
    coverage,
    certificates,
    training,
    unitconfig,
    tasks,
    hours,
    reports,
]
