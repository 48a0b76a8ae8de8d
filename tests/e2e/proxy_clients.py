"""A program of clients for tests/e2e/test_proxies.py to kill -9: it logs in the users it is
given (username per argument, the suite's password) on the public port, each subscribing as
its role lets it, and opens as many logins it never finishes (HELLO and the ticket sent, the
WELCOME never waited for); then prints READY and waits to be killed.

`python -m tests.e2e.proxy_clients PORT USERNAME...`
"""

from __future__ import annotations

import sys

from twisted.internet import defer, reactor

from components import uris

from ..faults.rawws import RawClient
from ..support.users import PASSWORD
from ..support.wamp import connect

READY = "READY"


async def main(port: int, usernames: list[str]) -> None:
    sessions = await defer.gatherResults(
        [defer.ensureDeferred(connect(port, authid=name, ticket=PASSWORD)) for name in usernames]
    )
    for session in sessions:
        if session.details.authrole == "driver":
            await session.events(uris.DRIVERS_TOPIC)
    for name in usernames:
        half_joined = RawClient(port)
        half_joined.handshake()
        half_joined.send([1, "taxi", {"authmethods": ["ticket"], "authid": name, "roles": {"caller": {}}}])
        half_joined.send([5, PASSWORD, {}])
    print(READY, flush=True)


if __name__ == "__main__":
    port, names = int(sys.argv[1]), sys.argv[2:]
    defer.ensureDeferred(main(port, names)).addErrback(lambda failure: (failure.printTraceback(), reactor.stop()))
    reactor.run()
