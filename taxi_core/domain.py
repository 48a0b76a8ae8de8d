"""The trip lifecycle and the domain errors: rules only, no database and no framework."""

from __future__ import annotations

import enum


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

# The driver moves a trip one step forward at a time; the step into STARTED is the accept.
DRIVER_STEPS = {
    TripStatus.STARTED: TripStatus.REQUESTED,
    TripStatus.IN_PROGRESS: TripStatus.STARTED,
    TripStatus.COMPLETED: TripStatus.IN_PROGRESS,
}


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


def required_status_for(target: TripStatus) -> TripStatus:
    """The status a trip must have for a driver to move it to ``target``."""
    try:
        return DRIVER_STEPS[target]
    except KeyError:
        raise InvalidTransition(f"a driver cannot set a trip to {target.value}") from None


def explain_refused_driver_step(
    *, status: TripStatus, driver_id: int | None, caller_id: int, target: TripStatus
) -> DomainError:
    """Why a driver's conditional update matched no row, judged on the trip as it is now.

    The write itself is a compare-and-set; this only names the error, so there is no
    window between checking and writing in which another driver could slip through.
    """
    if target is TripStatus.STARTED and driver_id is not None and driver_id != caller_id:
        return TripTaken("another driver has accepted this trip")
    if driver_id != caller_id and status is not TripStatus.REQUESTED:
        return TripNotFound("no such trip")
    return InvalidTransition(f"a {status.value} trip cannot become {target.value}")


def explain_refused_cancel(*, status: TripStatus) -> DomainError:
    return InvalidTransition(f"a {status.value} trip cannot be canceled")
