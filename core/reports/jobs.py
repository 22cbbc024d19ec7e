"""Reports' background jobs: who hears of a report, and of one left untriaged.

Handlers hear of new reports, reporters of their report's progress, and the leaders of a
handling unit (and of the unit above) of reports left untriaged past the limit. Messages go
to the inbox and, for users with an address, by e-mail; each carries a dedupe key naming
the step (or the overdue report) and the user, so a job run twice writes nothing twice. No
message names the reporter.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import RoleGrant, User
from core.accounts.policy import Policy
from core.contributions import Label
from core.jobs import job
from core.notifications.email import deliver_with_email
from core.reports.models import Report, ReportStatus, ReportStep
from core.reports.permissions import HANDLE
from core.reports.services import NEW, NOTIFY_JOB, STATUS_LABELS, category_label
from core.unitconfig.services import CHINA
from core.units.models import Unit, utcnow

SWEEP_JOB = "core.sweep_report_triage"
SWEEP_BATCH = 500


def _say(locale: str, zh: str, en: str) -> str:
    return en if locale == "en" else zh


def _local(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def handlers_at(session: Session, policy: Policy, unit_ids: list[int]) -> list[int]:
    """Active users holding, at one of these units exactly, a role that handles reports."""
    roles = [name for name in policy.roles if HANDLE in policy.actions(name)]
    if not roles or not unit_ids:
        return []
    return sorted(
        session.exec(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                col(RoleGrant.unit_id).in_(unit_ids),
                col(RoleGrant.role).in_(roles),
                User.is_active == sa.true(),
            )
            .distinct()
        ).all()
    )


def nearest_handlers(session: Session, policy: Policy, unit: Unit) -> list[int]:
    """The handlers at ``unit``, or at the nearest unit above it that has any."""
    for unit_id in reversed(unit.ancestor_ids):
        found = handlers_at(session, policy, [unit_id])
        if found:
            return found
    return []


def _policy(context) -> Policy:
    return Policy(context.plugins.roles, context.plugins.actions, context.settings.policy_file)


@job(NOTIFY_JOB, max_retries=5)
def notify_report(report_id: int, step_id: int, context) -> int:
    """For one step: a new report goes to its handlers; any later step to the reporter.

    The reporter reads the new status and, on closing, the feedback — never the notes.
    Idempotent (dedupe key per step and user). Returns how many messages were new.
    """
    locale = context.settings.default_locale
    with context.session_factory() as session:
        report = session.get(Report, report_id)
        step = session.get(ReportStep, step_id)
        if report is None or step is None or step.report_id != report.id:
            return 0
        unit = session.get(Unit, report.unit_id)
        category = category_label(context.plugins, report.category)
        messages = []
        if step.from_status == NEW:
            subject = _say(
                locale,
                f"新报告待分拣：{category.zh}（{unit.name}）",
                f"New report to triage: {category.en} ({unit.name})",
            )
            body = _say(
                locale,
                f"「{report.title}」须在 {_local(report.triage_due_at)} 前分拣。",
                f"“{report.title}” is to be triaged by {_local(report.triage_due_at)}.",
            )
            messages += [
                (user_id, subject, body, f"/reports/{report.id}")
                for user_id in nearest_handlers(session, _policy(context), unit)
            ]
        elif report.reporter_user_id is not None:
            status = STATUS_LABELS[ReportStatus(step.to_status)]
            subject = _say(
                locale,
                f"你的报告「{report.title}」：{status.zh}",
                f"Your report “{report.title}”: {status.en}",
            )
            body = subject
            if step.to_status == ReportStatus.closed and report.feedback:
                body += _say(locale, f"\n答复：{report.feedback}", f"\nFeedback: {report.feedback}")
            reporter = session.get(User, report.reporter_user_id)
            if reporter is not None and reporter.is_active:
                messages.append((reporter.id, subject, body, "/reports/mine"))
        written = deliver_with_email(
            session,
            [
                (user_id, subject, body, url, f"report:{step.id}:user:{user_id}")
                for user_id, subject, body, url in messages
            ],
        )
        session.commit()
        return written


def overdue_messages(
    session: Session, policy: Policy, report: Report, locale: str, labels: Label
) -> list[tuple[int, str, str, str, str]]:
    """The messages about one overdue report: to the handling unit's leaders and the unit above."""
    unit = session.get(Unit, report.unit_id)
    here = handlers_at(session, policy, [unit.id])
    above = handlers_at(session, policy, [unit.parent_id]) if unit.parent_id else []
    subject = _say(
        locale,
        f"报告分拣超时：{labels.zh}（{unit.name}）",
        f"Report not triaged in time: {labels.en} ({unit.name})",
    )
    body = _say(
        locale,
        f"「{report.title}」应于 {_local(report.triage_due_at)} 前分拣，至今未分拣。",
        f"“{report.title}” was due for triage by {_local(report.triage_due_at)} and is "
        "still waiting.",
    )
    return [
        (user_id, subject, body, f"/reports/{report.id}", f"report:{report.id}:overdue:{user_id}")
        for user_id in sorted(set(here) | set(above))
    ]


@job(SWEEP_JOB)
def sweep_report_triage(context) -> int:
    """Flag every report past its triage limit once, to its unit's leaders and the unit above.

    Periodic and idempotent: a flagged report is stamped (``overdue_notified_at``) in the same
    transaction as its messages, and each message's dedupe key names the report and the user,
    so a second run — or two at once — tells nobody twice. A report triaged late is simply no
    longer found. Returns how many reports were flagged.
    """
    locale = context.settings.default_locale
    policy = _policy(context)
    flagged = 0
    with context.session_factory() as session:
        while True:
            now = utcnow()
            reports = session.exec(
                select(Report)
                .where(
                    Report.status == ReportStatus.submitted,
                    Report.triage_due_at <= now,
                    col(Report.overdue_notified_at).is_(None),
                )
                .order_by(Report.triage_due_at, Report.id)
                .limit(SWEEP_BATCH)
            ).all()
            if not reports:
                break
            messages = []
            for report in reports:
                labels = category_label(context.plugins, report.category)
                messages += overdue_messages(session, policy, report, locale, labels)
                report.overdue_notified_at = now
                session.add(report)
            deliver_with_email(session, messages)
            session.commit()
            flagged += len(reports)
    return flagged
