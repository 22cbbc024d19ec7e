"""API and pages of core's coverage."""

ROUTES: list = []
