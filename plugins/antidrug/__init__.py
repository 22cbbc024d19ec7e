"""Plugin ``antidrug``: anti-drug (禁毒).

Publicity events, community rehabilitation support and clue reports.
"""

from core.contributions import Label
from core.plugins import PluginMeta

META = PluginMeta(
    name="antidrug",
    label=Label("禁毒", "Anti-drug"),
    version="0.1.0",
    requires="pingan>=0.1",
    restricted=True,
    default_enabled=False,
)
