"""Taking a module's quiz within an enrolment, and what passing it grants.

A volunteer takes the quiz of a module their session teaches, once the session has started
and as long as the enrolment stands, up to the quiz's ``max_attempts``. Each sitting is kept
with its answers and score. Passing (at least ``pass_mark`` right answers: the mark itself
passes) grants the module at once when the session is completed and they attended;
otherwise the completion grants it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from core.contributions import Quiz, TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.training.models import (
    EnrolmentStatus,
    Qualification,
    QuizAttempt,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
)
from core.training.sessions import grant_earned, module_codes, refused
from core.units.models import utcnow


@dataclass
class QuizResult:
    """A sitting's outcome and what it granted."""

    attempt: QuizAttempt
    granted: list[Qualification] = field(default_factory=list)
    attempts_left: int = 0


def attempts(session: Session, enrolment: TrainingEnrolment, module_code: str) -> list[QuizAttempt]:
    """The enrolment's sittings of a module's quiz, oldest first."""
    return list(
        session.exec(
            select(QuizAttempt)
            .where(QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.module_code == module_code)
            .order_by(col(QuizAttempt.id))
        ).all()
    )


def quiz_of(
    session: Session,
    training: TrainingSession,
    enrolment: TrainingEnrolment,
    module: TrainingModule | None,
    code: str,
    now: datetime | None = None,
) -> Quiz:
    """The quiz the enrolment may sit now for module ``code``.

    Raises:
        DomainError: the session does not teach the module or it has no quiz (404); the
            enrolment is cancelled, the session cancelled or not started yet (409).
    """
    now = now or utcnow()
    if module is None or module.quiz is None or code not in module_codes(session, training):
        raise DomainError(
            text("该场次没有这个模块的测验", "This session has no quiz for that module"),
            "not_found",
            404,
            [FieldError("code", "unknown", code)],
        )
    if enrolment.status != EnrolmentStatus.enrolled:
        message = text("该报名已取消", "This enrolment is cancelled")
        raise refused(message, "enrolment_id", "cancelled", 409)
    if training.status == SessionStatus.cancelled:
        raise refused(
            text("该场次已取消", "This session is cancelled"), "session_id", "cancelled", 409
        )
    if now < training.starts_at:
        message = text("培训开始后才能参加测验", "The quiz opens when the session starts")
        raise refused(message, "session_id", "not_started", 409)
    return module.quiz


def check_answers(quiz: Quiz, chosen: Sequence[Sequence[int]]) -> list[list[int]]:
    """The answers as sorted choice lists, one per question.

    Raises:
        DomainError: not one answer per question (400, ``answers``/``count``), or an answer
            names a choice the question does not have (400, ``answers[i]``/``choice``).
    """
    if len(chosen) != len(quiz.questions):
        message = text(
            f"请回答全部 {len(quiz.questions)} 道题", f"Answer all {len(quiz.questions)} questions"
        )
        raise refused(message, "answers", "count")
    answers = []
    for index, (question, answer) in enumerate(zip(quiz.questions, chosen, strict=True)):
        picked = sorted(set(answer))
        if any(not 0 <= choice < len(question.choices) for choice in picked):
            message = text(
                f"第 {index + 1} 题没有这个选项", f"Question {index + 1} has no such choice"
            )
            raise refused(message, f"answers[{index}]", "choice")
        if not picked:
            message = text(f"第 {index + 1} 题未作答", f"Question {index + 1} is not answered")
            raise refused(message, f"answers[{index}]", "required")
        answers.append(picked)
    return answers


def take(
    session: Session,
    training: TrainingSession,
    enrolment: TrainingEnrolment,
    module: TrainingModule | None,
    code: str,
    chosen: Sequence[Sequence[int]],
    catalogue: Mapping[str, TrainingModule],
    now: datetime | None = None,
) -> QuizResult:
    """Score one sitting of the module's quiz, keep it, and grant the module if earned.

    Raises:
        DomainError: as :func:`quiz_of` and :func:`check_answers`; the quiz is already
            passed (409, ``passed``) or no attempt is left (409, ``attempts``).
    """
    quiz = quiz_of(session, training, enrolment, module, code, now)
    answers = check_answers(quiz, chosen)
    earlier = attempts(session, enrolment, code)
    if any(attempt.passed for attempt in earlier):
        message = text("已通过该测验", "This quiz is already passed")
        raise refused(message, "code", "passed", 409)
    if len(earlier) >= quiz.max_attempts:
        message = text(
            f"测验最多可参加 {quiz.max_attempts} 次", f"At most {quiz.max_attempts} attempts"
        )
        raise refused(message, "code", "attempts", 409)
    score = quiz.score(answers)
    attempt = QuizAttempt(
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
        module_code=code,
        answers=answers,
        score=score,
        total=len(quiz.questions),
        pass_mark=quiz.pass_mark,
        passed=quiz.passes(score),
        taken_at=now or utcnow(),
    )
    session.add(attempt)
    session.flush()
    granted = []
    if attempt.passed:
        granted = grant_earned(session, training, enrolment, catalogue, training.closed_by_id)
    left = 0 if attempt.passed else quiz.max_attempts - len(earlier) - 1
    return QuizResult(attempt=attempt, granted=granted, attempts_left=left)
