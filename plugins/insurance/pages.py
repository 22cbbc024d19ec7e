"""The plugin's pages, mounted by core at ``/units/{unit_id}/insurance``."""

from plugins.insurance.pages_money import MONEY_PAGES
from plugins.insurance.pages_my import MY_PAGES
from plugins.insurance.pages_work import WORK_PAGES

PAGE_ROUTES = [*WORK_PAGES, *MY_PAGES, *MONEY_PAGES]
