"""API and pages of core's units."""

ROUTES: list = []
