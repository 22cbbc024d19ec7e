"""Routes of this area (API and pages), mounted by core.app."""

ROUTES: list = []
