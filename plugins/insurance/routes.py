"""The plugin's JSON API, mounted by core at ``/api/v1/units/{unit_id}/insurance``."""

from plugins.insurance.api_cover import COVER_ROUTES
from plugins.insurance.api_expenses import EXPENSE_ROUTES
from plugins.insurance.api_money import MONEY_ROUTES

API_ROUTES = [*MONEY_ROUTES, *COVER_ROUTES, *EXPENSE_ROUTES]
