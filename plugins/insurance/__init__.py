"""Plugin ``insurance``: insurance and finance (保险与经费).

Accident cover, claims, compensation, reimbursements and budgets.
"""

from core.contributions import Label
from core.plugins import PluginMeta

META = PluginMeta(
    name="insurance",
    label=Label("保险与经费", "Insurance and finance"),
    version="0.1.0",
    requires="pingan>=0.1",
    restricted=False,
    default_enabled=False,
)
