"""The backends' public keys: who may join the router as `backend` over TCP (WAMP-cryptosign).

A list is text, one key a line: an Ed25519 public key as 64 hex characters (what `taxi keygen`
writes to PATH.pub), with `#` starting a comment to the end of its line and blank lines ignored,
as in an OpenSSH authorized_keys file. TAXI_BACKEND_KEYS holds such text itself (keys may also
be separated by spaces or commas there, which an environment variable on one line needs),
TAXI_BACKEND_KEYS_FILE names a file of it. Only the launcher reads the file (taxi/cli.py); it
hands the router the keys themselves (taxi/supervisor.py), so the router worker never reads a
file at a login, and a key file that cannot be read stops the start with one line.

Plain functions, no I/O but reading a key file: the launcher, the router component
(components/backend_keys.py) and the backend (components/backend_link.py) share them.
"""

from __future__ import annotations

import re

from nacl.signing import SigningKey

KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
# What Crossbar names a backend that joined with a key: it tells an operator which key it was
# (its first 8 hex characters, as `taxi keygen` prints them) without printing a whole key.
AUTHID_PREFIX = "backend-"


class BackendKeysUnusable(ValueError):
    """A list of backend keys taxi cannot use: `source` (a file, or TAXI_BACKEND_KEYS) and why."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def parse_keys(text: str, source: str = "TAXI_BACKEND_KEYS", separators: str = r"[\s,]+") -> tuple[str, ...]:
    """The keys in `text`, lower-cased, each once, in order; anything else is BackendKeysUnusable,
    naming the line, so that a typo never silently leaves a backend out (or lets one in)."""
    keys: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        for word in re.split(separators, line.split("#", 1)[0].strip()):
            if not word:
                continue
            if not KEY_PATTERN.fullmatch(word.lower()):
                raise BackendKeysUnusable(
                    source, f"line {number}: {shorten(word)!r} is not a public key (64 hex characters, from `taxi keygen`)"
                )
            keys[word.lower()] = None
    return tuple(keys)


def read_keys_file(path: str) -> tuple[str, ...]:
    """The keys in the file at `path`: one a line (a space inside a line is an error there)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise BackendKeysUnusable(path, getattr(error, "strerror", None) or str(error)) from error
    return parse_keys(text, source=path, separators=r"(?!)")


def read_private_key(path: str) -> str:
    """The private key (hex) in a file `taxi keygen` wrote; OSError if unreadable, ValueError if not a key."""
    with open(path, encoding="ascii", errors="replace") as file:
        seed = file.read().strip().lower()
    if not KEY_PATTERN.fullmatch(seed):
        raise ValueError(f"{path} is not a private key written by `taxi keygen` (64 hex characters)")
    return seed


def public_key_of(private_key: str) -> str:
    return SigningKey(bytes.fromhex(private_key)).verify_key.encode().hex()


def authid_for(key: str) -> str:
    return AUTHID_PREFIX + key[:8]


def shorten(word: str, length: int = 20) -> str:
    return word if len(word) <= length else word[:length] + "..."
