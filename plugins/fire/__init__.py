"""Plugin ``fire``: fire safety (消防安全) — premises, inspections, hazards and drills."""

from core.contributions import Label
from core.plugins import PluginMeta

META = PluginMeta(
    name="fire",
    label=Label("消防安全", "Fire safety"),
    version="0.1.0",
    requires="pingan>=0.1",
    restricted=False,
    default_enabled=False,
)
