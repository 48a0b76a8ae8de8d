"""The trip lifecycle and the domain errors: rules only, no database and no framework."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(str, enum.Enum):
    RIDER = "rider"
    DRIVER = "driver"


class TripStatus(str, enum.Enum):
    REQUESTED = "REQUESTED"
    STARTED = "STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


FINAL_STATUSES = frozenset({TripStatus.COMPLETED, TripStatus.CANCELED})
CANCELABLE_STATUSES = frozenset({TripStatus.REQUESTED, TripStatus.STARTED})


class DomainError(Exception):
    """A refusal the caller can act on; each subclass has one error URI in the contract."""


class InvalidArgument(DomainError):
    pass


class UsernameTaken(DomainError):
    pass


class AuthenticationFailed(DomainError):
    pass


class TripNotFound(DomainError):
    pass


class TripTaken(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


def may_view(*, status: TripStatus, rider_id: int, driver_id: int | None, viewer_id: int, viewer_role: Role) -> bool:
    """The trip's rider and driver see it; every driver sees it while it is up for grabs."""
    if viewer_id in (rider_id, driver_id):
        return True
    return viewer_role is Role.DRIVER and status is TripStatus.REQUESTED


class Driver(enum.Enum):
    """Who a trip's driver must be for a driver's step to apply to it."""

    NOBODY = "nobody"
    CALLER = "caller"


@dataclass(frozen=True)
class DriverStep:
    """The one rule of trip.update: a driver may move a trip to ``target`` only while it is
    in ``source`` and its driver is ``driver``; afterwards the caller is its driver.

    The services run it as one compare-and-set (its WHERE is ``source`` and ``driver``), the
    benchmark's stub in memory (``applies_to``); both explain a refusal with ``refusal``.
    """

    source: TripStatus
    target: TripStatus
    driver: Driver

    @property
    def is_accept(self) -> bool:
        """The step that takes a trip nobody drives: the caller becomes its driver."""
        return self.driver is Driver.NOBODY

    def applies_to(self, *, status: TripStatus, driver_id: int | None, caller_id: int) -> bool:
        wanted = None if self.is_accept else caller_id
        return status is self.source and driver_id == wanted

    def refusal(self, *, status: TripStatus, driver_id: int | None, caller_id: int) -> DomainError:
        """Why the step did not apply, judged on the trip as it is now.

        The write itself is a compare-and-set; this only names the error, so there is no
        window between checking and writing in which another driver could slip through.
        """
        if self.is_accept and driver_id is not None and driver_id != caller_id:
            return TripTaken("another driver has accepted this trip")
        if driver_id != caller_id and status is not TripStatus.REQUESTED:
            # Not his trip, and no longer up for grabs: he may not know of it (may_view).
            return TripNotFound("no such trip")
        return InvalidTransition(f"a {status.value} trip cannot become {self.target.value}")


# One step forward at a time; the first is the accept.
DRIVER_STEPS = {
    step.target: step
    for step in (
        DriverStep(TripStatus.REQUESTED, TripStatus.STARTED, Driver.NOBODY),
        DriverStep(TripStatus.STARTED, TripStatus.IN_PROGRESS, Driver.CALLER),
        DriverStep(TripStatus.IN_PROGRESS, TripStatus.COMPLETED, Driver.CALLER),
    )
}


def driver_step(target: TripStatus) -> DriverStep:
    """The step that moves a trip to ``target``; no driver may set any other status."""
    try:
        return DRIVER_STEPS[target]
    except KeyError:
        raise InvalidTransition(f"a driver cannot set a trip to {target.value}") from None


def explain_refused_cancel(*, status: TripStatus) -> DomainError:
    return InvalidTransition(f"a {status.value} trip cannot be canceled")
