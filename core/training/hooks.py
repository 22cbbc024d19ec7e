"""Core's hook implementations for training: core's modules and the assignment gate."""

from pathlib import Path

from core.hookspecs import hookimpl
from core.training.catalogue import SESSION_CATALOGUE, load_modules
from core.training.gates import assignment_refusals

INDEX = Path(__file__).parent / "modules.toml"


@hookimpl
def register_training_modules():
    """The modules the policy asks every volunteer to learn (``modules.toml``)."""
    return load_modules(INDEX)


@hookimpl
def check_assignment(check, session):
    """Refuse a volunteer who lacks a module the task type or the shift requires."""
    return assignment_refusals(session, check, session.info.get(SESSION_CATALOGUE, {}))
