"""Page forms read into the API's request models, so both are validated the same way.

Forms are flat: the intake form names its parties ``applicant_name``, ``respondent_phone`` …,
the agreement form its terms ``t1_content``, ``t2_due_on`` …; amounts are typed in yuan and
stored in fen.
"""

import re
from decimal import Decimal, InvalidOperation

from core.errors import FieldError
from core.i18n import text

YUAN = re.compile(r"^\d{1,11}(\.\d{1,2})?$")
PARTY_FIELDS = ("name", "id_no", "phone", "address")
PARTY_PREFIXES = (
    ("applicant", "applicant"),
    ("respondent", "respondent"),
    ("third", "third_party"),
)
TERM_FIELDS = ("obligor_party_id", "obligee_party_id", "content", "method", "place", "due_on")
TERM_ROWS = 3


def blank_free(form: dict[str, str], keys) -> dict[str, str]:
    """The listed fields that were filled in, stripped."""
    return {key: form[key].strip() for key in keys if form.get(key, "").strip()}


def fen(value: str | None, field: str, errors: list[FieldError]) -> int | None:
    """An amount in yuan (up to two decimals) as fen; a bad one adds an error."""
    if not value:
        return None
    value = value.strip().replace(",", "")
    if not YUAN.match(value):
        errors.append(
            FieldError(field, "amount", text("金额应为元，最多两位小数", "An amount in yuan"))
        )
        return None
    try:
        return int(Decimal(value) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern excludes it
        return None


def checkbox(form: dict[str, str], key: str) -> bool:
    """A ticked checkbox."""
    return form.get(key) in ("1", "on", "true")


def intake(form: dict[str, str], errors: list[FieldError]) -> dict:
    """The intake form as a ``DisputeCreate`` body."""
    values: dict = blank_free(
        form, ("committee_id", "source", "category", "summary", "claims", "risk_level")
    )
    values["people_involved"] = form.get("people_involved") or "2"
    values["amount_involved_fen"] = fen(form.get("amount_involved"), "amount_involved", errors)
    values["urgent"] = checkbox(form, "urgent")
    values["supervised"] = checkbox(form, "supervised")
    parties = []
    for prefix, role in PARTY_PREFIXES:
        party = {
            key: form[f"{prefix}_{key}"].strip()
            for key in PARTY_FIELDS
            if form.get(f"{prefix}_{key}", "").strip()
        }
        if party or prefix != "third":
            parties.append({"role": role, **party})
    values["parties"] = parties
    return values


def agreement(form: dict[str, str], errors: list[FieldError]) -> dict:
    """The agreement form as an ``AgreementIn`` body (empty term rows left out)."""
    values: dict = blank_free(form, ("form", "facts", "content", "agreed_on"))
    terms = []
    for row in range(1, TERM_ROWS + 1):
        term = blank_free(form, [f"t{row}_{key}" for key in TERM_FIELDS])
        amount = fen(form.get(f"t{row}_amount"), f"terms.{row}.amount", errors)
        if not term and amount is None:
            continue
        term = {key.split("_", 1)[1]: value for key, value in term.items()}
        if amount is not None:
            term["amount_fen"] = amount
        terms.append(term)
    values["terms"] = terms
    return values


def picks(form: dict[str, str]) -> dict:
    """The assignment form (checked mediators) as an ``AssignmentIn`` body."""
    how = form.get("how") or "designated"
    chosen = sorted(key.split(".", 1)[1] for key in form if key.startswith("mediator."))
    mediators = []
    for mediator_id in chosen:
        pick = {"mediator_id": mediator_id, "how": how}
        if checkbox(form, f"conflict.{mediator_id}"):
            pick["conflict_declared"] = True
            pick["conflict_note"] = form.get(f"conflict_note.{mediator_id}", "").strip() or None
        mediators.append(pick)
    return {"mediators": mediators}


def flags(form: dict[str, str], keys, *, plain=()) -> dict:
    """Checkbox fields as booleans, with the ``plain`` text fields that were filled in."""
    values = {key: checkbox(form, key) for key in keys}
    values.update(blank_free(form, plain))
    return values
