"""Fingerprints of the Crossbar code taxi reaches into (the router guard, the retention): an
upgrade of Crossbar that changes any of it fails a test until someone has read the new code."""

from __future__ import annotations

import hashlib
import inspect


def fingerprint(method) -> str:
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()[:16]


def assert_unchanged(method, expected: str, *, read_against: str) -> None:
    assert fingerprint(method) == expected, (
        f"Crossbar's {method.__qualname__} changed: read it again against {read_against}, then update this fingerprint"
    )
