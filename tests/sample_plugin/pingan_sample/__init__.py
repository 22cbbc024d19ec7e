"""A neighbourhood notice board: a small third-party plugin that uses every Pingan hook."""

from core.contributions import Label
from core.plugins import PluginMeta

META = PluginMeta(
    name="sample",
    label=Label("邻里便签", "Neighbourhood notes"),
    version="1.0.0",
    requires="pingan>=0.1",
)
