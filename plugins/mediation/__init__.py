"""Plugin ``mediation``: people's mediation (人民调解) — dispute cases from intake to archive."""

from core.contributions import Label
from core.plugins import PluginMeta

META = PluginMeta(
    name="mediation",
    label=Label("人民调解", "People's mediation"),
    version="0.1.0",
    requires="pingan>=0.1",
    restricted=False,
    default_enabled=False,
)
