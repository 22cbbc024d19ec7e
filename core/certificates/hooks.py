"""Core's hook implementations for certificates: the rendering job and the menu entry."""

from core.certificates.services import render_certificate
from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl


@hookimpl
def register_jobs():
    """``core.render_certificate``: draw and store a volunteer's certificate PDF."""
    return [render_certificate]


@hookimpl
def menu_items(unit, actor):
    """The certificates issued within the unit."""
    return [
        MenuItem(
            Label("证书", "Certificates"),
            f"/units/{unit.id}/certificates",
            icon="certificate",
            required_action="core.volunteer.read",
            order=320,
        )
    ]
