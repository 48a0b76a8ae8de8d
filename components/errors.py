"""Domain errors to the contract's error URIs: the one place where that mapping lives."""

from __future__ import annotations

from autobahn.wamp.exception import ApplicationError
from twisted.logger import Logger
from twisted.python.failure import Failure

from taxi_core.domain import (
    AuthenticationFailed,
    DeviceNotFound,
    InvalidArgument,
    InvalidTransition,
    TripNotFound,
    TripTaken,
    UsernameTaken,
)
from taxi_core.database_errors import DatabaseUnreachable

INTERNAL = "taxi.error.internal"
INVALID_ARGUMENT = "taxi.error.invalid_argument"
AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
# The router's refusal (WAMP's own URI), answered by Crossbar and, for what Crossbar gets
# wrong, by components/router_guard.py.
NOT_AUTHORIZED = "wamp.error.not_authorized"
# The backend's answer to the router's health check (components/health.py), never a client's.
DATABASE_UNREACHABLE = "taxi.error.database_unreachable"

ERROR_URIS = {
    InvalidArgument: INVALID_ARGUMENT,
    UsernameTaken: "taxi.error.username_taken",
    TripNotFound: "taxi.error.not_found",
    DeviceNotFound: "taxi.error.not_found",
    TripTaken: "taxi.error.trip_taken",
    InvalidTransition: "taxi.error.invalid_transition",
    AuthenticationFailed: AUTHENTICATION_FAILED,
    DatabaseUnreachable: DATABASE_UNREACHABLE,
}

log = Logger()


def to_application_error(failure: Failure, procedure: str) -> Failure:
    """An errback: re-raise a domain error under its URI; log and hide anything else.

    Autobahn would send an unexpected exception's text to the caller, and that text can
    hold SQL, paths or data, so the caller only ever learns that something failed.
    """
    if failure.check(ApplicationError):
        return failure
    for error_class, uri in ERROR_URIS.items():
        if failure.check(error_class):
            raise ApplicationError(uri, str(failure.value))
    log.failure("unexpected failure in {procedure}", failure=failure, procedure=procedure)
    raise ApplicationError(INTERNAL, "internal error")
