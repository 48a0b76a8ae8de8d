"""The user.* and trip.* procedures: thin adapters from WAMP calls to taxi_core use cases.

Each procedure is one row of PROCEDURES: what arguments it takes, the blocking use case it
runs in the pool (with the caller as disclosed by the router: its authid and its WAMP session
id), and which events of the trip-event log its result holds, published once the transaction
has committed (components/outbox.py). Who may call what is the router's
business (crossbar_config/config.json and components/auth.py), not the handlers'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

from autobahn.wamp.types import RegisterOptions
from twisted.internet.defer import maybeDeferred

from taxi_core.events import Publication
from taxi_core.services import TaxiService
from taxi_core import validation

from . import uris
from .dbpool import DBPool
from .errors import to_application_error
from .metrics import Metrics
from .outbox import Publisher
from .sessions import end_after_answer, end_sessions

# Several backend processes may register the same procedures; the router spreads calls
# over them, and the others keep serving when one dies.
REGISTER_OPTIONS = RegisterOptions(details=True, invoke="roundrobin")


class Caller(NamedTuple):
    authid: str
    session: int | None  # the caller's WAMP session id, for the event log


@dataclass(frozen=True)
class Procedure:
    uri: str
    arguments: validation.Arguments
    run: Callable[[object, Caller, dict], object]  # (TaxiService or Dispatching, caller, clean kwargs) -> result
    events: Callable[[object], tuple[Publication, ...]] = lambda result: ()
    reply: Callable[[object], object] = lambda result: result
    # The WAMP sessions the router must end once the change has committed (a removed device's),
    # ended before the caller has its answer (components/sessions.py).
    ends: Callable[[object], list[int]] = lambda result: []


def _changing(uri: str, arguments: validation.Arguments, run: Callable[[TaxiService, Caller, dict], object]):
    """A procedure whose use case changes a trip: its result is the trip, the caller's answer,
    and the events to publish (services.RequestOutcome, services.Change)."""
    return Procedure(uri, arguments, run, events=lambda outcome: outcome.events, reply=lambda outcome: outcome.trip)


PROCEDURES = [
    Procedure(
        uris.SIGNUP,
        validation.SIGNUP,
        lambda service, caller, kw: service.signup(**kw),
    ),
    # A retried request_id gets its trip back and no events: its first attempt made them.
    _changing(
        uris.TRIP_REQUEST,
        validation.TRIP_REQUEST,
        lambda service, caller, kw: service.request_trip(rider=caller.authid, session_id=caller.session, **kw),
    ),
    _changing(
        uris.TRIP_UPDATE,
        validation.TRIP_UPDATE,
        lambda service, caller, kw: service.update_trip(driver=caller.authid, session_id=caller.session, **kw),
    ),
    _changing(
        uris.TRIP_CANCEL,
        validation.TRIP_BY_NK,
        lambda service, caller, kw: service.cancel_trip(rider=caller.authid, session_id=caller.session, **kw),
    ),
    Procedure(
        uris.TRIP_GET, validation.TRIP_BY_NK, lambda service, caller, kw: service.get_trip(user=caller.authid, **kw)
    ),
    Procedure(
        uris.TRIP_HISTORY,
        validation.TRIP_BY_NK,
        lambda service, caller, kw: service.trip_history(user=caller.authid, **kw),
    ),
    Procedure(
        uris.TRIP_LIST, validation.TRIP_LIST, lambda service, caller, kw: service.list_trips(user=caller.authid, **kw)
    ),
    Procedure(
        uris.TRIP_AVAILABLE,
        validation.NO_ARGUMENTS,
        lambda service, caller, kw: service.available_trips(user=caller.authid, **kw),
    ),
]


class TripProcedures:
    """Registers `procedures` (by default PROCEDURES: the user.* and trip.* ones, whose service
    is a TaxiService) on a WAMP session and publishes their events. Every call a client makes
    goes through here, so `metrics` records them all here (components/metrics.py)."""

    def __init__(
        self, service, pool: DBPool, publisher: Publisher, procedures: list[Procedure] = PROCEDURES,
        metrics: Metrics | None = None,
    ):  # fmt: skip
        self._service = service
        self._pool = pool
        self._publisher = publisher
        self._procedures = procedures
        self._metrics = metrics or Metrics()

    def register(self, session):
        return [
            session.register(self._handler(session, procedure), procedure.uri, options=REGISTER_OPTIONS)
            for procedure in self._procedures
        ]

    def _handler(self, session, procedure: Procedure):
        def handle(*args, details, **kwargs):
            started = self._metrics.clock()
            d = maybeDeferred(procedure.arguments.clean, args, kwargs)
            caller = Caller(details.caller_authid, details.caller)
            d.addCallback(lambda clean: self._pool.run(procedure.run, self._service, caller, clean))
            d.addCallback(self._publish_then_reply, session, procedure, caller)
            d.addErrback(to_application_error, procedure.uri)
            d.addBoth(self._metrics.called, procedure.uri, started)
            return d

        return handle

    def _publish_then_reply(self, result, session, procedure: Procedure, caller: Caller):
        # The transaction has committed by now, so no event ever tells of a change that
        # could still roll back. The reply does not wait for the router's acknowledgements
        # nor for the outbox rows to go: the caller has its answer as soon as the events are sent.
        # It does wait for the sessions it ends: once the caller has his answer, they are gone.
        self._publisher.publish(session, procedure.events(result))
        ending = procedure.ends(result)
        d = end_sessions(session, [ended for ended in ending if ended != caller.session])
        d.addCallback(lambda _: procedure.reply(result))
        if caller.session in ending:
            # The caller's own session ends too (a device removing itself), after its answer.
            d.addCallback(lambda reply: (end_after_answer(session, caller.session), reply)[1])
        return d
