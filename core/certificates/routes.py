"""API and pages of core's certificates."""

ROUTES: list = []
