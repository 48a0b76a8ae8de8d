"""What taxi's processes log, written once for the launcher and the backends.

The policy: taxi's own informational lines (what serves where, "backend ready") and everyone's
warnings and errors. The libraries' informational lines (Crossbar's banner and role dumps,
Autobahn's connection attempts, Twisted's "Main loop terminated") only at a more verbose level:
`taxi run --verbose` (info) or TAXI_LOG_LEVEL=debug|info|warn|error, which the launcher hands to
every process it starts (the router as Crossbar's --loglevel). A level quieter than info still
keeps taxi's own informational lines: the launcher, the tests and `taxi bench` read them to know
that a backend is ready.

`taxi run` stamps the time and names the process, so each child prints only its own message
(and, for a failure, the whole traceback).
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

from twisted.logger import (
    FileLogObserver,
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    eventAsText,
    globalLogBeginner,
)

LOG_LEVEL_VARIABLE = "TAXI_LOG_LEVEL"
DEFAULT_LEVEL = LogLevel.warn
LEVELS = {"debug": LogLevel.debug, "info": LogLevel.info, "warn": LogLevel.warn, "error": LogLevel.error}
# Logger() names its namespace after its module, so these are taxi's own lines, wherever they run.
# (A module run with `python -m` is "__main__": its Logger names its namespace itself.)
TAXI_NAMESPACES = ("taxi", "taxi_core", "components", "taxi_bench")
# Autobahn's Component logs every connection attempt at warn ("trying transport 0 ... using
# connect delay 0", autobahn/wamp/component.py), the first and successful one included. Below
# info it is heard only at error: a connection that fails is still an error line.
AUTOBAHN_COMPONENT = "autobahn.twisted.component.Component"
_ORDER = list(LogLevel.iterconstants())


class UnknownLogLevel(ValueError):
    """TAXI_LOG_LEVEL names no level."""


def log_level(environ: Mapping[str, str] = os.environ, *, verbose: bool = False) -> LogLevel:
    """The libraries' level: TAXI_LOG_LEVEL, made at least as verbose as info by --verbose."""
    name = environ.get(LOG_LEVEL_VARIABLE, "").strip().lower()
    if name and name not in LEVELS:
        raise UnknownLogLevel(f"{LOG_LEVEL_VARIABLE}={name!r}: expected one of {', '.join(LEVELS)}")
    level = LEVELS.get(name, DEFAULT_LEVEL)
    return more_verbose(level, LogLevel.info) if verbose else level


def more_verbose(a: LogLevel, b: LogLevel) -> LogLevel:
    return min(a, b, key=_ORDER.index)


def is_verbose(level: LogLevel) -> bool:
    """Whether the libraries' informational lines are wanted too."""
    return more_verbose(level, LogLevel.info) is level


def start_logging(level: LogLevel, *, timestamps: bool) -> None:
    def format_event(event) -> str:
        return eventAsText(event, includeTimestamp=timestamps, includeSystem=False) + "\n"

    levels = LogLevelFilterPredicate(defaultLogLevel=level)
    for namespace in TAXI_NAMESPACES:
        levels.setLogLevelForNamespace(namespace, more_verbose(level, LogLevel.info))
    if not is_verbose(level):
        levels.setLogLevelForNamespace(AUTOBAHN_COMPONENT, LogLevel.error)
    observer = FilteringLogObserver(FileLogObserver(sys.stdout, format_event), [levels])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
