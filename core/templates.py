"""The jinja2 environment: core's templates, each plugin's, and ``core:`` for core's own."""

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

from core.contributions import Label
from core.i18n import Translator, current_locale


def make_environment(template_folders: dict[str, Path], translator: Translator) -> Environment:
    """Build the page environment.

    Args:
        template_folders: Owner → ``templates`` folder; ``core`` must be present. A plugin's
            templates live in ``templates/<plugin>/`` and are named ``"<plugin>/x.html"``.
        translator: Supplies ``_()``/``gettext`` following the request's language.
    """
    core_loader = FileSystemLoader(template_folders["core"])
    loaders = [core_loader]
    loaders += [
        FileSystemLoader(path) for owner, path in template_folders.items() if owner != "core"
    ]
    loaders.append(PrefixLoader({"core": core_loader}, delimiter=":"))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        translator.gettext, translator.ngettext, newstyle=True
    )
    environment.filters["label"] = _label
    environment.globals["current_locale"] = current_locale.get
    return environment


def _label(value: Label | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Label):
        return value(current_locale.get())
    return value
