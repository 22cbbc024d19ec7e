"""Periodic sweeps of the mediation plugin.

Deadlines, performance, follow-ups, the confirmation window, risk, case files, monthly
statistics and mediators' terms.

Each sweep recomputes from the database what is due today (a missed run heals itself) and is
idempotent: messages carry a key per dispute, occasion and user, a statistics row is
replaced rather than added, and the system's closing of a finished dispute checks its status
first. Units where the plugin is switched off are left alone; their data stays.
"""

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session, col, func, select

from core.jobs import job
from core.notifications.services import deliver
from core.units.models import Unit
from core.units.services import enabled_plugins
from plugins.mediation import agreements, cases, clock, statistics
from plugins.mediation.casefile import missing_required
from plugins.mediation.models import (
    AgreementTerm,
    Committee,
    Confirmation,
    Dispute,
    Escalation,
    FollowUp,
    Mediator,
    Performance,
    Snapshot,
)
from plugins.mediation.notify import holders, mediator_accounts, policy_of, tell
from plugins.mediation.permissions import (
    CASE_ARCHIVE,
    CASE_DECIDE,
    COMMITTEE_MANAGE,
    MEDIATOR_MANAGE,
)
from plugins.mediation.settings import config_at
from plugins.mediation.vocab import (
    AgreementForm,
    MediatorStatus,
    Risk,
    Status,
    TermEvent,
    TermStatus,
)

PLUGIN = "mediation"


def enabled_filter(session: Session) -> Callable[[int], bool]:
    """Whether the plugin is on at a unit, cached for one run."""
    cache: dict[int, bool] = {}

    def enabled(unit_id: int) -> bool:
        if unit_id not in cache:
            cache[unit_id] = PLUGIN in enabled_plugins(session, session.get(Unit, unit_id))
        return cache[unit_id]

    return enabled


def _disputes(session: Session, *statuses: Status) -> list[Dispute]:
    found = session.exec(select(Dispute).where(col(Dispute.status).in_(statuses))).all()
    enabled = enabled_filter(session)
    return [dispute for dispute in found if enabled(dispute.unit_id)]


@job("mediation.deadline_sweep")
def deadline_sweep(context) -> int:
    """Mediation time limits: a reminder before, a warning on the day, then the director's task.

    After the limit the director extends with the parties' consent or ends the mediation.
    """
    policy = policy_of(context)
    sent = 0
    with context.session_factory() as session:
        today = clock.today()
        for dispute in _disputes(session, Status.accepted, Status.in_mediation):
            deadline = dispute.deadline
            if deadline is None:
                continue
            config = config_at(session, dispute.unit_path, today)
            mediators = mediator_accounts(session, dispute)
            key = f"deadline:{deadline}"
            if deadline - timedelta(days=config.deadline_reminder_days) <= today < deadline:
                sent += tell(
                    session,
                    mediators,
                    dispute,
                    f"{key}:reminder",
                    f"调解期限将至：{dispute.case_no}",
                    f"本案应于 {deadline} 前调结。",
                )
            elif today == deadline:
                directors = holders(session, policy, CASE_DECIDE, dispute.unit_path)
                sent += tell(
                    session,
                    mediators | directors,
                    dispute,
                    f"{key}:due",
                    f"今日到期：{dispute.case_no}",
                    "调解期限今日届满；继续调解须经双方当事人同意并延期。",
                )
            elif today > deadline:
                directors = holders(session, policy, CASE_DECIDE, dispute.unit_path)
                sent += tell(
                    session,
                    directors,
                    dispute,
                    f"{key}:overdue",
                    f"已超期：{dispute.case_no}",
                    f"调解期限已于 {deadline} 届满：经双方当事人同意延期，或终止调解。",
                )
        session.commit()
    return sent


@job("mediation.performance_sweep")
def performance_sweep(context) -> int:
    """Agreement terms: a reminder before the due day, and a 督促 task when one is late."""
    sent = 0
    with context.session_factory() as session:
        today = clock.today()
        for dispute in _disputes(session, Status.performing):
            config = config_at(session, dispute.unit_path, today)
            terms = session.exec(
                select(AgreementTerm).where(
                    AgreementTerm.dispute_id == dispute.id,
                    AgreementTerm.status == TermStatus.pending,
                    col(AgreementTerm.due_on).is_not(None),
                )
            ).all()
            mediators = mediator_accounts(session, dispute)
            for term in terms:
                soon = term.due_on - timedelta(days=config.performance_reminder_days)
                if soon <= today <= term.due_on:
                    sent += tell(
                        session,
                        mediators,
                        dispute,
                        f"term:{term.id}:{term.due_on}:reminder",
                        f"协议条款即将到期：{dispute.case_no} 第{term.position}项",
                        f"应于 {term.due_on} 前履行。",
                    )
                elif today >= term.due_on + timedelta(days=config.urge_after_days):
                    if term.urged_on is None:
                        sent += tell(
                            session,
                            mediators,
                            dispute,
                            f"term:{term.id}:{term.due_on}:urge",
                            f"请督促履行：{dispute.case_no} 第{term.position}项",
                            f"该条款应于 {term.due_on} 前履行，尚无履行记录。",
                        )
        session.commit()
    return sent


