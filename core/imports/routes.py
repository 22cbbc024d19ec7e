"""API and pages of core's imports."""

ROUTES: list = []
