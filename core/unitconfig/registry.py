"""The configuration keys core's own areas declare.

A core area declares its keys as module-level :class:`~core.unitconfig.services.ConfigKey`
objects in one module listed in :data:`CORE_CONFIG_MODULES`; core's implementation of
``register_config_keys`` hands them all to the registry, where plugins' keys join them.
"""

from importlib import import_module

from core.unitconfig.services import ConfigKey

#: The modules where core's areas keep their keys.
CORE_CONFIG_MODULES = ("core.tasks.rules", "core.hours.rules", "core.reports.config")


def keys_of(module_name: str) -> list[ConfigKey]:
    """The ``ConfigKey`` objects defined at the top level of a module, in definition order."""
    module = import_module(module_name)
    return [value for value in vars(module).values() if isinstance(value, ConfigKey)]


def core_config_keys() -> list[ConfigKey]:
    """Every key of core's areas, once each (a module may import another area's key)."""
    found: dict[int, ConfigKey] = {}
    for name in CORE_CONFIG_MODULES:
        for key in keys_of(name):
            found.setdefault(id(key), key)
    return list(found.values())
