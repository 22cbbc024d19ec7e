"""API and pages of core's recruitment."""

ROUTES: list = []
