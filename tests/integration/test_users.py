"""Signing up and logging in."""

from __future__ import annotations

import argon2
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from taxi_core.domain import AuthenticationFailed, UsernameTaken
from taxi_core.models import User
from taxi_core.services import TaxiService

USER_KEYS = {"id", "username", "first_name", "last_name", "role"}


def keys_and_values(value):
    """Every dict key and every leaf value anywhere inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys_and_values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from keys_and_values(item)
    else:
        yield value


def assert_reveals_no_password(value, password: str):
    for found in map(str, keys_and_values(value)):
        assert not any(word in found.lower() for word in ("password", "hash", "$argon2")), found
        assert password not in found


def test_a_new_user_gets_back_their_public_profile(service, password):
    user = service.signup(username="rosa", password=password, role="rider", first_name="Rosa", last_name="Parks")
    assert set(user) == USER_KEYS
    assert (user["username"], user["first_name"], user["last_name"], user["role"]) == ("rosa", "Rosa", "Parks", "rider")
    assert isinstance(user["id"], int)
    assert_reveals_no_password(user, password)


def test_names_are_optional_and_default_to_empty(service, password):
    user = service.signup(username="dan", password=password, role="driver")
    assert (user["first_name"], user["last_name"], user["role"]) == ("", "", "driver")


def test_the_password_is_stored_only_as_an_argon2id_hash(database, rider, password):
    with database.unit_of_work(write=False) as session:
        stored = session.scalar(select(User.password_hash).where(User.username == rider))
    assert stored.startswith("$argon2id$")
    assert password not in stored


def test_signing_up_with_a_taken_username_is_refused(service, rider, refused):
    with refused(UsernameTaken):
        service.signup(username=rider, password="another password", role="driver")


def test_of_many_simultaneous_sign_ups_for_one_name_exactly_one_wins(service, database, run_together, password):
    def sign_up_as(first_name):
        return lambda: service.signup(username="popular", password=password, role="rider", first_name=first_name)

    results = run_together([sign_up_as(f"person {i}") for i in range(12)])
    winners = [result for result in results if isinstance(result, dict)]
    assert len(winners) == 1, results
    assert [type(result) for result in results if result is not winners[0]] == [UsernameTaken] * 11
    with database.unit_of_work(write=False) as session:
        stored = session.scalars(select(User.first_name).where(User.username == "popular")).all()
    assert stored == [winners[0]["first_name"]]


def test_a_user_logs_in_with_the_right_password(service, rider, password):
    user = service.authenticate(username=rider, password=password)
    assert set(user) == USER_KEYS
    assert (user["username"], user["role"]) == (rider, "rider")
    assert_reveals_no_password(user, password)


@pytest.mark.parametrize(
    "wrong",
    ["wrong password", "CORRECT HORSE BATTERY", "correct horse battery ", ""],
    ids=["another", "upper-case", "trailing-space", "empty"],
)
def test_a_wrong_password_is_refused(service, rider, wrong, refused):
    with refused(AuthenticationFailed):
        service.authenticate(username=rider, password=wrong)


def test_an_unknown_user_is_refused_exactly_like_a_wrong_password(service, rider, password):
    refusals = []
    for username, attempt in ((rider, "wrong password"), ("nobody", password), ("nobody", "wrong password")):
        with pytest.raises(AuthenticationFailed) as refusal:
            service.authenticate(username=username, password=attempt)
        refusals.append(str(refusal.value))
    assert len(set(refusals)) == 1


class CountingHasher(PasswordHasher):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


def test_an_unknown_user_costs_one_password_check_just_like_a_known_one(database, clock, rider, password):
    hasher = CountingHasher.from_parameters(argon2.profiles.CHEAPEST)
    service = TaxiService(database, clock=clock, hasher=hasher)
    for username in (rider, "nobody"):
        with pytest.raises(AuthenticationFailed):
            service.authenticate(username=username, password="wrong password")
    assert hasher.verified == 2
