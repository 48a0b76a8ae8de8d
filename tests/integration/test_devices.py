"""Device keys' use cases on SQLite and PostgreSQL (taxi_core.device_services): adding, listing
and removing devices, the limit, expiry, what a cryptosign login asks and tells, and changing
the password. Time is the fake clock's."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from taxi_core.device_services import DeviceService
from taxi_core.devices import MAX_DEVICES, SESSIONS_KEPT, DevicePolicy
from taxi_core.domain import AuthenticationFailed, DeviceNotFound, InvalidArgument, WrongPassword
from taxi_core.models import Device, DeviceSession

DAY = 24 * 3600


def new_key() -> str:
    return os.urandom(32).hex()


@pytest.fixture
def devices(database, clock, password_hasher) -> DeviceService:
    return DeviceService(database, clock=clock, hasher=password_hasher, policy=DevicePolicy())


@pytest.fixture
def key() -> str:
    return new_key()


def table_sizes(database) -> tuple[int, int]:
    with database.unit_of_work(write=False) as session:
        return (session.scalar(select(func.count()).select_from(Device)),
                session.scalar(select(func.count()).select_from(DeviceSession)))  # fmt: skip


def test_an_added_device_is_listed_with_its_name_and_when_it_stops_working(devices, rider, key, clock):
    added = devices.add_device(user=rider, public_key=key, name="phone")
    assert added == {"public_key": key, "name": "phone", "created": clock().isoformat(), "last_used": None,
                     "expires": (clock() + DevicePolicy().ttl).isoformat()}  # fmt: skip
    assert devices.devices(user=rider) == [added]


def test_a_user_sees_only_his_own_devices(devices, rider, other_rider, key):
    devices.add_device(user=rider, public_key=key)
    theirs = devices.add_device(user=other_rider, public_key=new_key())
    assert devices.devices(user=other_rider) == [theirs]


def test_adding_one_s_own_key_again_gives_the_device_back_unchanged(devices, rider, key, clock):
    first = devices.add_device(user=rider, public_key=key, name="phone")
    clock.advance(60)
    assert devices.add_device(user=rider, public_key=key, name="another name") == first
    assert len(devices.devices(user=rider)) == 1


def test_a_key_another_user_holds_is_an_invalid_argument(devices, rider, driver, key, database):
    devices.add_device(user=rider, public_key=key)
    with pytest.raises(InvalidArgument, match="another user"):
        devices.add_device(user=driver, public_key=key)
    assert devices.devices(user=driver) == []
    assert table_sizes(database) == (1, 0)


def test_a_user_may_hold_at_most_the_limit_of_devices(devices, rider, other_rider):
    for _ in range(MAX_DEVICES):
        devices.add_device(user=rider, public_key=new_key())
    with pytest.raises(InvalidArgument, match=f"at most {MAX_DEVICES} devices"):
        devices.add_device(user=rider, public_key=new_key())
    devices.add_device(user=other_rider, public_key=new_key())  # the limit is each user's
    devices.remove_device(user=rider, public_key=devices.devices(user=rider)[0]["public_key"])
    devices.add_device(user=rider, public_key=new_key())


def test_two_adds_of_one_key_at_once_give_it_to_one_user_only(devices, rider, driver, key, run_together):
    outcomes = run_together([lambda: devices.add_device(user=rider, public_key=key),
                             lambda: devices.add_device(user=driver, public_key=key)])  # fmt: skip
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["InvalidArgument", "dict"]
    assert len(devices.devices(user=rider)) + len(devices.devices(user=driver)) == 1


def test_a_device_logs_in_as_its_user_with_the_user_s_role(devices, rider, driver, key):
    devices.add_device(user=driver, public_key=key)
    assert devices.authenticate_device(username=driver, public_key=key) == {"authid": driver, "role": "driver"}


@pytest.mark.parametrize("case", ["unknown key", "another user's key", "removed key", "expired key"])
def test_every_key_that_may_not_log_in_gets_one_and_the_same_refusal(devices, rider, other_rider, key, clock, case):
    devices.add_device(user=other_rider if case == "another user's key" else rider, public_key=key)
    if case == "unknown key":
        key = new_key()
    elif case == "removed key":
        devices.remove_device(user=rider, public_key=key)
    elif case == "expired key":
        clock.advance(30 * DAY)
    with pytest.raises(AuthenticationFailed) as refusal:
        devices.authenticate_device(username=rider, public_key=key)
    assert str(refusal.value) == "unknown device key"


def test_only_a_session_that_joined_refreshes_its_device(devices, rider, key, clock):
    devices.add_device(user=rider, public_key=key)
    clock.advance(29 * DAY)
    devices.authenticate_device(username=rider, public_key=key)  # a HELLO: the signature is yet to come
    assert devices.devices(user=rider)[0]["last_used"] is None
    assert devices.device_joined(username=rider, public_key=key, session_id=101)
    assert devices.devices(user=rider)[0]["last_used"] == clock().isoformat()
    clock.advance(29 * DAY)  # 58 days after it was added, 29 after it was used
    assert devices.authenticate_device(username=rider, public_key=key)["authid"] == rider


def test_a_dead_device_is_not_listed_and_no_longer_takes_a_place(devices, rider, clock):
    for _ in range(MAX_DEVICES):
        devices.add_device(user=rider, public_key=new_key())
    clock.advance(30 * DAY)
    assert devices.devices(user=rider) == []
    devices.add_device(user=rider, public_key=new_key())
    assert len(devices.devices(user=rider)) == 1


def test_removing_a_device_returns_the_sessions_that_logged_in_with_it_and_no_others(devices, rider, key, database):
    devices.add_device(user=rider, public_key=key)
    other = new_key()
    devices.add_device(user=rider, public_key=other)
    for session_id in (1, 2):
        devices.device_joined(username=rider, public_key=key, session_id=session_id)
    devices.device_joined(username=rider, public_key=other, session_id=3)
    assert sorted(devices.remove_device(user=rider, public_key=key)) == [1, 2]
    assert [d["public_key"] for d in devices.devices(user=rider)] == [other]
    assert table_sizes(database) == (1, 1)


def test_another_user_s_device_or_an_unknown_one_cannot_be_removed(devices, rider, other_rider, key, database):
    devices.add_device(user=rider, public_key=key)
    for user, public_key in ((other_rider, key), (rider, new_key())):
        with pytest.raises(DeviceNotFound):
            devices.remove_device(user=user, public_key=public_key)
    assert table_sizes(database) == (1, 0)


def test_a_join_with_a_device_removed_meanwhile_is_not_recorded_and_says_so(devices, rider, key, database):
    devices.add_device(user=rider, public_key=key)
    devices.authenticate_device(username=rider, public_key=key)
    devices.remove_device(user=rider, public_key=key)
    assert devices.device_joined(username=rider, public_key=key, session_id=7) is False
    assert table_sizes(database) == (0, 0)


def test_the_same_join_told_to_every_backend_is_recorded_once(devices, rider, key, database, run_together):
    devices.add_device(user=rider, public_key=key)
    told = run_together([lambda: devices.device_joined(username=rider, public_key=key, session_id=9)] * 4)
    assert told == [True] * 4
    assert table_sizes(database) == (1, 1)


def test_a_device_keeps_only_its_latest_sessions(devices, rider, key, clock):
    devices.add_device(user=rider, public_key=key)
    for session_id in range(SESSIONS_KEPT + 5):
        clock.advance(1)
        devices.device_joined(username=rider, public_key=key, session_id=session_id)
    assert sorted(devices.remove_device(user=rider, public_key=key)) == list(range(5, SESSIONS_KEPT + 5))


def test_changing_the_password_removes_every_device_and_returns_their_sessions_but_the_caller_s(
    devices, service, rider, key, password, database
):
    devices.add_device(user=rider, public_key=key)
    devices.add_device(user=rider, public_key=(other := new_key()))
    devices.device_joined(username=rider, public_key=key, session_id=1)
    devices.device_joined(username=rider, public_key=other, session_id=2)
    ended = devices.change_password(user=rider, old_password=password, new_password="a new passphrase", session_id=2)
    assert ended == [1]
    assert devices.devices(user=rider) == []
    assert table_sizes(database) == (0, 0)
    assert service.authenticate(username=rider, password="a new passphrase")["username"] == rider
    with pytest.raises(AuthenticationFailed):
        service.authenticate(username=rider, password=password)


def test_a_wrong_old_password_changes_nothing(devices, service, rider, key, password, database):
    devices.add_device(user=rider, public_key=key)
    with pytest.raises(WrongPassword):
        devices.change_password(user=rider, old_password="not the password", new_password="a new passphrase")
    assert service.authenticate(username=rider, password=password)["username"] == rider
    assert table_sizes(database) == (1, 0)


def test_of_two_password_changes_at_once_from_the_same_old_password_one_wins(devices, service, rider, password,
                                                                               run_together):  # fmt: skip
    outcomes = run_together([
        lambda: devices.change_password(user=rider, old_password=password, new_password="first new password"),
        lambda: devices.change_password(user=rider, old_password=password, new_password="second new password"),
    ])  # fmt: skip
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["WrongPassword", "list"]
    winner = ["first new password", "second new password"][outcomes.index([])]
    assert service.authenticate(username=rider, password=winner)["username"] == rider
