"""Device keys (WAMP-cryptosign): what a device is, how many a user may have, when one is dead.
Rules only, no I/O; time is passed in. The use cases are in taxi_core.device_services.

A device is an Ed25519 public key a user registered (user.add_device) so that it may log in
with a signature instead of the password: the private key never leaves the device, and the
router checks the signature itself (crossbar_config/config.yaml, authmethod cryptosign).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .domain import InvalidArgument
from .validation import PUBLIC_KEY

# Enough for a phone, a laptop and a few browsers each; a bound, so that one account cannot
# fill the table (nor the router's kill list on a password change).
MAX_DEVICES = 10
DEFAULT_TTL_DAYS = 30.0
# The sessions of a device that removal ends: the latest this many logins with it. Older ones
# are forgotten when a newer one is recorded, so the table stays bounded without a write on
# every session's leave; a device open in more tabs than this at once is not a device.
SESSIONS_KEPT = 32


@dataclass(frozen=True)
class DevicePolicy:
    ttl: dt.timedelta = dt.timedelta(days=DEFAULT_TTL_DAYS)
    max_devices: int = MAX_DEVICES

    def expires(self, *, created: dt.datetime, last_used: dt.datetime | None) -> dt.datetime:
        """When a device stops working: the TTL after its latest login or, never used, its
        registration. Only a successful login moves it on: the router has checked the signature."""
        return (last_used or created) + self.ttl

    def is_alive(self, *, created: dt.datetime, last_used: dt.datetime | None, now: dt.datetime) -> bool:
        return now < self.expires(created=created, last_used=last_used)

    def may_add(self, *, devices_now: int) -> bool:
        return devices_now < self.max_devices


def valid_public_key(value: object) -> str | None:
    """The key as the router will check it, or None for anything that is not one (a login's
    authextra.pubkey is whatever the client sent)."""
    try:
        return PUBLIC_KEY.clean("public_key", value)
    except InvalidArgument:
        return None
