"""Every text a page shows in Chinese has its English translation."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from core.i18n import load_translations
from core.plugins import Plugins, make_plugin_manager

JINJA = {"extensions": "jinja2.ext.i18n"}


def page_messages(owner_folder: Path) -> set[str]:
    messages = set()
    for root, method in ((owner_folder / "templates", "jinja2"), (owner_folder, "python")):
        if not root.is_dir():
            continue
        pattern = "**.html" if method == "jinja2" else "**.py"
        for _, _, message, _, _ in extract_from_dir(
            str(root), method_map=[(pattern, method)], options_map={pattern: JINJA}
        ):
            messages.add(message if isinstance(message, str) else message[0])
    return messages


OWNERS = Plugins(make_plugin_manager()).folders("templates")


@pytest.mark.parametrize("owner", sorted(OWNERS))
def test_every_page_text_has_an_english_translation(owner):
    plugins = Plugins(make_plugin_manager())
    english = load_translations(plugins.folders("translations").values())["en"]
    folder = plugins.folder(owner)
    missing = sorted(m for m in page_messages(folder) if english.gettext(m) == m)
    assert missing == [], f"{owner}: add English for {missing} to translations/en/LC_MESSAGES/"


def test_a_plugin_cannot_reword_what_core_translates(tmp_path):
    def catalogue(owner: str, english: str) -> Path:
        folder = tmp_path / owner
        (folder / "en" / "LC_MESSAGES").mkdir(parents=True)
        (folder / "en" / "LC_MESSAGES" / "messages.po").write_text(
            f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
            f'msgid "情况描述"\nmsgstr "{english}"\n\nmsgid "{owner}"\nmsgstr "{owner}!"\n',
            encoding="utf-8",
        )
        return folder

    english = load_translations(
        [catalogue("core", "Describe what happened"), catalogue("plugin", "What happened")]
    )["en"]
    assert english.gettext("情况描述") == "Describe what happened"
    assert (english.gettext("core"), english.gettext("plugin")) == ("core!", "plugin!")
