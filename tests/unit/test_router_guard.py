"""The router guard (components/router_guard.py) on a stand-in dealer; the real router is
tests/e2e/test_hostile_wire.py. It leans on three internals of Crossbar's dealer, checked
here so that an upgrade that moves them fails at once rather than silently unguarded."""

from types import SimpleNamespace

import pytest
from autobahn.wamp import message
from crossbar.router.dealer import Dealer

from components.router_guard import INVALID_ARGUMENT, answer_unpassable_calls


def test_crossbar_s_dealer_still_has_what_the_guard_wraps():
    assert callable(Dealer._call) and callable(Dealer._remove_invoke_request)
    assert "_invocations_by_call" in Dealer.__init__.__code__.co_names


class StandInDealer:
    """Records the call, then fails to send it on, like Crossbar's dealer with an unencodable argument."""

    def __init__(self, fail_with: Exception | None):
        self._fail_with = fail_with
        self._invocations_by_call = {}
        self.sent = []
        self._router = SimpleNamespace(send=lambda session, msg: self.sent.append(msg))

    def _call(self, session, call, registration, authorization):
        self._invocations_by_call[session._session_id, call.request] = "pending"
        if self._fail_with:
            raise self._fail_with
        return True

    def _remove_invoke_request(self, pending):
        del self._invocations_by_call[next(k for k, v in self._invocations_by_call.items() if v is pending)]


@pytest.fixture
def dealer_class():
    class Guarded(StandInDealer):
        pass

    answer_unpassable_calls(Guarded)
    answer_unpassable_calls(Guarded)  # twice: wrapped once all the same
    return Guarded


SESSION = SimpleNamespace(_session_id=7)
CALL = message.Call(42, "trip.request", kwargs={"pick_up_address": "\ud800"})


def test_a_call_that_cannot_be_sent_on_is_answered_and_forgotten(dealer_class):
    dealer = dealer_class(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    dealer._call(SESSION, CALL, None, {})
    [answer] = dealer.sent
    assert isinstance(answer, message.Error)
    assert (answer.request_type, answer.request, answer.error) == (message.Call.MESSAGE_TYPE, 42, INVALID_ARGUMENT)
    assert dealer._invocations_by_call == {}


def test_a_call_sent_on_is_left_alone(dealer_class):
    dealer = dealer_class(None)
    assert dealer._call(SESSION, CALL, None, {}) is True
    assert dealer.sent == [] and dealer._invocations_by_call == {(7, 42): "pending"}


def test_a_failure_before_the_call_was_recorded_is_not_the_guard_s_to_answer(dealer_class):
    class FailsEarly(dealer_class):
        def _call(self, session, call, registration, authorization):
            raise RuntimeError("no callee")

    answer_unpassable_calls(FailsEarly)
    with pytest.raises(RuntimeError):
        FailsEarly(None)._call(SESSION, CALL, None, {})
