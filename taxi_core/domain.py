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
    # A located request nobody accepted in time (taxi_core.dispatch); the service sets it.
    EXPIRED = "EXPIRED"


FINAL_STATUSES = frozenset({TripStatus.COMPLETED, TripStatus.CANCELED, TripStatus.EXPIRED})
CANCELABLE_STATUSES = frozenset({TripStatus.REQUESTED, TripStatus.STARTED})


class DomainError(Exception):
    """A refusal the caller can act on; each subclass has one error URI in the contract."""


class InvalidArgument(DomainError):
    pass


class WrongPassword(InvalidArgument):
    """user.change_password's old password is not the password (counted as a failed login)."""


class UsernameTaken(DomainError):
    pass


class AuthenticationFailed(DomainError):
    pass


class TripNotFound(DomainError):
    pass


class DeviceNotFound(DomainError):
    """No such device of the caller's (another user's key is not his to know of)."""


class TripTaken(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


def open_to(*, located: bool, offered: bool) -> bool:
    """The accept rule: who a REQUESTED trip is up for grabs to. A trip without a pick-up
    location is open to every driver; a located one only to the drivers it has been offered
    (in any round: an offer passed on to the next batch may still be taken while nobody has).
    The database asks the same in the accept's conditional UPDATE (services._OPEN_TO_CALLER)."""
    return not located or offered


def may_view(
    *, status: TripStatus, rider_id: int, driver_id: int | None, viewer_id: int, viewer_role: Role,
    open_to_viewer: bool = True,
) -> bool:  # fmt: skip
    """The trip's rider and driver see it; a driver sees it while it is up for grabs to him
    (`open_to_viewer`: open_to for him)."""
    if viewer_id in (rider_id, driver_id):
        return True
    return viewer_role is Role.DRIVER and status is TripStatus.REQUESTED and open_to_viewer


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

    def refusal(
        self, *, status: TripStatus, driver_id: int | None, caller_id: int, open_to_caller: bool = True
    ) -> DomainError:
        """Why the step did not apply, judged on the trip as it is now.

        The write itself is a compare-and-set; this only names the error, so there is no
        window between checking and writing in which another driver could slip through.
        A located trip never offered to the caller is not his to know of, taken or not.
        """
        if driver_id != caller_id and not open_to_caller:
            return TripNotFound("no such trip")
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
