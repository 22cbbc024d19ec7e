"""The objects plugins hand to core through the ``register_*`` and per-unit hooks.

They are plain frozen dataclasses: data that core validates, collects and renders.
Display texts that a plugin declares are :class:`Label` pairs, so a page can show them in
the reader's language without a message catalogue.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Label:
    """A short display text in Chinese (the default) and English."""

    zh: str
    en: str

    def __call__(self, locale: str) -> str:
        """Return the text for ``locale`` (``en`` or anything else for Chinese)."""
        return self.en if locale == "en" else self.zh


@dataclass(frozen=True)
class Action:
    """Something a role may be allowed to do, named ``<area>.<object>.<verb>``.

    Attributes:
        name: For example ``mediation.case.read``; the first part is the declaring plugin.
        description: What the action allows, in both languages.
        sensitive: True when the action reveals or exports personal data; its use is logged.
    """

    name: str
    description: Label
    sensitive: bool = False


@dataclass(frozen=True)
class Role:
    """A role a user can hold at a unit, with the actions it allows by default.

    A deployment may remap roles to actions in its policy file; the defaults here are what
    core and the declaring plugin consider least privilege for the job.

    Attributes:
        name: ``city_admin``, or for a plugin's department role ``mediation.mediator``.
        label: Its name for people.
        actions: Action names or ``<area>.<object>.*`` / ``<area>.*`` patterns.
        levels: Unit levels where it may be held (empty: any level).
    """

    name: str
    label: Label
    actions: tuple[str, ...]
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensitiveField:
    """A field holding personal data that is masked unless revealed, and whose reveal is logged.

    Attributes:
        table: The table holding it (``person``, ``mediation_party``).
        field: The attribute / column name.
        kind: How to mask it (a key of ``core.security.masking.MASKS``).
        reveal_action: The action that allows seeing it in clear (with a reason).
    """

    table: str
    field: str
    kind: str
    reveal_action: str


@dataclass(frozen=True)
class MenuItem:
    """An entry of the navigation of a unit's pages.

    Attributes:
        label: The text shown.
        url: Where it leads, usually under ``/units/{unit_id}/<plugin>/``.
        icon: An optional icon name.
        required_action: Shown only to users allowed this action at the unit; ``None`` for all.
        children: Sub-entries, filtered the same way.
        order: Lower first; ties keep plugin order.
    """

    label: Label
    url: str
    icon: str | None = None
    required_action: str | None = None
    children: tuple["MenuItem", ...] = ()
    order: int = 100


@dataclass(frozen=True)
class Figure:
    """A number on a unit's dashboard, such as open cases or volunteers on duty today."""

    label: Label
    value: int | float | str
    unit_of_measure: Label | None = None
    url: str | None = None
    required_action: str | None = None


FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
FIELD_KINDS = ("text", "textarea", "integer", "date", "choice", "boolean")


@dataclass(frozen=True)
class TaskField:
    """One field of a task type's own form, stored in the task's ``details``.

    Attributes:
        name: The key in ``details`` (lowercase letters, digits and ``_``).
        label: What the form calls it.
        kind: ``text`` (one line), ``textarea``, ``integer``, ``date`` (ISO), ``choice``
            (one of ``choices``) or ``boolean``.
        required: The task cannot be saved without it.
        choices: For ``choice``: the allowed values with their labels, in display order.
        max_length: For ``text`` and ``textarea``: the longest text accepted.
        minimum: For ``integer``: the smallest value accepted.
        maximum: For ``integer``: the largest value accepted.
    """

    name: str
    label: Label
    kind: str = "text"
    required: bool = False
    choices: tuple[tuple[str, Label], ...] = ()
    max_length: int = 200
    minimum: int | None = 0
    maximum: int | None = None

    def __post_init__(self) -> None:
        if not FIELD_NAME.match(self.name):
            raise ValueError(f"task field {self.name!r}: lowercase letters, digits and _ only")
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"task field {self.name!r}: kind must be one of {FIELD_KINDS}")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"task field {self.name!r}: choices go with kind 'choice' only")


@dataclass(frozen=True)
class TaskType:
    """A kind of task volunteers can be assigned to, such as patrol or fire inspection.

    Attributes:
        code: ``<owner>.<type>``, for example ``core.patrol`` or ``fire.inspection``.
        label: Its name.
        risky: True when the work carries personal risk (accident cover is then required,
            and the unit's maximum age for risky work applies).
        required_modules: Training module codes a volunteer must hold to be assigned.
        fields: The type's own fields, asked for and checked when a task is created.
        skills: Skills (``core.people.taxonomy.SKILLS`` codes) that suit the work: volunteers
            who have them are suggested first.
    """

    code: str
    label: Label
    risky: bool = False
    required_modules: tuple[str, ...] = ()
    fields: tuple[TaskField, ...] = ()
    skills: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [field.name for field in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"task type {self.code!r}: a field name is used twice")


@dataclass(frozen=True)
class AssignmentCheck:
    """A proposed assignment of a volunteer to a shift, as the eligibility rules see it.

    Attributes:
        volunteer_id: The volunteer proposed.
        person_id: Their person record (qualifications are held by the person).
        home_unit_id: The volunteer's own unit.
        unit_id: The unit whose shift it is (plugins are asked only where they are enabled).
        task_type: The task type's code (``core.patrol``, ``fire.inspection`` …).
        risky: Whether that task type carries personal risk.
        required_modules: Training module codes the task type and the shift require.
        starts_at: When the shift starts (aware, UTC).
        ends_at: When it ends.
    """

    volunteer_id: int
    person_id: int
    home_unit_id: int
    unit_id: int
    task_type: str
    risky: bool
    required_modules: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Refusal:
    """Why an assignment is refused (``blocking``) or only warned about.

    Attributes:
        rule: A stable name of the rule, ``<owner>.<rule>`` (``training.missing_module``).
        message: The reason, naming what is missing, in both languages.
        blocking: False for a warning the assigning leader sees but may override.
    """

    rule: str
    message: Label
    blocking: bool = True


