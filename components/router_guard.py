"""Runs inside the Crossbar router worker (a router component, see crossbar_config/config.yaml):
three small corrections to Crossbar 26.10.1's router, each for a defect that
docs/crossbar-workarounds.md describes for upstream, with how to reproduce it.

1. A call whose arguments the router cannot pass on to the backend is answered, not left
   hanging (answer_unpassable_calls). The router decodes a client's CALL with the client's
   serializer and encodes the INVOCATION for the backend with the backend's (msgpack). A value
   the one can carry and the other cannot — in JSON a lone surrogate ("\\ud800") or an integer
   past 64 bits; in CBOR a date, a decimal, a big integer, a tag, "undefined" — makes that
   encoding raise inside the dealer, which logs a traceback and keeps the call pending: the
   caller never gets an answer, and the router holds the call, up to 64 KB of it, until the
   caller leaves. The same gap for a callee's result is crossbario/crossbar#1727, open
   upstream. Found by tests/e2e/test_fuzz.py. No serializer for the backend could carry
   everything all three client serializers can decode, so the answer is here.

2. A REGISTER the caller may not make is refused with wamp.error.not_authorized, whatever is
   registered (authorize_registrations_first). Crossbar's dealer builds that refusal, then
   looks for an existing registration before it sends it, so a rider registering trip.request
   was told "procedure_exists_with_different_invocation_policy (has roundrobin and single was
   requested)": what is registered, and how.

3. No RESULT or call ERROR names its callee (hide_callees). The dealer fills in the callee's
   session id, authid and authrole on every RESULT (a hard-coded `disclose = True  # FIXME`),
   so every caller learned the backend's session id. WAMP defines no such detail and Crossbar
   has no setting for it (a role's `disclose` is about the caller), and no client of taxi
   needs it, so it is cleared for every receiver, on the path every RESULT takes.

Each correction wraps one Crossbar method, once (installing twice changes nothing), and is
checked against the code it was written for by tests/unit/test_router_guard.py.
"""

from __future__ import annotations

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp import message
from crossbar.router.dealer import Dealer
from crossbar.router.router import Router
from twisted.logger import Logger

from components.errors import INVALID_ARGUMENT, NOT_AUTHORIZED

UNPASSABLE = "an argument is of a type or value the procedure cannot take"
# The messages that can carry a callee's identity (an ERROR only when it answers a CALL, but
# clearing it on any other ERROR changes nothing).
CALL_REPLIES = (message.Result, message.Error)

log = Logger()


def _wrap_once(cls, name: str, make_wrapper) -> None:
    original = getattr(cls, name)
    if getattr(original, "taxi_guarded", False):
        return
    wrapper = make_wrapper(original)
    wrapper.taxi_guarded = True
    setattr(cls, name, wrapper)


def answer_unpassable_calls(dealer_class=Dealer) -> None:
    """Wrap Dealer._call: it sends the INVOCATION last, so an exception from it with the call
    still recorded means the callee never got it: drop the record, answer invalid_argument."""

    def make(original):
        def _call(self, session, call, *args, **kwargs):
            try:
                return original(self, session, call, *args, **kwargs)
            except Exception:
                pending = self._invocations_by_call.get((session._session_id, call.request))
                if pending is None:
                    raise
                self._remove_invoke_request(pending)
                log.warn("call of {procedure} not passed on: its arguments cannot be encoded for the callee",
                         procedure=call.procedure)  # fmt: skip
                self._router.send(session, message.Error(message.Call.MESSAGE_TYPE, call.request, INVALID_ARGUMENT, [UNPASSABLE]))

        return _call

    _wrap_once(dealer_class, "_call", make)


def authorize_registrations_first(dealer_class=Dealer) -> None:
    """Wrap Dealer.processRegister: ask the router's authorization first, and refuse a denied
    REGISTER here; an allowed one (only ever a backend's, at its start) goes on to Crossbar,
    which asks again and registers it. If the authorizer fails, Crossbar answers that its own way."""

    def make(original):
        def processRegister(self, session, register):
            d = self._router.authorize(session, register.procedure, "register", options=register.marshal_options())

            def decided(authorization):
                if authorization["allow"]:
                    return original(self, session, register)
                refusal = f"not authorized to register procedure '{register.procedure}'"
                self._router.send(session, message.Error(message.Register.MESSAGE_TYPE, register.request, NOT_AUTHORIZED, [refusal]))

            d.addCallbacks(decided, lambda failure: original(self, session, register))
            d.addErrback(lambda failure: log.failure("REGISTER of {procedure} failed", failure, procedure=register.procedure))

        return processRegister

    _wrap_once(dealer_class, "processRegister", make)


def hide_callees(router_class=Router) -> None:
    """Wrap Router.send, which every RESULT and call ERROR goes through (all but the dealer's
    "callee disconnected", sent straight to the transport and naming no callee): clear the
    callee's identity before the message is serialized (one isinstance check a message)."""

    def make(original):
        def send(self, session, msg):
            if isinstance(msg, CALL_REPLIES):
                msg.callee = msg.callee_authid = msg.callee_authrole = None
            return original(self, session, msg)

        return send

    _wrap_once(router_class, "send", make)


class CallGuard(ApplicationSession):
    """The router component: installs the corrections when the router worker creates it, which
    is before the worker opens any transport; the session itself does nothing."""

    def __init__(self, config=None):
        answer_unpassable_calls()
        authorize_registrations_first()
        hide_callees()
        super().__init__(config)
