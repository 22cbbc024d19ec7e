"""The plugin's reports, each as plain rows (dicts) that pages chart and workbooks list.

Claims and timeliness, loss ratio, budget execution, donations and the public disclosure,
registers of rewards and reimbursements, the per-volunteer statement and the audit pack.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from core.access import path_in
from core.hours.models import HoursEntry
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer
from plugins.insurance import approvals, budgets, claims, cover
from plugins.insurance.clock import CHINA, china_day
from plugins.insurance.config import PAYMENT_DAYS, setting
from plugins.insurance.models import (
    Approval,
    Budget,
    Commitment,
    ExpenseClaim,
    FundingSource,
    Incident,
    InsuranceClaim,
    InsurancePolicy,
    Payment,
    Reward,
)
from plugins.insurance.vocab import ClaimStatus, CommitmentState, SourceKind

AGE_BUCKETS = ((30, "0–30"), (60, "31–60"), (90, "61–90"), (None, ">90"))


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


def claims_register(
    session: Session, path: str, year: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every claim of incidents in the year: amounts, milestones, age and clock state."""
    now = now or utcnow()
    start, end = _year_bounds(year)
    rows = []
    query = (
        select(InsuranceClaim, Incident)
        .join(Incident, Incident.id == InsuranceClaim.incident_id)
        .where(
            path_in(InsuranceClaim.unit_path, path),
            Incident.occurred_at >= start,
            Incident.occurred_at < end,
        )
        .order_by(InsuranceClaim.id)
    )
    for claim, incident in session.exec(query):
        state = claims.clock(session, claim, now)
        finished = claim.status in (ClaimStatus.paid, ClaimStatus.closed, ClaimStatus.withdrawn)
        age = (
            (claim.paid_at or claim.closed_at or now) if finished else now
        ) - incident.reported_at
        rows.append(
            {
                "number": claim.number,
                "claim_type": claim.claim_type,
                "status": claim.status,
                "unit_id": claim.unit_id,
                "reported_at": incident.reported_at,
                "submitted_to_insurer_at": claim.submitted_to_insurer_at,
                "decided_at": claim.decided_at,
                "paid_at": claim.paid_at,
                "claimed_fen": claim.claimed_fen,
                "approved_fen": claim.approved_fen,
                "paid_fen": claim.paid_fen,
                "age_days": age.days,
                "insurer_days": state.insurer_days_used.days if state.insurer_days_used else None,
                "decision_overdue": state.decision_overdue,
                "payment_overdue": state.payment_overdue,
            }
        )
    return rows


