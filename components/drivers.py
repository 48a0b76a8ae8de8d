"""The driver.* procedures: a driver's position and availability (taxi_core.dispatching).

They run on a Dispatching, not the TaxiService, through the same TripProcedures machinery:
argument checks, the pool, the error mapping. Neither changes a trip, so neither publishes.
Only drivers may call them (components/auth.py's ROLE_RIGHTS).
"""

from __future__ import annotations

from taxi_core import validation

from . import uris
from .trips import Procedure

DRIVER_PROCEDURES = [
    Procedure(
        uris.DRIVER_LOCATE,
        validation.DRIVER_LOCATE,
        lambda dispatching, caller, kw: dispatching.locate(driver=caller.authid, **kw),
    ),
    Procedure(
        uris.DRIVER_OFFLINE,
        validation.NO_ARGUMENTS,
        lambda dispatching, caller, kw: dispatching.go_offline(driver=caller.authid, **kw),
    ),
]
