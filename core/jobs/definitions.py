"""Declaring background jobs without binding them to a broker at import time."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobDefinition:
    """A job function and its dramatiq options, declared on a broker later by core.

    ``dramatiq.actor`` binds an actor to the global broker the moment the decorator runs, so
    a module imported before the broker is configured silently talks to the wrong one. A
    definition is only data; :class:`core.jobs.runtime.JobRuntime` turns every registered
    definition into a ``dramatiq.Actor`` on the broker it was built with, so each app and each
    test gets its own broker.
    """

    name: str
    fn: Callable[..., Any]
    queue: str
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the job function directly, in this thread (tests, sweeps called inline)."""
        return self.fn(*args, **kwargs)


def job(
    name: str, *, queue: str | None = None, **options: Any
) -> Callable[[Callable[..., Any]], JobDefinition]:
    """Declare a background job named ``<owner>.<job>``.

    Args:
        name: Unique name, for example ``mediation.remind_deadline``.
        queue: The queue; defaults to the owner (the part before the dot).
        **options: dramatiq actor options such as ``max_retries`` or ``time_limit`` (ms).

    The function receives keyword arguments (ids, never objects) and, when it declares a
    ``context`` parameter, a :class:`core.jobs.runtime.JobContext` giving a database session
    factory and the job's id.
    """

    def decorate(fn: Callable[..., Any]) -> JobDefinition:
        return JobDefinition(name=name, fn=fn, queue=queue or name.split(".")[0], options=options)

    return decorate
