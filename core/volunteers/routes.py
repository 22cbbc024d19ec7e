"""API and pages of core's volunteers."""

ROUTES: list = []
