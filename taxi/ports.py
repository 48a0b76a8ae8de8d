"""Local TCP ports, for whatever starts a node on one: a free port, and whether it is open yet."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the OS picks it), for a node about to listen there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def can_listen(port: int) -> bool:
    """Whether a server could listen on `port` on every interface, as the router does.

    SO_REUSEADDR, as Twisted sets it: a connection of the last run still in TIME_WAIT does not
    hold the port, only a socket that listens there."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError:
            return False
        return True


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
