"""Device keys on the wire: the user.* device procedures, user.change_password, and the
router's WAMP-cryptosign login (taxi_core.device_services holds the use cases).

A cryptosign login takes two steps. At HELLO the router calls taxi.auth.authenticate_device
with the client's authid and authextra.pubkey; if that key is the user's live device, the
answer is the principal with its `pubkey`, and the router itself sends a fresh random challenge
and checks the Ed25519 signature over it (crossbar/router/auth/cryptosign.py). Nothing is
written at HELLO: a login whose signature then fails has not used the device. Only once the
session has joined, which the router tells on wamp.session.on_join, is the device's last_used
moved and the session recorded as one that removing the device must end.
"""

from __future__ import annotations

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions
from twisted.internet.defer import fail, maybeDeferred
from twisted.logger import Logger

from taxi_core import validation
from taxi_core.device_services import REFUSED, DeviceService
from taxi_core.devices import valid_public_key
from taxi_core.domain import AuthenticationFailed, Role, WrongPassword
from taxi_core.throttle import LoginThrottle

from . import uris
from .dbpool import DBPool
from .errors import AUTHENTICATION_FAILED, INVALID_ARGUMENT, to_application_error
from .sessions import end_sessions
from .trips import REGISTER_OPTIONS, Procedure

log = Logger()
CRYPTOSIGN = "cryptosign"
# A session that came through a proxy (`taxi run --proxies N`) joins the router worker with this
# method whatever the client's was: the proxy ran the login and forwards only its outcome
# (Crossbar's PendingAuthAnonymousProxy drops the proxy_authmethod it is sent). Its authextra is
# still the authenticator's "extra", which no client can write, so the pubkey there still says
# a device logged in.
PROXIED = "anonymous-proxy"
USER_ROLES = frozenset(role.value for role in Role)

DEVICE_PROCEDURES = [
    Procedure(
        uris.USER_ADD_DEVICE,
        validation.ADD_DEVICE,
        lambda devices, caller, kw: devices.add_device(user=caller.authid, **kw),
    ),
    Procedure(uris.USER_DEVICES, validation.NO_ARGUMENTS, lambda devices, caller, kw: devices.devices(user=caller.authid)),
    Procedure(
        uris.USER_REMOVE_DEVICE,
        validation.REMOVE_DEVICE,
        lambda devices, caller, kw: devices.remove_device(user=caller.authid, **kw),
        reply=lambda ended: None,
        ends=lambda ended: ended,
    ),
]


class PasswordChanges:
    """user.change_password. A wrong old password counts as a failed login of the account (the
    ticket login's throttle, `accounts`), and a locked account may not try: a stolen session
    must not be a way around the throttle to guess the password."""

    def __init__(self, service: DeviceService, pool: DBPool, accounts: LoginThrottle):
        self._service = service
        self._pool = pool
        self._accounts = accounts

    def register(self, session):
        return [session.register(self._handler(session), uris.USER_CHANGE_PASSWORD, options=REGISTER_OPTIONS)]

    def _handler(self, session):
        def change_password(*args, details, **kwargs):
            account = details.caller_authid
            if self._accounts.is_locked(account):
                return fail(ApplicationError(INVALID_ARGUMENT, "too many failed logins; try again later"))
            d = maybeDeferred(validation.CHANGE_PASSWORD.clean, args, kwargs)
            d.addCallback(lambda kw: self._pool.run(
                self._service.change_password, user=account, session_id=details.caller, **kw))  # fmt: skip
            d.addCallback(lambda ended: end_sessions(session, ended))
            d.addCallback(lambda _: None)

            def refused(failure):
                if failure.check(WrongPassword):
                    self._accounts.failed(account)
                return to_application_error(failure, uris.USER_CHANGE_PASSWORD)

            return d.addErrback(refused)

        return change_password


class DeviceLogins:
    """The router's side of a cryptosign login: the authenticator, and the joins it tells of."""

    def __init__(self, service: DeviceService, pool: DBPool):
        self._service = service
        self._pool = pool

    def register(self, session):
        return [
            # No throttle, so no state to keep in one process: any backend may answer.
            session.register(self.authenticate, uris.AUTHENTICATE_DEVICE, options=RegisterOptions(invoke="roundrobin")),
            session.subscribe(lambda details: self.joined(session, details), uris.SESSION_ON_JOIN),
        ]

    def authenticate(self, realm, authid, details):
        """The principal for a key, or one refusal (wamp.error.authentication_failed) for a key
        that is unknown, removed, expired, another user's or not a key at all."""
        key = valid_public_key((details.get("authextra") or {}).get("pubkey"))
        if key is None or not isinstance(authid, str):
            return fail(ApplicationError(AUTHENTICATION_FAILED, REFUSED))
        d = self._pool.run(self._service.authenticate_device, username=authid.strip(), public_key=key)
        # "extra" is the session's authextra (WELCOME's, and on_join's): how joined() knows the device.
        d.addCallback(lambda user: {"pubkey": key, "authid": user["authid"], "role": user["role"],
                                    "extra": {"pubkey": key}})  # fmt: skip

        def refused(failure):
            if failure.check(AuthenticationFailed):
                raise ApplicationError(AUTHENTICATION_FAILED, REFUSED)
            return to_application_error(failure, uris.AUTHENTICATE_DEVICE)

        return d.addErrback(refused)

    def joined(self, session, details: dict):
        """A session joined: if it logged in with a device, the device was used; if the device was
        removed between the login's HELLO and its join, the session is ended at once."""
        key = (details.get("authextra") or {}).get("pubkey")
        if details.get("authmethod") not in (CRYPTOSIGN, PROXIED) or details.get("authrole") not in USER_ROLES or key is None:
            return None
        session_id = details["session"]
        d = self._pool.run(self._service.device_joined, username=details["authid"], public_key=key, session_id=session_id)
        d.addCallback(lambda recorded: None if recorded else end_sessions(session, [session_id]))
        d.addErrback(lambda failure: log.failure("could not record the join of {session_id}", failure, session_id=session_id))
        return d
