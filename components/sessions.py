"""Ending WAMP sessions through the router's meta API (wamp.session.kill, the backend's right
alone: crossbar_config/config.yaml): the sessions that logged in with a device that is removed."""

from __future__ import annotations

from autobahn.wamp.exception import ApplicationError
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.logger import Logger

from . import uris

log = Logger()
# What the router answers for a session that has gone already: nothing left to end.
NO_SUCH_SESSION = "wamp.error.no_such_session"
ENDED = "the device this session logged in with was removed"


def end_sessions(session, session_ids: list[int]) -> Deferred:
    """Asks the router to end each session (its client gets GOODBYE taxi.close.device_removed);
    fires once the router has answered for all of them. A session that is gone already is no
    failure, and a failure to end one is logged rather than failing the caller's change, which
    has committed."""
    if not session_ids:
        return succeed(None)
    return gatherResults([_end(session, session_id) for session_id in session_ids])


def _end(session, session_id: int) -> Deferred:
    d = session.call(uris.SESSION_KILL, session_id, reason=uris.DEVICE_REMOVED, message=ENDED)

    def gone(failure):
        if not (failure.check(ApplicationError) and failure.value.error == NO_SUCH_SESSION):
            log.failure("could not end session {session_id}", failure=failure, session_id=session_id)

    return d.addErrback(gone)


def end_after_answer(session, session_id: int) -> None:
    """Ends the session that is being answered, once the answer is on its way: called as the
    answer leaves the handler, the kill is sent on the next turn of the reactor, after the
    YIELD on the same connection, so the router delivers the RESULT before the GOODBYE."""
    from twisted.internet import reactor  # at call time: the backend's reactor is installed by then

    reactor.callLater(0, end_sessions, session, [session_id])
