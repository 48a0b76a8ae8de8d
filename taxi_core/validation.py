"""Checks on what a client sends, before anything touches the database.

Arguments arrive from the network as whatever a client chose to send, so each use case
declares the exact keyword arguments it takes and everything else is refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .domain import InvalidArgument, Role, TripStatus
from .geo import Point
from .limits import ADDRESS_MAX, DEVICE_NAME_MAX, NAME_MAX, PUBLIC_KEY_LENGTH, REQUEST_ID_MAX, USERNAME_MAX

PASSWORD_MIN = 8
PASSWORD_MAX = 256


@dataclass(frozen=True)
class Text:
    min_length: int = 1
    max_length: int = 255
    pattern: re.Pattern | None = None
    choices: frozenset[str] | None = None
    strip: bool = True

    def clean(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidArgument(f"{name} must be a string")
        if self.strip:
            value = value.strip()
        if "\x00" in value or not _encodes_as_utf8(value):
            raise InvalidArgument(f"{name} contains characters that are not allowed")
        if not self.min_length <= len(value) <= self.max_length:
            raise InvalidArgument(f"{name} must be {self.min_length} to {self.max_length} characters long")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise InvalidArgument(f"{name} is not well formed")
        if self.choices is not None and value not in self.choices:
            raise InvalidArgument(f"{name} must be one of {', '.join(sorted(self.choices))}")
        return value


@dataclass(frozen=True)
class Flag:
    def clean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidArgument(f"{name} must be true or false")
        return value


@dataclass(frozen=True)
class Number:
    """A finite number from min to max: an integer or a float, never a boolean."""

    min: float
    max: float

    def clean(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidArgument(f"{name} must be a number")
        # Compared before float(): an integer too big for a float is out of range, not an OverflowError.
        if (isinstance(value, float) and not math.isfinite(value)) or not self.min <= value <= self.max:
            raise InvalidArgument(f"{name} must be a number from {self.min:g} to {self.max:g}")
        return float(value)


LATITUDE = Number(-90, 90)
LONGITUDE = Number(-180, 180)
POSITION = {"lat": LATITUDE, "lng": LONGITUDE}


@dataclass(frozen=True)
class Location:
    """{"lat": ..., "lng": ...}: exactly these two keys, in degrees."""

    def clean(self, name: str, value: Any) -> Point:
        if not isinstance(value, dict) or set(value) != set(POSITION):
            raise InvalidArgument(f'{name} must be {{"lat": ..., "lng": ...}}')
        return Point(*(field.clean(f"{name}.{key}", value[key]) for key, field in POSITION.items()))


def _encodes_as_utf8(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800") that no database can store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Arguments:
    required: Mapping[str, Text | Flag | Number | Location]
    optional: Mapping[str, Text | Flag | Number | Location]

    def clean(self, args: tuple, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        if args:
            raise InvalidArgument("arguments must be given by keyword")
        unknown = set(kwargs) - set(self.required) - set(self.optional)
        if unknown:
            raise InvalidArgument(f"unexpected argument(s): {', '.join(sorted(map(str, unknown)))}")
        missing = set(self.required) - set(kwargs)
        if missing:
            raise InvalidArgument(f"missing argument(s): {', '.join(sorted(missing))}")
        fields = {**self.required, **self.optional}
        return {name: fields[name].clean(name, value) for name, value in kwargs.items()}


NK = Text(min_length=32, max_length=32, pattern=re.compile(r"[0-9a-f]{32}"))
ADDRESS = Text(max_length=ADDRESS_MAX)
NAME = Text(min_length=0, max_length=NAME_MAX)

SIGNUP = Arguments(
    required={
        "username": Text(max_length=USERNAME_MAX, pattern=re.compile(r"[\w.@+-]+")),
        # A password is taken exactly as typed: spaces are part of it.
        "password": Text(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, strip=False),
        "role": Text(choices=frozenset(r.value for r in Role)),
    },
    optional={"first_name": NAME, "last_name": NAME},
)
# A login's ticket credential: the sign-up's username and password, checked the same way.
CREDENTIALS = Arguments(
    required={"username": SIGNUP.required["username"], "password": SIGNUP.required["password"]},
    optional={},
)
TRIP_REQUEST = Arguments(
    required={"pick_up_address": ADDRESS, "drop_off_address": ADDRESS},
    optional={"request_id": Text(max_length=REQUEST_ID_MAX, strip=False), "pick_up_location": Location()},
)
TRIP_UPDATE = Arguments(
    required={"nk": NK, "status": Text(choices=frozenset(s.value for s in TripStatus))},
    optional={},
)
TRIP_BY_NK = Arguments(required={"nk": NK}, optional={})
TRIP_LIST = Arguments(required={}, optional={"active": Flag()})
NO_ARGUMENTS = Arguments(required={}, optional={})
DRIVER_LOCATE = Arguments(required=POSITION, optional={})

# A device's Ed25519 public key: 32 bytes in lower-case hex, as Autobahn|Python's and
# Autobahn|JS's CryptosignKey give it (and as the router reads authextra.pubkey). Not trimmed:
# a key with spaces around it is not the key the router would check.
PUBLIC_KEY = Text(
    min_length=PUBLIC_KEY_LENGTH, max_length=PUBLIC_KEY_LENGTH, pattern=re.compile(r"[0-9a-f]+"), strip=False
)
ADD_DEVICE = Arguments(
    required={"public_key": PUBLIC_KEY}, optional={"name": Text(min_length=0, max_length=DEVICE_NAME_MAX)}
)
REMOVE_DEVICE = Arguments(required={"public_key": PUBLIC_KEY}, optional={})
# The old password is checked against the hash, so any text will do; the new one follows sign-up's rules.
CHANGE_PASSWORD = Arguments(
    required={"old_password": Text(min_length=0, max_length=PASSWORD_MAX, strip=False),
              "new_password": SIGNUP.required["password"]},
    optional={},
)  # fmt: skip