def ageing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open claims by age since the incident was reported."""
    counts = {label: 0 for _, label in AGE_BUCKETS}
    for row in rows:
        if row["status"] in (ClaimStatus.paid, ClaimStatus.closed, ClaimStatus.withdrawn):
            continue
        for limit, label in AGE_BUCKETS:
            if limit is None or row["age_days"] <= limit:
                counts[label] += 1
                break
    return [{"bucket": label, "claims": count} for label, count in counts.items()]


def insurer_timeliness(session: Session, path: str, year: int) -> list[dict[str, Any]]:
    """Per insurer: decisions within the decision clock, payments within the payment clock."""
    start, end = _year_bounds(year)
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "decided": 0,
            "decided_on_time": 0,
            "paid": 0,
            "paid_on_time": 0,
            "insurer_days": [],
        }
    )
    query = (
        select(InsuranceClaim, InsurancePolicy)
        .join(InsurancePolicy, InsurancePolicy.id == InsuranceClaim.policy_id)
        .where(
            path_in(InsuranceClaim.unit_path, path),
            col(InsuranceClaim.submitted_to_insurer_at).is_not(None),
        )
        .where(
            InsuranceClaim.submitted_to_insurer_at >= start,
            InsuranceClaim.submitted_to_insurer_at < end,
        )
    )
    for claim, policy in session.exec(query):
        row = found[policy.insurer]
        if claim.decided_at is not None:
            state = claims.clock(session, claim, claim.decided_at)
            row["decided"] += 1
            row["decided_on_time"] += claim.decided_at <= state.decision_due
            row["insurer_days"].append(state.insurer_days_used.total_seconds() / 86400)
        if claim.paid_at is not None and claim.agreed_at is not None:
            days = setting(session, claim.unit_path, PAYMENT_DAYS, china_day(claim.agreed_at))
            row["paid"] += 1
            row["paid_on_time"] += claim.paid_at <= claim.agreed_at + timedelta(days=days)
    result = []
    for insurer, row in sorted(found.items()):
        spent = row.pop("insurer_days")
        row["average_insurer_days"] = round(sum(spent) / len(spent), 1) if spent else None
        result.append({"insurer": insurer, **row})
    return result


def loss_ratio(session: Session, path: str, year: int) -> list[dict[str, Any]]:
    """Per policy in force during the year: premium, claims paid, and paid ÷ premium."""
    rows = []
    for policy in session.exec(
        select(InsurancePolicy)
        .where(path_in(InsurancePolicy.unit_path, path))
        .where(
            InsurancePolicy.period_from <= datetime(year, 12, 31).date(),
            InsurancePolicy.period_to >= datetime(year, 1, 1).date(),
        )
        .order_by(InsurancePolicy.id)
    ):
        paid = session.exec(
            select(func.coalesce(func.sum(InsuranceClaim.paid_fen), 0)).where(
                InsuranceClaim.policy_id == policy.id
            )
        ).one()
        rows.append(
            {
                "policy_no": policy.policy_no,
                "insurer": policy.insurer,
                "premium_fen": policy.premium_fen,
                "paid_fen": int(paid),
                "loss_ratio_percent": round(int(paid) * 100 / policy.premium_fen, 1)
                if policy.premium_fen
                else None,
            }
        )
    return rows


def incident_rate(session: Session, path: str, year: int) -> dict[str, Any]:
    """Incidents per 1000 volunteer-hours served in the subtree during the year."""
    start, end = _year_bounds(year)
    incidents = session.exec(
        select(func.count())
        .select_from(Incident)
        .where(
            path_in(Incident.unit_path, path),
            Incident.occurred_at >= start,
            Incident.occurred_at < end,
        )
    ).one()
    hours = session.exec(
        select(func.coalesce(func.sum(HoursEntry.hours), 0)).where(
            path_in(HoursEntry.unit_path, path),
            HoursEntry.service_date >= start.date(),
            HoursEntry.service_date < end.date(),
        )
    ).one()
    hours = float(hours or 0)
    return {
        "incidents": incidents,
        "hours": hours,
        "per_1000_hours": round(incidents * 1000 / hours, 2) if hours else None,
    }


def budget_execution(session: Session, path: str, year: int) -> list[dict[str, Any]]:
    """Budget, committed, spent and remaining by unit × category × source."""
    return budgets.execution(session, path, year)


def donations(session: Session, path: str, year: int, *, public: bool) -> list[dict[str, Any]]:
    """Gifts received in the year; donors named only when they agreed and ``public`` is asked."""
    start, end = datetime(year, 1, 1).date(), datetime(year, 12, 31).date()
    rows = []
    for source in session.exec(
        select(FundingSource)
        .where(path_in(FundingSource.unit_path, path))
        .where(
            col(FundingSource.kind).in_([SourceKind.donation.value, SourceKind.foundation.value])
        )
        .where(FundingSource.received_on >= start, FundingSource.received_on <= end)
        .order_by(FundingSource.received_on, FundingSource.id)
    ):
        spent = session.exec(
            select(func.coalesce(func.sum(Commitment.amount_fen), 0)).where(
                Commitment.source_id == source.id,
                Commitment.state == CommitmentState.consumed.value,
            )
        ).one()
        donor = source.donor_name if (public and source.donor_public) else None
        rows.append(
            {
                "source_id": source.id,
                "name": source.name,
                "donor": donor or ("匿名" if public else None),
                "received_on": source.received_on,
                "amount_fen": source.amount_fen,
                "receipt_no": source.receipt_no,
                "restricted": bool(source.restriction_categories),
                "used_fen": int(spent),
                "status": source.status,
            }
        )
    return rows


def disclosure_sections(
    session: Session, path: str, year: int, *, remainder_plan: str, audit_reports: list[str]
) -> dict[str, Any]:
    """The six sections a fundraising disclosure must show, use by category, never by name."""
    gifts = donations(session, path, year, public=True)
    ids = [row["source_id"] for row in gifts]
    by_category: dict[str, int] = defaultdict(int)
    if ids:
        for category, amount in session.exec(
            select(Commitment.lineage_id, func.sum(Commitment.amount_fen))
            .where(
                col(Commitment.source_id).in_(ids),
                Commitment.state == CommitmentState.consumed.value,
            )
            .group_by(Commitment.lineage_id)
        ):
            budget = session.exec(select(Budget).where(Budget.lineage_id == category)).first()
            by_category[budget.category] += int(amount)
    raised = sum(row["amount_fen"] for row in gifts)
    used = sum(by_category.values())
    return {
        "raised": {
            "total_fen": raised,
            "gifts": [
                {
                    "donor": row["donor"],
                    "amount_fen": row["amount_fen"],
                    "received_on": row["received_on"].isoformat(),
                }
                for row in gifts
            ],
        },
        "used": {"total_fen": used},
        "details": [
            {"category": category, "amount_fen": amount}
            for category, amount in sorted(by_category.items())
        ],
        "overhead": {"total_fen": by_category.get("other", 0)},
        "remainder": {"total_fen": raised - used, "plan": remainder_plan},
        "audit_reports": audit_reports,
    }


def rewards_register(session: Session, path: str, year: int) -> list[dict[str, Any]]:
    """Rewards and per-case subsidies proposed in the year, with their decisions."""
    start, end = _year_bounds(year)
    return [
        {
            "id": reward.id,
            "kind": reward.kind,
            "basis_ref": reward.basis_ref,
            "amount_fen": reward.amount_fen,
            "status": reward.status,
            "reason": reward.reason,
            "proposed_at": reward.proposed_at,
            "decisions": len(approvals.history(session, "reward", reward.id)),
        }
        for reward in session.exec(
            select(Reward)
            .where(
                path_in(Reward.unit_path, path),
                Reward.proposed_at >= start,
                Reward.proposed_at < end,
            )
            .order_by(Reward.id)
        )
    ]


def reimbursements_register(session: Session, path: str, year: int) -> list[dict[str, Any]]:
    """Reimbursements of activities in the year: lines, approvals, payment, reasons."""
    start, end = datetime(year, 1, 1).date(), datetime(year, 12, 31).date()
    rows = []
    for claim in session.exec(
        select(ExpenseClaim)
        .where(
            path_in(ExpenseClaim.unit_path, path),
            ExpenseClaim.activity_date >= start,
            ExpenseClaim.activity_date <= end,
        )
        .order_by(ExpenseClaim.id)
    ):
        decisions = approvals.history(session, "expense", claim.id)
        payment = session.exec(
            select(Payment)
            .where(Payment.doc_type == "expense", Payment.doc_id == claim.id)
            .order_by(col(Payment.id).desc())
        ).first()
        rows.append(
            {
                "number": claim.number,
                "activity_date": claim.activity_date,
                "status": claim.status,
                "claimed_fen": claim.claimed_fen,
                "sanctioned_fen": claim.sanctioned_fen,
                "steps": " → ".join(f"{a.step}({a.by_username})" for a in decisions),
                "returned_or_rejected": "; ".join(
                    a.reason for a in decisions if a.decision in ("return", "reject") and a.reason
                ),
                "voucher_no": payment.voucher_no if payment else None,
                "paid_at": payment.paid_at if payment else None,
            }
        )
    return rows


def statement(session: Session, volunteer: Volunteer) -> dict[str, Any]:
    """A volunteer's own record: cover periods, claims, rewards, reimbursements."""
    return {
        "cover": [
            {
                "policy_no": period["policy"].policy_no,
                "insurer": period["policy"].insurer,
                "valid_from": period["valid_from"],
                "valid_to": period["valid_to"],
                "basis": period["basis"],
                "certificate_no": period["certificate_no"],
            }
            for period in cover.cover_periods(session, volunteer)
        ],
        "claims": [
            {
                "number": c.number,
                "claim_type": c.claim_type,
                "status": c.status,
                "claimed_fen": c.claimed_fen,
                "paid_fen": c.paid_fen,
            }
            for c in session.exec(
                select(InsuranceClaim)
                .where(InsuranceClaim.claimant_person_id == volunteer.person_id)
                .order_by(InsuranceClaim.id)
            )
        ],
        "rewards": [
            {
                "kind": r.kind,
                "amount_fen": r.amount_fen,
                "status": r.status,
                "proposed_at": r.proposed_at,
            }
            for r in session.exec(
                select(Reward)
                .where(Reward.recipient_person_id == volunteer.person_id)
                .order_by(Reward.id)
            )
        ],
        "reimbursements": [
            {
                "number": e.number,
                "activity_date": e.activity_date,
                "status": e.status,
                "claimed_fen": e.claimed_fen,
                "sanctioned_fen": e.sanctioned_fen,
                "reason": e.reason,
            }
            for e in session.exec(
                select(ExpenseClaim)
                .where(ExpenseClaim.claimant_person_id == volunteer.person_id)
                .order_by(ExpenseClaim.id)
            )
        ],
    }


def audit_pack(session: Session, path: str, year: int) -> list[dict[str, Any]]:
    """Every decision of the year: who approved what, when, from which address."""
    start, end = _year_bounds(year)
    return [
        {
            "at": a.at,
            "subject": f"{a.subject_type}:{a.subject_id}",
            "step": a.step,
            "decision": a.decision,
            "by": a.by_username,
            "address": a.address,
            "amount_fen": a.amount_fen,
            "reason": a.reason,
        }
        for a in session.exec(
            select(Approval)
            .where(path_in(Approval.unit_path, path), Approval.at >= start, Approval.at < end)
            .order_by(Approval.id)
        )
    ]


def sod_report(session: Session, path: str) -> list[dict[str, Any]]:
    """Segregation-of-duties violations (empty in a correct run)."""
    return [
        {
            "subject": f"{v.subject_type}:{v.subject_id}",
            "rule": v.rule,
            "steps": " + ".join(v.steps),
            "user_id": v.user_id,
            "username": v.username,
        }
        for v in approvals.sod_violations(session, path)
    ]


def units_named(session: Session, ids: set[int]) -> dict[int, str]:
    """Unit id → name."""
    if not ids:
        return {}
    return dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(sorted(ids)))).all())
