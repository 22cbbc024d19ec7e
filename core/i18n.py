"""Page language: Chinese by default, English available, from babel catalogues.

Message ids are the Chinese texts; each owner (core, every plugin) keeps English catalogues
in ``translations/en/LC_MESSAGES/*.po`` (one per area if it likes). The catalogues are
compiled in memory at start-up, so no compiled ``.mo`` file needs to be built or committed.
"""

import io
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh", "en")
LOCALE_COOKIE = "pingan_lang"

current_locale: ContextVar[str] = ContextVar("pingan_locale", default="zh")


def load_translations(folders: Iterable[Path]) -> dict[str, NullTranslations]:
    """Locale → merged translations of every ``translations`` folder given.

    Where two folders translate the same text, the earlier folder's wording wins (core's
    comes first), so a plugin's catalogue cannot change what core's pages say.
    """
    merged: dict[str, NullTranslations] = {"zh": NullTranslations()}
    folders = list(folders)
    for locale in LOCALES[1:]:
        combined = Translations()
        for folder in reversed(folders):
            for po_file in sorted((folder / locale / "LC_MESSAGES").glob("*.po")):
                with po_file.open("rb") as po:
                    catalog = read_po(po, locale=locale)
                buffer = io.BytesIO()
                write_mo(buffer, catalog)
                buffer.seek(0)
                combined.merge(Translations(fp=buffer))
        merged[locale] = combined
    return merged


def negotiate(
    query: str | None, cookie: str | None, accept_language: str | None, default: str
) -> str:
    """Pick the page language: an explicit choice, then the browser's preference, then default."""
    for choice in (query, cookie):
        if choice in LOCALES:
            return choice
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default


class Translator:
    """Gettext callables that follow the request's language (``current_locale``)."""

    def __init__(self, translations: dict[str, NullTranslations]) -> None:
        self.translations = translations

    def gettext(self, message: str) -> str:
        """Translate ``message`` into the current language."""
        return self.translations.get(current_locale.get(), self.translations["zh"]).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with a plural form."""
        translations = self.translations.get(current_locale.get(), self.translations["zh"])
        return translations.ngettext(singular, plural, n)


def text(zh: str, en: str) -> str:
    """Pick the Chinese or English text for the current request's language.

    For short messages raised from services (errors, notices), where a catalogue entry would
    only repeat the pair.
    """
    return en if current_locale.get() == "en" else zh
