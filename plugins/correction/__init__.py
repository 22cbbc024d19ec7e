"""Plugin ``correction``: community correction (社区矫正).

Persons under correction, correction groups, visits and alerts.
"""

from core.contributions import Label
from core.plugins import PluginMeta

META = PluginMeta(
    name="correction",
    label=Label("社区矫正", "Community correction"),
    version="0.1.0",
    requires="pingan>=0.1",
    restricted=True,
    default_enabled=False,
)
