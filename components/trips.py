"""The user.* and trip.* procedures: thin adapters from WAMP calls to taxi_core use cases.

Each procedure is one row of PROCEDURES: what arguments it takes, the blocking use case it
runs in the pool (with the caller's authid, as disclosed by the router), and where the
result is published once the transaction has committed. Who may call what is the router's
business (crossbar_config/config.json and components/auth.py), not the handlers'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from autobahn.wamp.exception import TransportLost
from autobahn.wamp.types import PublishOptions, RegisterOptions
from twisted.internet.defer import maybeDeferred
from twisted.logger import Logger

from taxi_core.domain import TripStatus, driver_step
from taxi_core.services import TaxiService
from taxi_core import validation

from . import uris
from .dbpool import DBPool
from .errors import to_application_error

Events = list[tuple[str, dict]]
log = Logger()

# Several backend processes may register the same procedures; the router spreads calls
# over them, and the others keep serving when one dies.
REGISTER_OPTIONS = RegisterOptions(details=True, invoke="roundrobin")


@dataclass(frozen=True)
class Procedure:
    uri: str
    arguments: validation.Arguments
    run: Callable[[TaxiService, str, dict], object]  # (service, caller authid, clean kwargs) -> result
    events: Callable[[object], Events] = lambda result: []
    reply: Callable[[object], object] = lambda result: result


def _trip_events(trip: dict, *, drivers: bool) -> Events:
    events = [(uris.trip_topic(trip["nk"]), trip)]
    if drivers:
        events.append((uris.DRIVERS_TOPIC, trip))
    return events


PROCEDURES = [
    Procedure(
        uris.SIGNUP,
        validation.SIGNUP,
        lambda service, caller, kw: service.signup(**kw),
    ),
    Procedure(
        uris.TRIP_REQUEST,
        validation.TRIP_REQUEST,
        lambda service, caller, kw: service.request_trip(rider=caller, **kw),
        # A retried request_id gets its trip back and makes no second event.
        events=lambda outcome: _trip_events(outcome.trip, drivers=True) if outcome.created else [],
        reply=lambda outcome: outcome.trip,
    ),
    Procedure(
        uris.TRIP_UPDATE,
        validation.TRIP_UPDATE,
        lambda service, caller, kw: service.update_trip(driver=caller, **kw),
        # Drivers hear of the accept too: the trip is no longer up for grabs.
        events=lambda trip: _trip_events(trip, drivers=driver_step(TripStatus(trip["status"])).is_accept),
    ),
    Procedure(
        uris.TRIP_CANCEL,
        validation.TRIP_BY_NK,
        lambda service, caller, kw: service.cancel_trip(rider=caller, **kw),
        events=lambda trip: _trip_events(trip, drivers=True),
    ),
    Procedure(uris.TRIP_GET, validation.TRIP_BY_NK, lambda service, caller, kw: service.get_trip(user=caller, **kw)),
    Procedure(uris.TRIP_LIST, validation.TRIP_LIST, lambda service, caller, kw: service.list_trips(user=caller, **kw)),
    Procedure(
        uris.TRIP_AVAILABLE, validation.NO_ARGUMENTS, lambda service, caller, kw: service.available_trips(**kw)
    ),
]


class TripProcedures:
    """Registers PROCEDURES on a WAMP session and publishes their events."""

    def __init__(self, service: TaxiService, pool: DBPool):
        self._service = service
        self._pool = pool

    def register(self, session):
        return [
            session.register(self._handler(session, procedure), procedure.uri, options=REGISTER_OPTIONS)
            for procedure in PROCEDURES
        ]

    def _handler(self, session, procedure: Procedure):
        def handle(*args, details, **kwargs):
            d = maybeDeferred(procedure.arguments.clean, args, kwargs)
            d.addCallback(lambda clean: self._pool.run(procedure.run, self._service, details.caller_authid, clean))
            d.addCallback(self._publish_then_reply, session, procedure)
            d.addErrback(to_application_error, procedure.uri)
            return d

        return handle

    @staticmethod
    def _publish_then_reply(result, session, procedure: Procedure):
        # The transaction has committed by now, so no event ever tells of a change that
        # could still roll back.
        for topic, trip in procedure.events(result):
            try:
                session.publish(topic, trip, options=PublishOptions(retain=topic != uris.DRIVERS_TOPIC))
            except TransportLost:
                # The router went away after the commit (tests/faults/test_router_restarted.py):
                # the events and the reply are lost with the connection, and the caller's
                # retry (same request_id) or trip.get finds the change. Expected, so not
                # logged as an "unexpected failure" with a traceback, nor answered as one.
                log.warn("router gone after {procedure} committed: events not published", procedure=procedure.uri)
                break
        return procedure.reply(result)
