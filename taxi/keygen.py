"""`taxi keygen [PATH]`: a backend's Ed25519 key pair for WAMP-cryptosign.

PATH gets the private key (its 32-byte seed as 64 hex characters, what Autobahn's cryptosign
takes), made 0600 from its first byte on, as ssh-keygen does: it is the backend's whole
credential. PATH.pub gets the public key, 64 hex characters, the line the router's key list
takes (taxi_core/backend_keys.py). An existing file is never overwritten: a key that other
hosts list is not replaced by accident.
"""

from __future__ import annotations

import os

from nacl.signing import SigningKey

from taxi_core.backend_keys import authid_for

DEFAULT_PATH = "taxi-backend.key"


class KeyFileExists(FileExistsError):
    pass


def write_key_pair(path: str) -> str:
    """Writes a fresh pair to `path` and `path`.pub; returns the public key (hex)."""
    for taken in (path, public_path(path)):
        if os.path.lexists(taken):
            raise KeyFileExists(f"{taken} exists; remove it or choose another PATH")
    key = SigningKey.generate()
    public = key.verify_key.encode().hex()
    _write(path, key.encode().hex() + "\n", mode=0o600)
    _write(public_path(path), public + "\n", mode=0o644)
    return public


def public_path(path: str) -> str:
    return path + ".pub"


def usage(path: str, public: str) -> str:
    """What `taxi keygen` prints: the public key alone on its first line (for scripts), then how to use it."""
    return "\n".join(
        [
            public,
            f"taxi keygen: wrote the private key to {path} (0600: it is this backend's credential, keep it on",
            f"its host) and the public key above to {public_path(path)}. The backend joins as {authid_for(public)}:",
            "  on the router's host, add the public key as a line of the file TAXI_BACKEND_KEYS_FILE names",
            "  (or to TAXI_BACKEND_KEYS) and restart `taxi router` (or `taxi run`) with TAXI_BACKEND_PORT set;",
            f"  on the backend's host: TAXI_BACKEND_KEY_FILE={path} taxi backend --router rs://ROUTER-HOST:PORT",
        ]
    )


def _write(path: str, text: str, mode: int) -> None:
    # O_EXCL: never through a file (or a link) that appeared since the check above.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text)
