"""The wire shape of users, trips, trip events and devices: the one place that turns rows into plain dicts."""

from __future__ import annotations

import datetime as dt

from .domain import TripStatus
from .models import Device, Trip, TripEvent, User

RADIUS_DECIMALS = 3  # metres: more would only tell where a driver is


def user_view(user: User) -> dict:
    # Never the password hash: this dict is all that leaves taxi_core about a user.
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
    }


def trip_view(trip: Trip) -> dict:
    return {
        "id": trip.id,
        "nk": trip.nk,
        "created": trip.created.isoformat(),
        "updated": trip.updated.isoformat(),
        "pick_up_address": trip.pick_up_address,
        "drop_off_address": trip.drop_off_address,
        "status": trip.status,
        "rider": user_view(trip.rider),
        "driver": user_view(trip.driver) if trip.driver is not None else None,
        # The seq of the trip's latest event: a client holding a trip drops any event or
        # answer about it whose seq is not greater (delivery is at least once).
        "seq": trip.seq,
        "pick_up_location": None if trip.pick_up_lat is None else {"lat": trip.pick_up_lat, "lng": trip.pick_up_lng},
        "dispatch": dispatch_view(trip),
    }


def dispatch_view(trip: Trip) -> dict | None:
    """How far the dispatch of a located request has got, for its rider: None without a location."""
    if trip.pick_up_lat is None:
        return None
    status = TripStatus(trip.status)
    if status is TripStatus.REQUESTED:
        state = "offering" if trip.offering else "searching"
    else:
        state = "expired" if status is TripStatus.EXPIRED else "done"
    radius = trip.dispatch_radius_km
    return {
        "round": trip.dispatch_round,
        "offered": trip.offered_count,
        "radius_km": None if radius is None else round(radius, RADIUS_DECIMALS),
        "expires": trip.expires_at.isoformat(),
        "state": state,
    }


def event_view(event: TripEvent) -> dict:
    return {
        "seq": event.seq,
        "status": event.status,
        "actor": {"authid": event.actor_authid, "role": event.actor_role},
        "session": event.session_id,
        "created": event.created.isoformat(),
    }


def device_view(device: Device, expires: dt.datetime) -> dict:
    """A device as its user sees it: never its user's id, and no secret (there is none: the
    private key never leaves the device). `expires`: when it stops working unless used."""
    return {
        "public_key": device.public_key,
        "name": device.name,
        "created": device.created.isoformat(),
        "last_used": None if device.last_used is None else device.last_used.isoformat(),
        "expires": expires.isoformat(),
    }
