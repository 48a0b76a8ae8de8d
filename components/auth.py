"""The dynamic authenticator and authorizer that the router calls for riders and drivers.

Static rights (who may call which procedure, who may subscribe to taxi.drivers) are a
table here, answered with cache=True so the router asks once per role and URI. The right
to follow one trip depends on the user, and the router caches per (realm, authrole, uri,
action) — not per user — so those answers say cache=False, or one rider's "allow" would
let every rider in.
"""

from __future__ import annotations

import re

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions
from twisted.internet.defer import fail, maybeDeferred, succeed

from taxi_core import validation
from taxi_core.domain import AuthenticationFailed, InvalidArgument, Role
from taxi_core.services import Clock, TaxiService, utc_now
from taxi_core.throttle import ACCOUNT_POLICY, PEER_POLICY, LoginThrottle

from . import uris
from .dbpool import DBPool
from .errors import AUTHENTICATION_FAILED, to_application_error

# Every user's own devices and password, whatever the role and however the session logged in.
ACCOUNT = {uris.USER_ADD_DEVICE, uris.USER_DEVICES, uris.USER_REMOVE_DEVICE, uris.USER_CHANGE_PASSWORD}
ROLE_RIGHTS = {
    Role.RIDER.value: {
        "call": {uris.TRIP_REQUEST, uris.TRIP_CANCEL, uris.TRIP_LIST, uris.TRIP_GET, uris.TRIP_HISTORY, *ACCOUNT},
        "subscribe": set(),
    },
    Role.DRIVER.value: {
        "call": {uris.TRIP_UPDATE, uris.TRIP_LIST, uris.TRIP_GET, uris.TRIP_HISTORY, uris.TRIP_AVAILABLE,
                 uris.DRIVER_LOCATE, uris.DRIVER_OFFLINE, *ACCOUNT},  # fmt: skip
        "subscribe": {uris.DRIVERS_TOPIC},
    },
}
CONTRACT_URIS = frozenset().union(*(rights for role in ROLE_RIGHTS.values() for rights in role.values()))
TRIP_TOPIC = re.compile(re.escape(uris.TRIP_TOPIC_PREFIX) + r"(?P<nk>[0-9a-f]{32})")


class Authenticator:
    def __init__(self, service: TaxiService, pool: DBPool, clock: Clock = utc_now):
        self._service = service
        self._pool = pool
        # A wrong password, an unknown user and a malformed credential are one and the
        # same refusal, counted alike against the account and the peer.
        # The accounts' counts are shared with user.change_password (components/devices.py).
        self.accounts = self._accounts = LoginThrottle(ACCOUNT_POLICY, clock)
        self._peers = LoginThrottle(PEER_POLICY, clock)

    def register(self, session):
        return [
            # Every backend registers the authenticator, or a second backend's join fails
            # (procedure_already_exists) and logins stop when the first one dies. "first",
            # not "roundrobin": the router calls the oldest live registration, so the
            # login throttle's counts stay in one process (N backends do not give N times
            # the guesses), and the next backend takes over when that one is gone.
            session.register(self.authenticate, uris.AUTHENTICATE, options=RegisterOptions(invoke="first")),
            session.register(self.authorize, uris.AUTHORIZE, options=RegisterOptions(invoke="roundrobin")),
        ]

    def authenticate(self, realm, authid, details):
        """WAMP-Ticket: authid is the username, the ticket its password; the role comes from the database."""
        # The account as the login looks it up (the username trimmed): " alice" and "alice "
        # are alice, not five more guesses each at her password (tests/e2e/test_impersonation.py).
        account, peer = str(authid).strip(), _peer_host(details)
        if self._accounts.is_locked(account) or self._peers.is_locked(peer):
            return fail(ApplicationError(AUTHENTICATION_FAILED, "too many failed logins; try again later"))
        d = maybeDeferred(validation.CREDENTIALS.clean, (), {"username": authid, "password": details.get("ticket")})
        d.addCallback(lambda credentials: self._pool.run(self._service.authenticate, **credentials))

        def succeeded(user):
            self._accounts.succeeded(account)
            return {"authid": user["username"], "role": user["role"]}

        def refused(failure):
            if failure.check(AuthenticationFailed, InvalidArgument):
                self._accounts.failed(account)
                self._peers.failed(peer)
                raise ApplicationError(AUTHENTICATION_FAILED, "wrong username or password")
            return to_application_error(failure, uris.AUTHENTICATE)

        d.addCallbacks(succeeded, refused)
        return d

    def authorize(self, session, uri, action, options):
        role = session.get("authrole")
        rights = ROLE_RIGHTS.get(role, {})
        if uri in rights.get(action, ()):
            # Exact URIs only: a prefix or wildcard subscription could reach other topics.
            allowed = action != "subscribe" or (options or {}).get("match", "exact") == "exact"
            # A subscribe answer is never cached: the cache key leaves out the match policy,
            # so a cached exact "allow" would also let in a later prefix subscription.
            return succeed({"allow": allowed, "disclose": allowed, "cache": allowed and action == "call"})
        trip = TRIP_TOPIC.fullmatch(uri)
        if action == "subscribe" and trip and (options or {}).get("match", "exact") == "exact":
            user = session.get("authid")
            if self._service.known_follower(user=user, nk=trip["nk"]):
                # The subscribe right after a request or an accept: a yes already in memory,
                # so no trip through the pool's queue for it (docs/benchmarks.md).
                return succeed({"allow": True, "cache": False})
            d = self._pool.run(self._service.may_follow_trip, user=user, nk=trip["nk"])
            d.addCallback(lambda allowed: {"allow": allowed, "cache": False})
            d.addErrback(to_application_error, uris.AUTHORIZE)
            return d
        # Denials of the contract's own URIs are cached; any other URI is not, so that a
        # client trying made-up URIs cannot grow the router's cache without bound.
        return succeed({"allow": False, "cache": uri in CONTRACT_URIS})


def _peer_host(details) -> str:
    # "tcp4:203.0.113.7:51234" -> "tcp4:203.0.113.7": the address, not the ephemeral port.
    peer = str((details.get("transport") or {}).get("peer", "unknown"))
    return peer.rsplit(":", 1)[0] if peer.startswith("tcp") else peer