@job("mediation.followup_scheduler")
def followup_scheduler(context) -> int:
    """Schedule the follow-up visit (回访) and tell the mediators when it is due.

    It falls some days after the agreement took effect or the last performance.
    """
    sent = 0
    with context.session_factory() as session:
        today = clock.today()
        for dispute in _disputes(
            session, Status.agreement_reached, Status.performing, Status.performed
        ):
            if dispute.effective_at is None:
                continue
            visited = session.exec(
                select(FollowUp.id).where(FollowUp.dispute_id == dispute.id)
            ).first()
            if visited is not None:
                continue
            if dispute.followup_due_on is None:
                last = session.exec(
                    select(func.max(Performance.on)).where(
                        Performance.dispute_id == dispute.id,
                        Performance.event == TermEvent.performed,
                    )
                ).one()
                start = max(filter(None, [clock.local_day(dispute.effective_at), last]))
                config = config_at(session, dispute.unit_path, today)
                dispute.followup_due_on = start + timedelta(days=config.followup_after_days)
                session.add(dispute)
            if dispute.followup_due_on <= today:
                sent += tell(
                    session,
                    mediator_accounts(session, dispute),
                    dispute,
                    f"followup:{dispute.followup_due_on}",
                    f"请回访：{dispute.case_no}",
                    "了解协议履行情况、当事人满意度和有无激化迹象。",
                )
        session.commit()
    return sent


@job("mediation.confirmation_window")
def confirmation_window(context) -> int:
    """The judicial confirmation window of written agreements with terms to perform.

    On the configured day of the window the mediator is reminded that the parties may jointly
    apply for 司法确认, and told once the window has closed.
    """
    sent = 0
    with context.session_factory() as session:
        today = clock.today()
        for dispute in _disputes(session, Status.agreement_reached, Status.performing):
            agreement = agreements.agreement_of(session, dispute)
            if (
                agreement is None
                or agreement.form != AgreementForm.written
                or agreement.effective_at is None
            ):
                continue
            applied = session.exec(
                select(Confirmation.id).where(Confirmation.agreement_id == agreement.id)
            ).first()
            terms = agreements.terms_of(session, agreement)
            if applied is not None or not terms:
                continue
            effective = clock.local_day(agreement.effective_at)
            config = config_at(session, dispute.unit_path, effective)
            last_day = agreements.confirmation_deadline(session, dispute, agreement)
            reminder_day = effective + timedelta(days=config.confirmation_reminder_day)
            mediators = mediator_accounts(session, dispute)
            if reminder_day <= today <= last_day:
                sent += tell(
                    session,
                    mediators,
                    dispute,
                    f"confirmation:{last_day}:reminder",
                    f"可申请司法确认：{dispute.case_no}",
                    f"双方当事人可在 {last_day} 前共同向人民法院申请司法确认。",
                )
            elif today > last_day:
                sent += tell(
                    session,
                    mediators,
                    dispute,
                    f"confirmation:{last_day}:closed",
                    f"司法确认申请期已过：{dispute.case_no}",
                    f"申请期已于 {last_day} 届满。",
                )
        session.commit()
    return sent


@job("mediation.risk_escalation")
def risk_escalation(context, dispute_id: int | None = None) -> int:
    """Tell who must act on a dispute whose escalation risk is not reported.

    Red: the director, the supervising office and the mediators are told at once until the
    report is recorded; orange: the same when no report is recorded within the configured
    hours; yellow: the mediators handle it on the spot.

    With ``dispute_id`` (recorded when a dispute's risk rises) only that dispute is looked
    at; the hourly run looks at every open one.
    """
    policy = policy_of(context)
    sent = 0
    with context.session_factory() as session:
        now = clock.now()
        if dispute_id is not None:
            found = session.get(Dispute, dispute_id)
            enabled = enabled_filter(session)
            disputes = [found] if found is not None and enabled(found.unit_id) else []
        else:
            disputes = _disputes(
                session,
                Status.registered,
                Status.accepted,
                Status.in_mediation,
                Status.agreement_reached,
                Status.performing,
                Status.defaulted,
            )
        for dispute in disputes:
            if dispute.risk_level in (Risk.none, Risk.yellow):
                continue
            reported = session.exec(
                select(Escalation.id).where(
                    Escalation.dispute_id == dispute.id,
                    Escalation.reported_at >= dispute.risk_changed_at,
                )
            ).first()
            if reported is not None:
                continue
            config = config_at(session, dispute.unit_path, clock.local_day(now))
            late = now - dispute.risk_changed_at >= timedelta(hours=config.orange_acknowledge_hours)
            if dispute.risk_level == Risk.orange and not late:
                continue
            people = (
                mediator_accounts(session, dispute)
                | holders(session, policy, CASE_DECIDE, dispute.unit_path)
                | holders(session, policy, COMMITTEE_MANAGE, dispute.unit_path)
            )
            level = "红色" if dispute.risk_level == Risk.red else "橙色"
            sent += tell(
                session,
                people,
                dispute,
                f"risk:{dispute.risk_level}:{dispute.risk_changed_at.isoformat()}",
                f"{level}风险纠纷待报告：{dispute.case_no}",
                "纠纷有激化可能：请立即疏导并报告公安机关或司法所，登记报告后方可继续办理。",
            )
        session.commit()
    return sent


