"""Runs inside the Crossbar router worker (a router component, see crossbar_config/config.yaml):
a call whose arguments the router cannot pass on to the backend is answered, not left hanging.

Why: the router decodes a client's CALL with the client's serializer and encodes the
INVOCATION for the backend with the backend's (msgpack). A value the one can carry and the
other cannot — in JSON a lone surrogate ("\\ud800") or an integer past 64 bits; in CBOR a
date, a decimal, a big integer, a tag, "undefined" — makes that encoding raise inside
Crossbar's dealer (26.10), which logs a traceback and keeps the call pending: the caller
never gets an answer, and the router holds the call, up to 64 KB of it, until the caller
leaves, so one hostile session could pile up as many as it liked. The same gap for a
callee's result is crossbario/crossbar#1727, open upstream. Found by tests/e2e/test_fuzz.py.

No serializer for the backend could carry everything all three client serializers can
decode, so the answer is here: the dealer's `_call` is wrapped, and when it raises after the
pending call was recorded, the record is dropped and the caller gets taxi.error.invalid_argument
(the contract's answer to a wrongly typed argument) instead of silence.
"""

from __future__ import annotations

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp import message
from crossbar.router.dealer import Dealer
from twisted.logger import Logger

INVALID_ARGUMENT = "taxi.error.invalid_argument"
UNPASSABLE = "an argument is of a type or value the procedure cannot take"

log = Logger()


def answer_unpassable_calls(dealer_class=Dealer) -> None:
    """Wrap Dealer._call once (idempotent): it sends the INVOCATION last, so an exception
    from it with the call still recorded means the callee never got it."""
    original = dealer_class._call
    if getattr(original, "taxi_guarded", False):
        return

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

    _call.taxi_guarded = True
    dealer_class._call = _call


class CallGuard(ApplicationSession):
    """The router component: installs the guard when the router worker creates it, which is
    before the worker opens any transport; the session itself does nothing."""

    def __init__(self, config=None):
        answer_unpassable_calls()
        super().__init__(config)
