"""The module catalogue: modules declared in a TOML index, and their content shown as pages.

A plugin may build its ``TrainingModule`` objects in Python, or keep them next to their
content in ``training/modules.toml`` and return ``load_modules(folder / "modules.toml")``
from ``register_training_modules``, as core does::

    [[modules]]
    code = "mediation.law"
    title = { zh = "人民调解法要点", en = "The People's Mediation Law" }
    summary = { zh = "…", en = "…" }
    content = "law.md"            # relative to training/: Markdown, or a .html template
    hours = 2
    valid_days = 1095             # leave out for no expiry
    departments = ["justice"]
    required_roles = ["mediation.mediator"]

    [modules.quiz]
    pass_mark = 4                 # right answers needed
    max_attempts = 3

    [[modules.quiz.questions]]
    text = "人民调解应当遵循哪项原则？"
    choices = ["自愿、平等", "强制调解", "有偿服务"]
    answers = [0]                 # indices of the right choices
"""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from core.contributions import Label, Quiz, QuizQuestion, TrainingModule

# CommonMark without raw HTML: content is data from a plugin, rendered into our pages.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def _label(value: Any, where: str) -> Label:
    if not isinstance(value, dict) or not {"zh", "en"} <= set(value):
        raise ValueError(f"{where}: give {{ zh = …, en = … }}")
    return Label(str(value["zh"]), str(value["en"]))


def _quiz(value: dict[str, Any], where: str) -> Quiz:
    questions = tuple(
        QuizQuestion(
            text=str(question["text"]),
            choices=tuple(str(choice) for choice in question["choices"]),
            answers=tuple(int(answer) for answer in question["answers"]),
        )
        for question in value.get("questions", [])
    )
    try:
        return Quiz(
            questions=questions,
            pass_mark=int(value["pass_mark"]),
            max_attempts=int(value.get("max_attempts", 3)),
        )
    except (KeyError, ValueError) as error:
        raise ValueError(f"{where}: quiz: {error}") from error


def load_modules(index: Path) -> list[TrainingModule]:
    """The modules declared in a ``modules.toml`` index, in file order.

    Raises:
        ValueError: a module lacks a field or breaks a rule; the message names it.
    """
    with index.open("rb") as source:
        data = tomllib.load(source)
    modules = []
    for number, entry in enumerate(data.get("modules", []), start=1):
        where = f"{index.name} module {entry.get('code', number)}"
        try:
            modules.append(
                TrainingModule(
                    code=entry["code"],
                    title=_label(entry["title"], where),
                    content=entry["content"],
                    hours=float(entry.get("hours", 1)),
                    required_roles=tuple(entry.get("required_roles", ())),
                    summary=_label(entry["summary"], where) if "summary" in entry else None,
                    quiz=_quiz(entry["quiz"], where) if "quiz" in entry else None,
                    valid_days=entry.get("valid_days"),
                    departments=tuple(entry.get("departments", ())),
                )
            )
        except KeyError as missing:
            raise ValueError(f"{where}: missing {missing}") from None
    return modules


def content_problem(folder: Path | None, module: TrainingModule) -> str | None:
    """Why the module's content cannot be shown (missing or outside ``training/``), if so."""
    if folder is None:
        return "the owner has no training/ folder"
    path = (folder / module.content).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        return f"content {module.content!r} is not a file in {folder}"
    return None


def render_content(folder: Path, module: TrainingModule) -> Markup:
    """The module's content as safe HTML: Markdown rendered, or its template rendered."""
    if module.content.endswith(".md"):
        return Markup(_MARKDOWN.render((folder / module.content).read_text(encoding="utf-8")))
    environment = Environment(
        loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True)
    )
    return Markup(environment.get_template(module.content).render(module=module))


def title_of(catalogue: Mapping[str, TrainingModule], code: str) -> Label:
    """A module's title; its code when the module is no longer installed."""
    module = catalogue.get(code)
    return module.title if module else Label(code, code)


#: ``session.info`` key under which every platform session finds the module registry
#: (code → module), for hook implementations that get only a session (``check_assignment``).
SESSION_CATALOGUE = "pingan.training.modules"
