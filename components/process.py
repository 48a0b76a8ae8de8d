"""How a taxi process (the launcher, a backend) runs: its service, until it is told to stop.

A terminal's Ctrl-C is sent to every process of the foreground group: `taxi run` and the router
and backends it started. `taxi run` then stops each of them with SIGTERM, so a child is told to
stop twice, and an impatient user presses Ctrl-C twice. Twisted's own handlers call
reactor.stop() for every signal, and every one after the first raises ReactorNotRunning, with
its traceback, in each process. Here a signal only asks for the stop; the first one does it,
the service is stopped in order, and the process exits 0 (a stop that was asked for is a success).
"""

from __future__ import annotations

import signal
from typing import Callable, NoReturn

from twisted.application.service import IService
from twisted.internet import task
from twisted.internet.defer import Deferred, ensureDeferred, maybeDeferred

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_stop_asked = False


def stop_asked() -> bool:
    """Whether this process has been told to stop, from the signal's own moment on: the stop
    itself runs a moment later, and a child that got the same Ctrl-C may already be speaking."""
    return _stop_asked


def serve(make_service: Callable[[object], IService], on_stopped: Callable[[], None] = lambda: None) -> NoReturn:
    """Runs the service ``make_service(reactor)`` builds until a stop signal, stops it, then calls
    ``on_stopped`` and exits 0."""

    async def main(reactor) -> None:
        asked = Deferred()

        def ask_to_stop(_signum, _frame) -> None:
            global _stop_asked
            if not _stop_asked:
                _stop_asked = True
                reactor.callFromThread(asked.callback, None)

        def take_over_signals() -> None:
            # After the reactor's start-up, which installs Twisted's handlers (and its SIGCHLD
            # handling, which the launcher's process monitor needs).
            for signum in STOP_SIGNALS:
                signal.signal(signum, ask_to_stop)

        reactor.callWhenRunning(take_over_signals)
        service = make_service(reactor)
        service.startService()
        await asked
        await maybeDeferred(service.stopService)
        on_stopped()

    try:
        task.react(lambda reactor: ensureDeferred(main(reactor)))
    finally:
        # On the way out Python resets its handlers to the default, and a Ctrl-C in that moment
        # (the second of an impatient user) would kill the process by SIGINT after a clean stop.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
