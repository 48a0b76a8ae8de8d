"""Runs inside the Crossbar router worker: who joins the backend port (WAMP-cryptosign over TCP) as
`backend`. Only a key the router was given; the public port never asks this (config.yaml).

Why a "function" authenticator. Crossbar's static cryptosign principals hold their
authorized_keys in the node config, which substitutes no environment variable into a list and
reads no file, and the keys are the operator's, given at start (TAXI_BACKEND_KEYS_FILE or
TAXI_BACKEND_KEYS). A "dynamic" authenticator is a procedure some session must register on
the realm before the first backend joins. A "function" authenticator is neither: Crossbar
imports `create` below in this worker at the first cryptosign login and calls what it returns,
a plain function call for each HELLO (crossbar/router/auth/pending.py, _authenticator_for_name;
cryptosign.py, hello). Nothing is registered, so no session can call it.

What Crossbar does with the answer (cryptosign.py): the principal's `pubkey` is the key the
client's signature of a fresh challenge is then checked against, so the client must hold that
key's private half; `authid`, `role` and `realm` are what the session becomes, whatever it
asked for. A refusal is an ApplicationError, which Crossbar sends the client as its reason.

The keys are the launcher's, in TAXI_BACKEND_KEYS (taxi/supervisor.py): it has read and
checked the file, so a bad list stopped the start instead of reaching a login here.
"""

from __future__ import annotations

import os

from autobahn.wamp.exception import ApplicationError

from taxi_core.backend_keys import authid_for, parse_keys

from . import uris

BACKEND_ROLE = "backend"
REFUSED = ApplicationError.AUTHENTICATION_FAILED


class BackendKeys:
    def __init__(self, keys):
        self._keys = frozenset(keys)

    def authenticate(self, realm: str, authid: str | None, details: dict) -> dict:
        """The principal for the key the client announced (authextra.pubkey), if it is listed."""
        extra = details.get("authextra") or {}
        key = extra.get("pubkey")
        if not isinstance(key, str) or key.lower() not in self._keys:
            # The same words for an unlisted key and for none: nothing to learn by trying.
            raise ApplicationError(REFUSED, "this key is not one of the router's backend keys")
        key = key.lower()
        return {"pubkey": key, "authid": authid_for(key), "role": BACKEND_ROLE, "realm": uris.REALM}


def create(config: dict, controller=None):
    """Crossbar's factory (config.yaml: `create: components.backend_keys.create`), called once per
    worker; the worker inherits the launcher's environment."""
    return BackendKeys(parse_keys(os.environ.get("TAXI_BACKEND_KEYS", ""))).authenticate
