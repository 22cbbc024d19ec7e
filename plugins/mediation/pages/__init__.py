"""The plugin's pages, mounted by core at ``/units/{unit_id}/mediation``."""

from plugins.mediation.pages.disputes import DisputePages
from plugins.mediation.pages.leads import LeadPages
from plugins.mediation.pages.reports import ReportPages
from plugins.mediation.pages.workbench import Workbench

PAGES = [Workbench, DisputePages, LeadPages, ReportPages]
