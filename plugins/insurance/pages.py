"""The plugin's pages, mounted by core at ``/units/{unit_id}/insurance``."""

PAGE_ROUTES: list = []
