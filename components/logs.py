"""Log lines for a terminal: `taxi run` already stamps the time and names the process, so
each child prints only its own message (and, for a failure, the whole traceback)."""

from __future__ import annotations

import sys

from twisted.logger import FileLogObserver, eventAsText, globalLogBeginner


def start_logging(*, timestamps: bool) -> None:
    def format_event(event) -> str:
        return eventAsText(event, includeTimestamp=timestamps, includeSystem=False) + "\n"

    globalLogBeginner.beginLoggingTo([FileLogObserver(sys.stdout, format_event)])
