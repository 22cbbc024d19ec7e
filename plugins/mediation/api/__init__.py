"""The plugin's JSON API, mounted by core at ``/api/v1/units/{unit_id}/mediation``."""

from plugins.mediation.api import committees, disputes, leads, records, reports

ROUTES = [
    *committees.ROUTES,
    *disputes.ROUTES,
    *records.ROUTES,
    *leads.ROUTES,
    *reports.ROUTES,
]
