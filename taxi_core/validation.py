"""Checks on what a client sends, before anything touches the database.

Arguments arrive from the network as whatever a client chose to send, so each use case
declares the exact keyword arguments it takes and everything else is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .domain import InvalidArgument, Role, TripStatus
from .models import ADDRESS_MAX, NAME_MAX, REQUEST_ID_MAX, USERNAME_MAX

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


def _encodes_as_utf8(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800") that no database can store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Arguments:
    required: Mapping[str, Text | Flag]
    optional: Mapping[str, Text | Flag]

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
    optional={"request_id": Text(max_length=REQUEST_ID_MAX, strip=False)},
)
TRIP_UPDATE = Arguments(
    required={"nk": NK, "status": Text(choices=frozenset(s.value for s in TripStatus))},
    optional={},
)
TRIP_BY_NK = Arguments(required={"nk": NK}, optional={})
TRIP_LIST = Arguments(required={}, optional={"active": Flag()})
NO_ARGUMENTS = Arguments(required={}, optional={})