@dataclass(frozen=True)
class QuizQuestion:
    """One question of a module's quiz, in the module's language (like its content).

    Attributes:
        text: The question.
        choices: The possible answers, shown in this order.
        answers: Indices (from 0) of the right choices; more than one makes it a
            multiple-choice question, answered right only when exactly these are chosen.
    """

    text: str
    choices: tuple[str, ...]
    answers: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.text.strip() or len(self.choices) < 2:
            raise ValueError(f"quiz question {self.text!r}: give a text and at least two choices")
        if not self.answers or len(set(self.answers)) != len(self.answers):
            raise ValueError(f"quiz question {self.text!r}: give each right answer once")
        if any(not 0 <= answer < len(self.choices) for answer in self.answers):
            raise ValueError(f"quiz question {self.text!r}: an answer names no choice")

    @property
    def multiple(self) -> bool:
        """Whether several choices are right (and must all be chosen)."""
        return len(self.answers) > 1

    def is_right(self, chosen: Iterable[int]) -> bool:
        """Whether ``chosen`` is exactly the set of right choices."""
        return set(chosen) == set(self.answers)


@dataclass(frozen=True)
class Quiz:
    """The test that closes a module: passed with at least ``pass_mark`` right answers.

    Attributes:
        questions: The questions, asked in this order.
        pass_mark: How many questions must be answered right to pass.
        max_attempts: How many times one enrolment may take it.
    """

    questions: tuple[QuizQuestion, ...]
    pass_mark: int
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.pass_mark <= len(self.questions):
            raise ValueError(
                f"quiz pass mark {self.pass_mark} must lie between 1 and its "
                f"{len(self.questions)} questions"
            )
        if self.max_attempts < 1:
            raise ValueError("a quiz allows at least one attempt")

    def score(self, chosen: Sequence[Iterable[int]]) -> int:
        """How many questions ``chosen`` gets right: one collection of choices per question.

        Raises:
            ValueError: ``chosen`` does not hold one answer per question.
        """
        pairs = zip(self.questions, chosen, strict=True)
        return sum(question.is_right(answer) for question, answer in pairs)

    def passes(self, score: int) -> bool:
        """Whether ``score`` right answers pass (the pass mark itself passes)."""
        return score >= self.pass_mark


@dataclass(frozen=True)
class TrainingModule:
    """A unit of training whose content lives in the owner's ``training/`` folder.

    Attributes:
        code: ``<owner>.<module>``.
        title: Its title.
        content: A path relative to the owner's ``training/`` folder: Markdown (``.md``) or a
            jinja2 template (``.html``), shown as the module's page.
        hours: Nominal duration in hours (credited to each attendant's training hours).
        required_roles: Roles that must hold it before working in them: team roles
            (``captain``, ``vice_captain``) or department roles (``mediation.mediator``).
        summary: One or two sentences for the catalogue.
        quiz: The test that closes the module; ``None`` when attendance alone qualifies.
        valid_days: How long the qualification stays valid; ``None`` for no expiry.
        departments: Codes of the departments that teach it (``police``, ``justice`` …,
            see ``core.training.departments``).
    """

    code: str
    title: Label
    content: str
    hours: float = 1.0
    required_roles: tuple[str, ...] = ()
    summary: Label | None = None
    quiz: Quiz | None = None
    valid_days: int | None = None
    departments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.hours <= 200:
            raise ValueError(f"training module {self.code}: hours must lie in (0, 200]")
        if self.valid_days is not None and self.valid_days < 1:
            raise ValueError(f"training module {self.code}: valid_days must be at least 1")
        if not self.content.endswith((".md", ".html")):
            raise ValueError(f"training module {self.code}: content must be a .md or .html file")

    @property
    def minutes(self) -> int:
        """The duration in whole minutes (how hours are stored and summed)."""
        return round(self.hours * 60)


@dataclass(frozen=True)
class Schedule:
    """When the scheduler records a run of a periodic job.

    Exactly one of ``cron`` (five crontab fields, server local time) and ``every_seconds``.
    """

    job: str
    cron: str | None = None
    every_seconds: int | None = None

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.every_seconds is None):
            raise ValueError(f"schedule for {self.job}: give exactly one of cron and every_seconds")


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened in the domain, for plugins to react to.

    Attributes:
        name: ``<area>.<object>.<past-tense verb>``, for example ``core.report.submitted``.
        unit_id: The unit where it happened; only plugins enabled there are told.
        payload: Ids and small values; never personal data.
    """

    name: str
    unit_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class ReportCategory:
    """A kind of report volunteers submit (线索、社情民意 …), or a plugin's claim to one.

    Core declares its own categories with bare codes (``clue``, ``opinion``, ``hazard``,
    ``dispute``). A plugin returns a category in one of two forms:

    - ``ReportCategory("dispute")`` — no label: the plugin *takes* core's category;
    - ``ReportCategory("sample.litter", Label(...))`` — a new category, ``<plugin>.<name>``,
      which the plugin takes too.

    A report of a taken category submitted where the taking plugin is enabled is recorded as
    routed to it (``Report.routed_to_plugin``), and the plugin hears of it through
    ``handle_event`` (``core.report.submitted``).

    Attributes:
        code: The category's code, as stored on the report.
        label: Its name; None when a plugin takes one of core's categories.
    """

    code: str
    label: Label | None = None
