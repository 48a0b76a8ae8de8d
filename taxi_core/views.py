"""The wire shape of users and trips: the one place that turns rows into plain dicts."""

from __future__ import annotations

from .models import Trip, User


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
    }