@job("mediation.casefile_check")
def casefile_check(context) -> int:
    """Close finished disputes and list incomplete case files.

    Failed, refused and declined disputes are closed (the system's step); closed disputes whose
    file still misses required documents some days after closing are listed to the clerks.
    """
    policy = policy_of(context)
    done = 0
    with context.session_factory() as session:
        today = clock.today()
        for dispute in _disputes(session, Status.failed, Status.refused, Status.not_accepted):
            done += cases.close_finished(session, dispute)
        session.flush()
        for dispute in _disputes(session, Status.closed):
            config = config_at(session, dispute.unit_path, today)
            if (
                clock.local_day(dispute.closed_at) + timedelta(days=config.casefile_overdue_days)
                > today
            ):
                continue
            missing = missing_required(session, dispute)
            if missing:
                done += tell(
                    session,
                    holders(session, policy, CASE_ARCHIVE, dispute.unit_path),
                    dispute,
                    "casefile:incomplete",
                    f"卷宗待补齐：{dispute.case_no}",
                    "缺少：" + "、".join(row.document.zh for row in missing),
                )
        session.commit()
    return done


@job("mediation.monthly_snapshot")
def monthly_snapshot(context) -> int:
    """Freeze last month's statistics of every committee (one row per committee and month)."""
    with context.session_factory() as session:
        period = statistics.previous_month(clock.today())
        enabled = enabled_filter(session)
        written = 0
        for committee in session.exec(select(Committee)).all():
            if not enabled(committee.unit_id):
                continue
            figures = statistics.compute(session, Dispute.committee_id == committee.id, period)
            row = session.exec(
                select(Snapshot).where(
                    Snapshot.committee_id == committee.id, Snapshot.period == period.name
                )
            ).first() or Snapshot(
                committee_id=committee.id,
                unit_id=committee.unit_id,
                unit_path=committee.unit_path,
                period=period.name,
            )
            row.figures = figures.as_dict()
            row.computed_at = clock.now()
            session.add(row)
            written += 1
        session.commit()
    return written


@job("mediation.mediator_compliance")
def mediator_compliance(context) -> int:
    """Tell whoever manages mediators of terms ending soon and of missing pre-service training."""
    policy = policy_of(context)
    sent = 0
    with context.session_factory() as session:
        today = clock.today()
        enabled = enabled_filter(session)
        found = session.exec(select(Mediator).where(Mediator.status == MediatorStatus.active)).all()
        for mediator in found:
            if not enabled(mediator.unit_id):
                continue
            config = config_at(session, mediator.unit_path, today)
            problems = []
            if mediator.term_end is not None and mediator.term_end <= today + timedelta(
                days=config.term_end_warning_days
            ):
                problems.append(f"term:{mediator.term_end}")
            if mediator.pre_service_training_on is None:
                problems.append("pre_service")
            if not problems:
                continue
            managers = holders(session, policy, MEDIATOR_MANAGE, mediator.unit_path)
            messages = []
            for problem in problems:
                subject = (
                    f"调解员任期将于 {mediator.term_end} 届满（编号 {mediator.id}）"
                    if problem.startswith("term")
                    else f"调解员岗前培训未登记（编号 {mediator.id}）"
                )
                url = f"/units/{mediator.unit_id}/mediation/mediators"
                messages += [
                    (user, subject, "", url, f"mediation:mediator:{mediator.id}:{problem}:{user}")
                    for user in sorted(managers)
                ]
            sent += deliver(session, messages)
        session.commit()
    return sent


JOBS = [
    deadline_sweep,
    performance_sweep,
    followup_scheduler,
    confirmation_window,
    risk_escalation,
    casefile_check,
    monthly_snapshot,
    mediator_compliance,
]
