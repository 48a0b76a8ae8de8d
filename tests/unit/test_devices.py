"""The device rules (taxi_core.devices) with a fake clock, and what user.add_device,
user.remove_device and user.change_password take (taxi_core.validation)."""

from __future__ import annotations

import datetime as dt

import pytest

from taxi_core.config import Settings
from taxi_core.devices import MAX_DEVICES, DevicePolicy, valid_public_key
from taxi_core.domain import InvalidArgument
from taxi_core.validation import ADD_DEVICE, CHANGE_PASSWORD, REMOVE_DEVICE

from ..conftest import FakeClock

KEY = "0123456789abcdef" * 4
DAY = 24 * 3600
POLICY = DevicePolicy(ttl=dt.timedelta(days=30))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_device_never_used_works_until_the_ttl_after_it_was_added(clock):
    added = clock()
    clock.advance(30 * DAY - 1)
    assert POLICY.is_alive(created=added, last_used=None, now=clock())
    clock.advance(1)
    assert not POLICY.is_alive(created=added, last_used=None, now=clock())
    assert POLICY.expires(created=added, last_used=None) == added + dt.timedelta(days=30)


def test_each_login_gives_a_device_the_whole_ttl_again(clock):
    added = clock()
    clock.advance(29 * DAY)
    used = clock()
    clock.advance(29 * DAY)  # 58 days after it was added, 29 after its last login
    assert POLICY.is_alive(created=added, last_used=used, now=clock())
    clock.advance(DAY)
    assert not POLICY.is_alive(created=added, last_used=used, now=clock())


def test_a_user_may_add_devices_up_to_the_limit_and_no_more():
    assert MAX_DEVICES == 10
    assert DevicePolicy().may_add(devices_now=MAX_DEVICES - 1)
    assert not DevicePolicy().may_add(devices_now=MAX_DEVICES)
    assert not DevicePolicy(max_devices=2).may_add(devices_now=2)


def test_the_ttl_is_thirty_days_unless_taxi_device_ttl_days_says_otherwise():
    assert Settings.from_environ({}).devices.ttl == dt.timedelta(days=30)
    assert Settings.from_environ({"TAXI_DEVICE_TTL_DAYS": "0.5"}).devices.ttl == dt.timedelta(hours=12)
    for wrong in ("-1", "inf", "nan", "a month"):
        with pytest.raises(ValueError, match="TAXI_DEVICE_TTL_DAYS"):
            Settings.from_environ({"TAXI_DEVICE_TTL_DAYS": wrong})


@pytest.mark.parametrize(
    "key",
    [KEY.upper(), KEY[:-1], KEY + "0", f" {KEY}", f"{KEY} ", "g" * 64, "", None, 7, b"\x00" * 32, ["0" * 64]],
)
def test_a_public_key_is_sixty_four_lower_case_hex_digits_and_nothing_else(key):
    assert valid_public_key(KEY) == KEY
    assert valid_public_key(key) is None
    with pytest.raises(InvalidArgument):
        ADD_DEVICE.clean((), {"public_key": key})
    with pytest.raises(InvalidArgument):
        REMOVE_DEVICE.clean((), {"public_key": key})


def test_a_device_s_name_is_optional_trimmed_and_at_most_a_hundred_characters():
    assert ADD_DEVICE.clean((), {"public_key": KEY}) == {"public_key": KEY}
    assert ADD_DEVICE.clean((), {"public_key": KEY, "name": "  Ada's phone "})["name"] == "Ada's phone"
    assert ADD_DEVICE.clean((), {"public_key": KEY, "name": " "})["name"] == ""
    assert ADD_DEVICE.clean((), {"public_key": KEY, "name": "n" * 100})["name"] == "n" * 100
    for wrong in ("n" * 101, "nul\x00", 5, None):
        with pytest.raises(InvalidArgument, match="name"):
            ADD_DEVICE.clean((), {"public_key": KEY, "name": wrong})


def test_the_caller_of_a_device_procedure_is_the_router_s_never_an_argument():
    for extra in ("user", "username", "authid"):
        with pytest.raises(InvalidArgument, match=extra):
            ADD_DEVICE.clean((), {"public_key": KEY, extra: "bob"})
    with pytest.raises(InvalidArgument, match="keyword"):
        REMOVE_DEVICE.clean((KEY,), {})


def test_a_new_password_follows_sign_up_s_rules_and_both_are_taken_as_typed():
    assert CHANGE_PASSWORD.clean((), {"old_password": " old ", "new_password": " new one "}) == {
        "old_password": " old ",
        "new_password": " new one ",
    }
    for short_or_long in ("a" * 7, "a" * 257):
        with pytest.raises(InvalidArgument, match="new_password"):
            CHANGE_PASSWORD.clean((), {"old_password": "whatever", "new_password": short_or_long})
    with pytest.raises(InvalidArgument, match="old_password"):
        CHANGE_PASSWORD.clean((), {"new_password": "a" * 8})
